#!/bin/sh
# Generate benchmark data for kubezone, NSD and Knot: the same DNS names as Kubernetes
# manifests (for kubezone) and as an RFC 1035 zone file (for NSD and Knot).
#
# Usage:
#   bench/gen-data.sh N OUTDIR            write everything below into OUTDIR
#   bench/gen-data.sh --kubezone-config PORT DATADIR [HTTP_PORT]
#                                         print the kubezone config for DATADIR on 127.0.0.1:PORT
#                                         (with /readyz on 127.0.0.1:HTTP_PORT when given)
#
# Environment: QUERIES (default 100000) lines in queries.txt,
#              PER_FILE (default 1000) objects per manifest file,
#              PORT (default 5300) port written into OUTDIR/kubezone.yaml.
#
# OUTDIR gets:
#   manifests/objects-NNNN.yaml  N name-bearing objects, multi-document YAML (`---`), PER_FILE per file:
#                                40% LoadBalancer Services, 30% Ingresses, 30% HTTPRoutes
#   manifests/gateways.yaml      the Gateways the HTTPRoutes attach to (one `gw` per namespace,
#                                plus `shared` in `gateway-system`); they add no names
#   zone/bench.example.zone      the same N names and A records, plus SOA, NS ns1, glue
#   queries.txt                  dnsperf input: 90% A on existing names, 5% AAAA on the same
#                                names (NODATA), 5% non-existent names (NXDOMAIN); shuffled
#                                with a fixed-seed generator, so the same on every machine
#   checks.txt                   "name type rcode answer" lines for a correctness probe
#   expected-a.txt               "name ip" for all N names, sorted (for a full comparison)
#   kubezone.yaml                the kubezone config serving it on 127.0.0.1:$PORT
#
# Every object has exactly one DNS name and one IPv4 address, all names are distinct:
#   Service  <word>-<i>.<ns>.bench.example        status.loadBalancer.ingress[0].ip = 10.x.y.z
#   Ingress  <word>-<i>.bench.example             status.loadBalancer.ingress[0].ip = 10.x.y.z
#   HTTPRoute <word>-<i>.<ns>.apps.bench.example  the address of its parent Gateway (172.16.x.y
#                                                 for `gw` in its namespace, 172.31.255.254 for `shared`)
# with <ns> = team-NNNN, 100 objects per namespace, and i the object's global index.
# POSIX sh + awk only (mawk or gawk); no Python.
set -eu

ZONE=bench.example

# The kubezone config. This is the only place that knows its format.
# $1 = port, $2 = absolute data dir, $3 (optional) = port of the HTTP listener (/readyz),
# without metrics so that the answer path does the same work as NSD and Knot.
# lameduckSeconds: 0 so that SIGTERM stops it at once between runs.
kubezone_config() {
	cat <<EOF
listen: ["127.0.0.1:$1"]
zones:
  - zone: $ZONE
    ttl: 60
    apex: ns1
    glue: ["127.0.0.1"]
manifests: ["$2/manifests"]
lameduckSeconds: 0
EOF
	if [ -n "${3-}" ]; then
		printf 'http: {listen: "127.0.0.1:%s", metrics: false}\n' "$3"
	fi
}

usage() {
	echo "usage: $0 N OUTDIR | $0 --kubezone-config PORT DATADIR [HTTP_PORT]" >&2
	exit 2
}

