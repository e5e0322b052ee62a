{{/* vim: set filetype=mustache: */}}

{{- define "kubezone.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release name, or <release>-kubezone; 63 characters at most (DNS label). */}}
{{- define "kubezone.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kubezone.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kubezone.name" . }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end -}}

{{- define "kubezone.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name (.Chart.Version | replace "+" "_") | quote }}
{{ include "kubezone.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
{{- with .Values.customLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "kubezone.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kubezone.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "kubezone.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion -}}
{{- if .Values.image.registry -}}
{{- printf "%s/%s:%s" .Values.image.registry .Values.image.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* The zones as a YAML list of names without the trailing dot: `domain` may be a string
(names separated by spaces or commas, as k8s_gateway's Corefile line takes them) or a list. */}}
{{- define "kubezone.domains" -}}
{{- $raw := .Values.domain -}}
{{- if kindIs "string" $raw -}}
{{- $raw = splitList " " (replace "," " " $raw) -}}
{{- end -}}
{{- $domains := list -}}
{{- range $raw -}}
{{- $d := toString . | trim | lower | trimSuffix "." -}}
{{- if and $d (not (has $d $domains)) -}}
{{- $domains = append $domains $d -}}
{{- end -}}
{{- end -}}
{{- if not $domains -}}
{{- fail "domain is required: the zone(s) to serve, e.g. --set domain=example.com" -}}
{{- end -}}
{{- toYaml $domains -}}
{{- end -}}

{{/* <apex>: `serviceName.namespace` of this release's Service unless set. */}}
{{- define "kubezone.apex" -}}
{{- .Values.apex | default (printf "%s.%s" (include "kubezone.fullname" .) .Release.Namespace) -}}
{{- end -}}

{{/* Gateway API route Kinds; serving any of them needs their Gateways, ListenerSets and
Namespaces too (a listener's allowedRoutes may select namespaces by label). */}}
{{- define "kubezone.routeKinds" -}}
[httproute, grpcroute, tlsroute, tcproute, udproute]
{{- end -}}

{{/* The (lower-case) Kinds served, as a YAML list; empty means kubezone's default set. */}}
{{- define "kubezone.watched" -}}
{{- $known := list "httproute" "tlsroute" "grpcroute" "ingress" "service" "dnsendpoint" "tcproute" "udproute" "node" -}}
{{- $watched := list -}}
{{- range .Values.watchedResources -}}
{{- $kind := lower . -}}
{{- if not (has $kind $known) -}}
{{- fail (printf "watchedResources: %q is not one of HTTPRoute, TLSRoute, GRPCRoute, Ingress, Service, DNSEndpoint, TCPRoute, UDPRoute, Node" .) -}}
{{- end -}}
{{- $watched = append $watched $kind -}}
{{- end -}}
{{- toYaml $watched -}}
{{- end -}}

{{/* The ClusterRole's rules: those of files/clusterrole.yaml, keeping only the resources of the
watched Kinds (all of them when watchedResources is empty), Namespaces when routes or a
namespaceSelector need their labels, EndpointSlices and Nodes when Services are watched (NodePort
and headless Services answer with them), and Events when `events` is on. Services are always kept:
the nameserver glue is read from the apex Service. */}}
{{- define "kubezone.clusterRoleRules" -}}
{{- $file := .Files.Get "files/clusterrole.yaml" | fromYaml -}}
{{- $watched := include "kubezone.watched" . | fromYamlArray -}}
{{- $needed := list "services" -}}
{{- if not $watched -}}
{{- range $file.rules -}}
{{- $needed = concat $needed (without .resources "events") -}}
{{- end -}}
{{- else -}}
{{- $resourceOf := dict "httproute" "httproutes" "tlsroute" "tlsroutes" "grpcroute" "grpcroutes" "ingress" "ingresses" "service" "services" "dnsendpoint" "dnsendpoints" "tcproute" "tcproutes" "udproute" "udproutes" "node" "nodes" -}}
{{- range $watched -}}
{{- $needed = append $needed (get $resourceOf .) -}}
{{- end -}}
{{- range include "kubezone.routeKinds" . | fromYamlArray -}}
{{- if has . $watched -}}
{{- $needed = concat $needed (list "gateways" "listenersets" "namespaces") -}}
{{- end -}}
{{- end -}}
{{- if has "service" $watched -}}
{{- $needed = concat $needed (list "endpointslices" "nodes") -}}
{{- end -}}
{{- end -}}
{{- if (.Values.tenancy).namespaceSelector -}}
{{- $needed = append $needed "namespaces" -}}
{{- end -}}
{{- if .Values.events -}}
{{- $needed = append $needed "events" -}}
{{- end -}}
{{- $rules := list -}}
{{- range $file.rules -}}
{{- $kept := list -}}
{{- range .resources -}}
{{- if has . $needed -}}
{{- $kept = append $kept . -}}
{{- end -}}
{{- end -}}
{{- if $kept -}}
{{- $rules = append $rules (merge (dict "resources" $kept) (omit . "resources")) -}}
{{- end -}}
{{- end -}}
{{- toYaml $rules -}}
{{- end -}}

{{/* Fallthrough of one zone: true, a list of names, or false. Listed names go to the domains
that contain them. Usage: include "kubezone.fallthrough" (list . "example.com") */}}
{{- define "kubezone.fallthrough" -}}
{{- $root := index . 0 -}}
{{- $domain := index . 1 -}}
{{- $ft := $root.Values.fallthrough -}}
{{- if not $ft.enabled -}}
false
{{- else if not $ft.zones -}}
true
{{- else -}}
{{- $zones := list -}}
{{- range $ft.zones -}}
{{- $z := toString . | lower | trimSuffix "." -}}
{{- if or (eq $z $domain) (hasSuffix (printf ".%s" $domain) $z) -}}
{{- $zones = append $zones $z -}}
{{- end -}}
{{- end -}}
{{- if $zones -}}
{{- toJson $zones -}}
{{- else -}}
false
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A zone's `push` section (and `serve`) from .Values.push; nothing while `server` is empty. */}}
{{- define "kubezone.push" -}}
{{- with .Values.push }}
{{- if .server }}
{{- if not .serve }}
serve: false
{{- end }}
push:
  server: {{ .server | quote }}
  key: {{ required "push.key: name a tsigKeys entry" .key | quote }}
  owner: {{ required "push.owner: the owner id of the ownership records" .owner | quote }}
  policy: {{ .policy | default "sync" }}
  interval: {{ .interval | default "60s" | quote }}
  {{- with .txtPrefix }}
  txtPrefix: {{ . | quote }}
  {{- end }}
  {{- with .txtSuffix }}
  txtSuffix: {{ . | quote }}
  {{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* A zone's `transfer` section from .Values.transfer; nothing while `allow` is empty. */}}
{{- define "kubezone.transfer" -}}
{{- with .Values.transfer }}
{{- if .allow }}
transfer:
  allow: {{ toJson .allow }}
  {{- with .keys }}
  keys: {{ toJson . }}
  {{- end }}
  {{- with .notify }}
  notify: {{ toJson . }}
  {{- end }}
  {{- with .journalBytes }}
  journalBytes: {{ int . }}
  {{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* `clusters`, checked, as a YAML list of {name, kubeconfig, key, secret, context, clients,
staleAfter, namespaces}: `kubeconfig` is the path its Secret is mounted at, empty for the local
cluster without a Secret (the in-cluster ServiceAccount). Empty when `clusters` is. */}}
{{- define "kubezone.clusters" -}}
{{- $local := .Values.localCluster | default "" | toString -}}
{{- $names := list -}}
{{- $clusters := list -}}
{{- range $i, $c := .Values.clusters | default list -}}
{{- if not (kindIs "map" $c) -}}
{{- fail (printf "clusters[%d]: an entry is a map with at least `name`, e.g. {name: west, kubeconfigSecret: {name: west-kubeconfig}}" $i) -}}
{{- end -}}
{{- $name := $c.name | default "" | toString -}}
{{- if not $name -}}
{{- fail (printf "clusters[%d] has no name: each cluster needs one, a DNS label used in its names (<service>.<namespace>.<cluster>.<zone>)" $i) -}}
{{- end -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]{0,53}[a-z0-9])?$" $name) -}}
{{- fail (printf "clusters[%d].name %q is not a lower-case DNS label of at most 55 characters (letters, digits, '-'; its volume is cluster-<name>)" $i $name) -}}
{{- end -}}
{{- if has $name $names -}}
{{- fail (printf "clusters[%d].name %q is used twice: each cluster needs its own name" $i $name) -}}
{{- end -}}
{{- $names = append $names $name -}}
{{- range $key, $_ := $c -}}
{{- if not (has $key (list "name" "kubeconfigSecret" "context" "clients" "staleAfter" "namespaces")) -}}
{{- fail (printf "clusters[%d] (%s): %q is not a key of a cluster (name, kubeconfigSecret, context, clients, staleAfter, namespaces)" $i $name $key) -}}
{{- end -}}
{{- end -}}
{{- $secret := $c.kubeconfigSecret | default dict -}}
{{- if not (kindIs "map" $secret) -}}
{{- fail (printf "clusters[%d] (%s): kubeconfigSecret is a map, {name: <Secret>, key: kubeconfig}" $i $name) -}}
{{- end -}}
{{- $entry := dict "name" $name "kubeconfig" "" -}}
{{- if $secret -}}
{{- $_ := set $entry "secret" (required (printf "clusters[%d] (%s): kubeconfigSecret.name: the Secret holding its kubeconfig" $i $name) $secret.name) -}}
{{- $_ := set $entry "key" ($secret.key | default "kubeconfig") -}}
{{- $_ := set $entry "kubeconfig" (printf "/etc/kubezone/clusters/%s/kubeconfig" $name) -}}
{{- else if not $local -}}
{{- fail (printf "clusters[%d] (%s) has no kubeconfigSecret: set localCluster: %s if kubezone runs in it (its ServiceAccount is used), else give it kubeconfigSecret: {name: <Secret>, key: kubeconfig}" $i $name $name) -}}
{{- else if ne $name $local -}}
{{- fail (printf "clusters[%d] (%s) has no kubeconfigSecret: only localCluster (%s) is reached as kubezone's ServiceAccount; another cluster needs kubeconfigSecret: {name: <Secret>, key: kubeconfig}" $i $name $local) -}}
{{- end -}}
{{- range $key := list "context" "staleAfter" -}}
{{- with get $c $key -}}
{{- $_ := set $entry $key (toString .) -}}
{{- end -}}
{{- end -}}
{{- range $key := list "clients" "namespaces" -}}
{{- with get $c $key -}}
{{- if not (kindIs "slice" .) -}}
{{- fail (printf "clusters[%d] (%s): %s is a list" $i $name $key) -}}
{{- end -}}
{{- $_ := set $entry $key . -}}
{{- end -}}
{{- end -}}
{{- $clusters = append $clusters $entry -}}
{{- end -}}
{{- if and $local (not (has $local $names)) -}}
{{- fail (printf "localCluster %q is not the name of an entry of clusters (%s)" $local (join ", " $names)) -}}
{{- end -}}
{{- toYaml $clusters -}}
{{- end -}}

{{/* A zone's `global` section from .Values.globalNames[<zone>]; nothing when unset. (Not
.Values.global: Helm shares that key with subcharts.)
Usage: include "kubezone.global" (list . "example.com") */}}
{{- define "kubezone.global" -}}
{{- $root := index . 0 -}}
{{- $domain := index . 1 -}}
{{- range $key, $g := $root.Values.globalNames | default dict -}}
{{- if eq (toString $key | lower | trimSuffix ".") $domain -}}
{{- with $g -}}
global:
  {{- with .selector }}
  selector: {{ . | quote }}
  {{- end }}
  {{- with .preference }}
  preference: {{ . }}
  {{- end }}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* kubezone's config file (README.md of the repository, "Configuration reference"). */}}
{{- define "kubezone.config" -}}
{{- $domains := include "kubezone.domains" . | fromYamlArray -}}
{{- $ft := .Values.fallthrough -}}
{{- if $ft.enabled -}}
{{- if not $ft.upstream -}}
{{- fail "fallthrough.enabled needs fallthrough.upstream: the forwarders (ip or ip:port) to send the names to" -}}
{{- end -}}
{{- range $ft.zones -}}
{{- $z := toString . | lower | trimSuffix "." -}}
{{- $inside := false -}}
{{- range $domains -}}
{{- if or (eq $z .) (hasSuffix (printf ".%s" .) $z) -}}
{{- $inside = true -}}
{{- end -}}
{{- end -}}
{{- if not $inside -}}
{{- fail (printf "fallthrough.zones: %q is in none of the domains %s" $z (join ", " $domains)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range $key, $g := .Values.globalNames | default dict -}}
{{- $z := toString $key | lower | trimSuffix "." -}}
{{- if not (has $z $domains) -}}
{{- fail (printf "globalNames: %q is not one of the domains %s" $key (join ", " $domains)) -}}
{{- end -}}
{{- if not (kindIs "map" ($g | default dict)) -}}
{{- fail (printf "globalNames.%s is a map, {selector: \"kubezone.io/global=true\", preference: local-first}" $key) -}}
{{- end -}}
{{- range $k, $_ := $g -}}
{{- if not (has $k (list "selector" "preference")) -}}
{{- fail (printf "globalNames.%s: %q is not a key (selector, preference)" $key $k) -}}
{{- end -}}
{{- end -}}
{{- with ($g | default dict).preference -}}
{{- if not (has . (list "local-first" "all")) -}}
{{- fail (printf "globalNames.%s.preference %q is not local-first or all" $key .) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $apex := include "kubezone.apex" . -}}
{{- $filters := .Values.filters | default dict -}}
# Generated by the kubezone Helm chart; every key is described in kubezone's README.
# [::] is IPv4 and IPv6: the pod answers on whichever families the cluster gives it.
listen: ["[::]:1053"]
http:
  listen: "[::]:8080"
  metrics: true
lameduckSeconds: {{ int .Values.lameduckSeconds }}
queryLog: {{ .Values.queryLog }}
tcp:
  maxConnections: {{ int ((.Values.tcp).maxConnections | default 1000) }}
{{- with .Values.rateLimit }}
{{- if .enabled }}
rateLimit:
  {{- toYaml (omit . "enabled") | nindent 2 }}
{{- end }}
{{- end }}
{{- with .Values.identity }}
{{- if .enabled }}
# The name is the pod's, from KUBEZONE_IDENTITY.
identity:
  nsid: {{ .nsid }}
  chaos: {{ .chaos }}
{{- end }}
{{- end }}
{{- with .Values.acl }}
{{- if .enabled }}
{{- if not .allow }}
{{- fail "acl.enabled needs acl.allow: the client networks that may query, e.g. [10.0.0.0/8]" }}
{{- end }}
acl:
  {{- toYaml (omit . "enabled") | nindent 2 }}
{{- end }}
{{- end }}
{{- with include "kubezone.clusters" . | fromYamlArray }}
# Several clusters: localCluster as the release's ServiceAccount, the others each from the
# kubeconfig in its Secret.
clusters:
{{- range . }}
  - name: {{ .name | quote }}
    {{- with .kubeconfig }}
    kubeconfig: {{ . | quote }}
    {{- end }}
    {{- with .context }}
    context: {{ . | quote }}
    {{- end }}
    {{- with .clients }}
    clients: {{ toJson . }}
    {{- end }}
    {{- with .staleAfter }}
    staleAfter: {{ . | quote }}
    {{- end }}
    {{- with .namespaces }}
    namespaces: {{ toJson . }}
    {{- end }}
{{- end }}
{{- with $.Values.localCluster }}
localCluster: {{ . | quote }}
{{- end }}
{{- else }}
# In-cluster, as the release's ServiceAccount.
kubernetes:
  events: {{ .Values.events }}
{{- end }}
{{- with $ft.upstream }}
upstream: {{ toJson . }}
{{- end }}
{{- with $ft.forwarding }}
forwarding: {{ toJson . }}
{{- end }}
zones:
{{- range $domains }}
  - zone: {{ . | quote }}
    ttl: {{ int $.Values.ttl }}
    apex: {{ $apex | quote }}
    {{- with $.Values.secondary }}
    secondary: {{ . | quote }}
    {{- end }}
    {{- with $.Values.secondaryGlue }}
    secondaryGlue: {{ toJson . }}
    {{- end }}
    {{- with $.Values.watchedResources }}
    resources: {{ toJson . }}
    {{- end }}
    {{- with $filters.ingressClasses }}
    ingressClasses: {{ toJson . }}
    {{- end }}
    {{- with $filters.gatewayClasses }}
    gatewayClasses: {{ toJson . }}
    {{- end }}
    {{- with $filters.serviceLabelSelectors }}
    serviceLabelSelectors: {{ toJson . }}
    {{- end }}
    {{- with $filters.annotationFilter }}
    annotationFilter: {{ . | quote }}
    {{- end }}
    {{- with $.Values.nameTemplate }}
    nameTemplate: {{ . | quote }}
    {{- end }}
    {{- with $.Values.nodeAddressType }}
    nodeAddressType: {{ . }}
    {{- end }}
    {{- with $.Values.gatewayConsent }}
    gatewayConsent: {{ . }}
    {{- end }}
    {{- with $.Values.tenancy }}
    {{- with .namespaces }}
    namespaces: {{ toJson . }}
    {{- end }}
    {{- with .namespaceSelector }}
    namespaceSelector: {{ . | quote }}
    {{- end }}
    {{- with .claims }}
    claims: {{ . }}
    {{- end }}
    {{- end }}
    fallthrough: {{ include "kubezone.fallthrough" (list $ .) }}
    {{- with $.Values.soa }}
    soa: {{ toJson . }}
    {{- end }}
    {{- with $.Values.nameservers }}
    nameservers: {{ toJson . }}
    {{- end }}
    {{- with (get ($.Values.records | default dict) .) }}
    records: {{ toJson . }}
    {{- end }}
    {{- with (include "kubezone.global" (list $ .) | trim) }}
    {{- . | nindent 4 }}
    {{- end }}
    {{- with (include "kubezone.transfer" $ | trim) }}
    {{- . | nindent 4 }}
    {{- end }}
    {{- with (include "kubezone.push" $ | trim) }}
    {{- . | nindent 4 }}
    {{- end }}
{{- end }}
{{- with .Values.transfer }}
{{- if and .catalog .catalog.enabled .allow }}
catalog:
  zone: {{ .catalog.zone | quote }}
  {{- include "kubezone.transfer" $ | trim | nindent 2 }}
{{- end }}
{{- end }}
{{- with .Values.tsigKeys }}
tsigKeys:
{{- range . }}
  - name: {{ .name | quote }}
    algorithm: {{ .algorithm | default "hmac-sha256" | quote }}
    secretFile: {{ printf "/etc/kubezone-tsig/%s/secret" .name | quote }}
{{- end }}
{{- end }}
{{- end -}}