if [ "${1-}" = "--kubezone-config" ]; then
	[ $# -eq 3 ] || [ $# -eq 4 ] || usage
	kubezone_config "$2" "$3" "${4-}"
	exit 0
fi

[ $# -eq 2 ] || usage
N=$1
OUT=$2
QUERIES=${QUERIES:-100000}
PER_FILE=${PER_FILE:-1000}
PORT=${PORT:-5300}
case $N in '' | *[!0-9]*) usage ;; esac
[ "$N" -ge 1 ] || usage
[ "$N" -le 16000000 ] || { echo "N must be at most 16000000" >&2; exit 2; }

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -rf "$OUT/manifests" "$OUT/zone"
mkdir -p "$OUT/manifests" "$OUT/zone"

LC_ALL=C awk -v N="$N" -v Q="$QUERIES" -v PER_FILE="$PER_FILE" -v OUT="$OUT" -v ZONE="$ZONE" '
# Park-Miller minimal standard generator: exact in double arithmetic on every awk.
function rnd(n) { seed = (seed * 16807) % 2147483647; return seed % n }
function ip10(i,  v) { v = i + 1; return sprintf("10.%d.%d.%d", int(v / 65536) % 256, int(v / 256) % 256, v % 256) }
function gwip(k,  v) { v = k + 1; return sprintf("172.%d.%d.%d", 16 + int(v / 65536), int(v / 256) % 256, v % 256) }
function nsname(k) { return sprintf("team-%04d", k) }
function uid(kind, i) { return sprintf("%08x-%04x-4%03x-8%03x-%012x", (i * 16807 + 12345) % 2147483647, kind, i % 4096, int(i / 4096) % 4096, i) }
function meta(name, ns, kind, i, labels, annotations) {
	printf "metadata:\n" > f
	if (annotations != "") printf "  annotations:\n%s", annotations > f
	printf "  creationTimestamp: \"2025-01-15T10:%02d:%02dZ\"\n", int(i / 60) % 60, i % 60 > f
	if (kind != 1) printf "  generation: 1\n" > f
	printf "  labels:\n%s", labels > f
	printf "  name: %s\n  namespace: %s\n  resourceVersion: \"%d\"\n  uid: %s\n", name, ns, 100000 + i, uid(kind, i) > f
}
function applabels(app, ns) {
	return sprintf("    app.kubernetes.io/name: %s\n    app.kubernetes.io/part-of: %s\n", app, ns)
}
function service(i, app, name, ns, ip,  cip) {
	printf "apiVersion: v1\nkind: Service\n" > f
	meta(name, ns, 1, i, applabels(app, ns), "")
	printf "spec:\n  allocateLoadBalancerNodePorts: true\n" > f
	cip = sprintf("10.96.%d.%d", int(i / 254) % 256, i % 254 + 1)
	printf "  clusterIP: %s\n  clusterIPs:\n  - %s\n", cip, cip > f
	printf "  externalTrafficPolicy: Cluster\n  internalTrafficPolicy: Cluster\n" > f
	printf "  ipFamilies:\n  - IPv4\n  ipFamilyPolicy: SingleStack\n" > f
	printf "  ports:\n  - name: http\n    nodePort: %d\n    port: 80\n    protocol: TCP\n    targetPort: 8080\n", 30000 + i % 2768 > f
	printf "  - name: https\n    nodePort: %d\n    port: 443\n    protocol: TCP\n    targetPort: 8443\n", 30000 + (i + 1384) % 2768 > f
	printf "  selector:\n    app.kubernetes.io/name: %s\n  sessionAffinity: None\n  type: LoadBalancer\n", app > f
	printf "status:\n  loadBalancer:\n    ingress:\n    - ip: %s\n      ipMode: VIP\n", ip > f
}
function ingress(i, app, name, ns, host, ip) {
	printf "apiVersion: networking.k8s.io/v1\nkind: Ingress\n" > f
	meta(name, ns, 2, i, applabels(app, ns), "    cert-manager.io/cluster-issuer: letsencrypt\n    nginx.ingress.kubernetes.io/proxy-body-size: 8m\n")
	printf "spec:\n  ingressClassName: nginx\n  rules:\n  - host: %s\n    http:\n      paths:\n", host > f
	printf "      - backend:\n          service:\n            name: %s\n            port:\n              number: 80\n        path: /\n        pathType: Prefix\n", app > f
	printf "  tls:\n  - hosts:\n    - %s\n    secretName: %s-tls\n", host, name > f
	printf "status:\n  loadBalancer:\n    ingress:\n    - ip: %s\n", ip > f
}
function cond(indent, type, reason, msg) {
	printf "%s- lastTransitionTime: \"2025-01-15T10:00:00Z\"\n", indent > f
	printf "%s  message: %s\n%s  observedGeneration: 1\n%s  reason: %s\n", indent, msg, indent, indent, reason > f
	printf "%s  status: \"True\"\n%s  type: %s\n", indent, indent, type > f
}
function httproute(i, app, name, ns, host, gwname, gwns) {
	printf "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n" > f
	meta(name, ns, 3, i, applabels(app, ns), "")
	printf "spec:\n  hostnames:\n  - %s\n  parentRefs:\n", host > f
	printf "  - group: gateway.networking.k8s.io\n    kind: Gateway\n    name: %s\n", gwname > f
	if (gwns != ns) printf "    namespace: %s\n", gwns > f
	printf "  rules:\n  - backendRefs:\n    - group: \"\"\n      kind: Service\n      name: %s\n      port: 8080\n      weight: 1\n", app > f
	printf "    matches:\n    - path:\n        type: PathPrefix\n        value: /\n" > f
	printf "status:\n  parents:\n  - conditions:\n" > f
	cond("    ", "Accepted", "Accepted", "Route is accepted")
	cond("    ", "ResolvedRefs", "ResolvedRefs", "Resolved all the Object references for the Route")
	printf "    controllerName: gateway.envoyproxy.io/gatewayclass-controller\n" > f
	printf "    parentRef:\n      group: gateway.networking.k8s.io\n      kind: Gateway\n      name: %s\n", gwname > f
	if (gwns != ns) printf "      namespace: %s\n", gwns > f
}
function gateway(k, name, ns, ip, from, attached) {
	printf "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\n" > f
	meta(name, ns, 4, k, "    app.kubernetes.io/name: " name "\n", "")
	printf "spec:\n  gatewayClassName: envoy\n  listeners:\n" > f
	printf "  - allowedRoutes:\n      namespaces:\n        from: %s\n    name: http\n    port: 80\n    protocol: HTTP\n", from > f
	printf "status:\n  addresses:\n  - type: IPAddress\n    value: %s\n  conditions:\n", ip > f
	cond("  ", "Accepted", "Accepted", "The Gateway has been scheduled by Envoy Gateway")
	cond("  ", "Programmed", "Programmed", "Address assigned to the Gateway, 1/1 envoy replicas available")
	printf "  listeners:\n  - attachedRoutes: %d\n    conditions:\n", attached > f
	cond("    ", "Programmed", "Programmed", "Sending translated listener configuration to the data plane")
	cond("    ", "Accepted", "Accepted", "Listener has been successfully translated")
	printf "    name: http\n    supportedKinds:\n    - group: gateway.networking.k8s.io\n      kind: HTTPRoute\n    - group: gateway.networking.k8s.io\n      kind: GRPCRoute\n" > f
}
BEGIN {
	nw = split("api web auth billing cart checkout search catalog orders payments inventory shipping notify profile media reports admin portal metrics docs", words, " ")
	zf = OUT "/zone/" ZONE ".zone"
	printf "; kubezone benchmark zone: %d names\n$ORIGIN %s.\n$TTL 60\n", N, ZONE > zf
	printf "@\tIN\tSOA\tns1.%s. hostmaster.ns1.%s. 1 7200 1800 86400 60\n", ZONE, ZONE > zf
	printf "@\tIN\tNS\tns1.%s.\nns1\tIN\tA\t127.0.0.1\n", ZONE > zf
	nns = int((N + 99) / 100)
	for (i = 0; i < N; i++) {
		if (i % PER_FILE == 0) {
			if (f != "") close(f)
			f = sprintf("%s/manifests/objects-%04d.yaml", OUT, int(i / PER_FILE))
			first = 1
		}
		if (!first) printf "---\n" > f
		first = 0
		k = int(i / 100); ns = nsname(k)
		app = words[1 + int(i / 10) % nw]
		nm = sprintf("%s-%05d", app, i)
		slot = i % 10
		if (slot < 4) {
			ip = ip10(i); rel = nm "." ns
			service(i, app, nm, ns, ip)
		} else if (slot < 7) {
			ip = ip10(i); rel = nm
			ingress(i, app, nm, ns, rel "." ZONE, ip)
			if (ing1 == "") { ing1 = rel; ing1ip = ip }
		} else {
			rel = nm "." ns ".apps"
			if (int(i / 10) % 2 == 0) {
				ip = gwip(k); attached[k]++
				httproute(i, app, nm, ns, rel "." ZONE, "gw", ns)
				if (rt1 == "") { rt1 = rel; rt1ip = ip }
			} else {
				ip = "172.31.255.254"; shared++
				httproute(i, app, nm, ns, rel "." ZONE, "shared", "gateway-system")
				if (rt2 == "") rt2 = rel
			}
		}
		name[i] = rel; addr[i] = ip
		printf "%s\tIN\tA\t%s\n", rel, ip > zf
	}
	close(f); close(zf)

	f = OUT "/manifests/gateways.yaml"
	for (k = 0; k < nns; k++) {
		if (k) printf "---\n" > f
		gateway(k, "gw", nsname(k), gwip(k), "Same", attached[k] + 0)
	}
	printf "---\n" > f
	gateway(nns, "shared", "gateway-system", "172.31.255.254", "All", shared + 0)
	close(f)

	# Queries: exact proportions, then a Fisher-Yates shuffle with a fixed seed.
	seed = 20250115
	na = int(Q * 0.90); nd = int(Q * 0.05); nx = Q - na - nd
	n = 0
	for (j = 0; j < na; j++) q[n++] = name[j % N] "." ZONE " A"
	for (j = 0; j < nd; j++) q[n++] = name[(j * 7 + 3) % N] "." ZONE " AAAA"
	for (j = 0; j < nx; j++) {
		# Half directly below the apex, half below an existing empty non-terminal (team-NNNN).
		if (j % 2) q[n++] = sprintf("nx-%06d.%s A", j, ZONE)
		else q[n++] = sprintf("missing-%06d.%s.%s A", j, nsname(j % nns), ZONE)
	}
	for (j = n - 1; j > 0; j--) { r = rnd(j + 1); t = q[j]; q[j] = q[r]; q[r] = t }
	qf = OUT "/queries.txt"
	for (j = 0; j < n; j++) print q[j] > qf
	close(qf)

	cf = OUT "/checks.txt"
	printf "# name type rcode answer(- for none)\n" > cf
	printf "%s.%s A NOERROR %s\n", name[0], ZONE, addr[0] > cf
	printf "ns1.%s A NOERROR 127.0.0.1\n", ZONE > cf
	if (ing1 != "") printf "%s.%s A NOERROR %s\n", ing1, ZONE, ing1ip > cf
	if (rt1 != "") printf "%s.%s A NOERROR %s\n", rt1, ZONE, rt1ip > cf
	if (rt2 != "") printf "%s.%s A NOERROR 172.31.255.254\n", rt2, ZONE > cf
	printf "%s.%s A NOERROR %s\n", name[N - 1], ZONE, addr[N - 1] > cf
	printf "%s.%s AAAA NOERROR -\n", name[0], ZONE > cf
	printf "%s.%s A NOERROR -\n", nsname(0), ZONE > cf
	printf "nx-000001.%s A NXDOMAIN -\n", ZONE > cf
	printf "missing-000000.%s.%s A NXDOMAIN -\n", nsname(0), ZONE > cf
	close(cf)

	ef = OUT "/expected-a.unsorted"
	for (i = 0; i < N; i++) printf "%s.%s. %s\n", name[i], ZONE, addr[i] > ef
	close(ef)
}'
LC_ALL=C sort "$OUT/expected-a.unsorted" >"$OUT/expected-a.txt"
rm -f "$OUT/expected-a.unsorted"

kubezone_config "$PORT" "$OUT" >"$OUT/kubezone.yaml"
