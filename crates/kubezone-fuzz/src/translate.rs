//! `translate`: JSON → an object, read both as the cluster source reads it (a `DynamicObject`
//! typed by its watch) and as a manifest file is read, then translated.

use kube::api::DynamicObject;
use kubezone_model::{DnsName, Kind, ObjectRef};
use kubezone_sources::{WatchedObject, api_resource, read_watched_object};
use kubezone_translate::{
    GatewayConsent, KubeObject, LabelSelector, NodeAddressType, Translator, ZoneFilter,
};
use serde_json::Value;

use crate::checks::check_translated;

/// A JSON list is applied in order to one translator, so that Gateways and their routes meet.
const MAX_OBJECTS: usize = 16;

/// The input is a JSON object, or a list of them. Each is read as the watch of its `kind` would
/// deliver it (when `kind` names no Kind kubezone reads, the input's length picks one, so every
/// Kind is reached), applied twice, then everything is deleted again.
///
/// Checks: both ways of reading agree; every endpoint passes [`check_translated`]; applying is
/// idempotent; deleting empties the object's records and, at the end, the Gateway join.
pub fn translate(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let documents = match value {
        Value::Array(items) => items,
        other => vec![other],
    };
    let zones = zones();
    let mut translator = Translator::new(zones.clone());
    let mut applied: Vec<ObjectRef> = Vec::new();
    for (i, document) in documents.into_iter().take(MAX_OBJECTS).enumerate() {
        let kind = kind_of(&document, data.len() + i);
        let Some(object) = read_both_ways(kind, document, &zones) else {
            continue;
        };
        let context = object.object_ref().to_string();
        let first = translator.apply(&object);
        check_translated(&zones, &first, &context);
        let again = translator.apply(&object);
        assert_eq!(first.updates, again.updates, "{context}: applied twice");
        assert_eq!(first.problems, again.problems, "{context}: applied twice");
        applied.push(object.object_ref());
    }
    for object in &applied {
        let deleted = translator.delete(object);
        check_translated(&zones, &deleted, &format!("delete {object}"));
        for update in deleted.updates.iter().filter(|u| &u.object == object) {
            assert!(
                update.endpoints.is_empty(),
                "{object} keeps records once deleted: {:?}",
                update.endpoints
            );
        }
    }
    assert_eq!(
        translator.remembered(),
        (0, 0),
        "the Gateway join remembers objects after every one was deleted"
    );
    assert_eq!(
        translator.remembered_namespaces(),
        0,
        "the Gateway join remembers Namespaces after every one was deleted"
    );
}

/// The zones every input is translated for: nested zones, every filter, both node address types,
/// both kinds of Gateway consent, an annotation filter, a name template, and TCPRoute and
/// UDPRoute, which a zone serves only when listed.
pub(crate) fn zones() -> Vec<ZoneFilter> {
    let zone = |origin: &str| {
        DnsName::parse(origin)
            .map(ZoneFilter::new)
            .unwrap_or_else(|e| panic!("fuzz zone {origin}: {e}"))
    };
    let mut example = zone("example.com");
    example.resources.push(Kind::Node);
    let mut apps = zone("apps.example.com");
    apps.ingress_classes = vec!["nginx".into()];
    apps.gateway_classes = vec!["envoy".into()];
    apps.service_selectors = ["app=web", "tier in (a,b)", "!canary"]
        .iter()
        .map(|s| {
            s.parse::<LabelSelector>()
                .unwrap_or_else(|e| panic!("fuzz selector {s}: {e}"))
        })
        .collect();
    let mut internal = zone("internal.example.com");
    internal.resources = vec![Kind::Node, Kind::Service];
    internal.node_address = NodeAddressType::ExternalIp;
    internal.annotation_filter = Some(
        "dns notin (private), !skip"
            .parse::<LabelSelector>()
            .unwrap_or_else(|e| panic!("fuzz annotation filter: {e}")),
    );
    let mut org = zone("example.org");
    org.gateway_consent = GatewayConsent::Listeners;
    org.resources.extend([Kind::TcpRoute, Kind::UdpRoute]);
    let template = r#"{{ .Namespace }}-{{ .Name }}.example.org, {{ index .Labels "app" }}.apps.example.com, {{ range $k, $v := .Annotations }}{{ $v }},{{ end }}"#;
    org.name_template = Some(
        template
            .parse()
            .unwrap_or_else(|e| panic!("fuzz name template: {e}")),
    );
    vec![example, apps, internal, org]
}

fn kind_of(document: &Value, seed: usize) -> Kind {
    document
        .get("kind")
        .and_then(Value::as_str)
        .and_then(|text| Kind::ALL.into_iter().find(|k| k.as_str() == text))
        .unwrap_or(Kind::ALL[seed % Kind::ALL.len()])
}

/// Reads `document` as a watch of `kind` delivers it and as a manifest holding it with that
/// `kind` and `apiVersion`; the two must agree. Returns what the watch would send.
fn read_both_ways(kind: Kind, mut document: Value, zones: &[ZoneFilter]) -> Option<KubeObject> {
    let resource = api_resource(kind)?;
    if let Some(map) = document.as_object_mut() {
        map.insert("apiVersion".into(), resource.api_version.clone().into());
        map.insert("kind".into(), resource.kind.clone().into());
    }
    let manifest = KubeObject::from_value(document.clone());
    // The API server never sends an object without `metadata.name` (a `DynamicObject` would
    // default it to empty, where a file is an error: fuzz/regressions/translate/
    // watch-object-without-metadata.json), and kube-runtime fails a list whose object does not
    // parse before kubezone sees it. Either way, the manifest reader alone counts.
    let named = document
        .pointer("/metadata/name")
        .is_some_and(Value::is_string);
    let dynamic = serde_json::from_value::<DynamicObject>(document);
    let (true, Ok(dynamic)) = (named, dynamic) else {
        return manifest.ok().flatten();
    };
    let watched = read_watched_object(kind, &resource, dynamic);
    match (manifest, watched) {
        (Ok(Some(from_file)), WatchedObject::Object(from_watch)) => {
            assert_eq!(from_file.object_ref(), from_watch.object_ref());
            let context = from_watch.object_ref().to_string();
            let file_records = Translator::new(zones.to_vec()).apply(&from_file);
            let watch_records = Translator::new(zones.to_vec()).apply(&from_watch);
            assert_eq!(
                file_records.updates, watch_records.updates,
                "{context}: a manifest and a watch translate differently"
            );
            assert_eq!(file_records.problems, watch_records.problems, "{context}");
            Some(from_watch)
        }
        (Ok(Some(from_file)), WatchedObject::Ignored) => {
            // Only Services are dropped on arrival, and only those that give no records anyway.
            let context = from_file.object_ref().to_string();
            assert_eq!(kind, Kind::Service, "{context}: ignored by the watch");
            let records = Translator::new(zones.to_vec()).apply(&from_file);
            assert!(
                records.updates.iter().all(|u| u.endpoints.is_empty()),
                "{context}: dropped by the watch but gives records from a file"
            );
            None
        }
        (Ok(Some(from_file)), WatchedObject::Invalid(message)) => {
            panic!(
                "{}: read from a file, invalid from a watch: {message}",
                from_file.object_ref()
            )
        }
        (Ok(None), _) => panic!("{kind}: a Kind kubezone reads was skipped"),
        (Err(error), WatchedObject::Invalid(message)) => {
            assert!(
                message.contains(kind.as_str()),
                "the watch's error does not name the Kind: {message}"
            );
            assert!(
                error.to_string().contains(kind.as_str()),
                "the file's error does not name the Kind: {error}"
            );
            None
        }
        (Err(error), WatchedObject::Ignored) => {
            // A Service that is neither LoadBalancer nor ExternalName is dropped before it is
            // read, so a broken one goes unnoticed: harmless, it would give no records.
            assert_eq!(
                kind,
                Kind::Service,
                "ignored by the watch, invalid in a file: {error}"
            );
            None
        }
        (Err(error), WatchedObject::Object(from_watch)) => panic!(
            "{}: read from a watch, invalid in a file: {error}",
            from_watch.object_ref()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seeds are not all returned early from: both readers accept them, and a Gateway with
    /// its routes gives records (and, with its consent, through listeners that select a
    /// Namespace by its labels, or in a zone that trusts the listeners).
    #[test]
    fn a_gateway_and_its_routes_give_records_read_either_way() {
        let path = crate::corpus::fuzz_root().join("corpus/translate/edge-gateway-join.json");
        let text = std::fs::read(&path).expect("the seed");
        let Ok(Value::Array(documents)) = serde_json::from_slice::<Value>(&text) else {
            panic!("{} is a JSON list", path.display());
        };
        let zones = zones();
        let mut translator = Translator::new(zones.clone());
        let mut names = Vec::new();
        for (i, document) in documents.into_iter().enumerate() {
            let kind = kind_of(&document, i);
            let object = read_both_ways(kind, document, &zones).expect("read");
            for update in translator.apply(&object).updates {
                names.extend(update.endpoints.iter().map(|e| e.endpoint.name.to_string()));
            }
        }
        assert!(
            names.contains(&"web.apps.example.com.".to_string()),
            "{names:?}"
        );
        assert!(
            names.contains(&"api.apps.example.com.".to_string()),
            "{names:?}"
        );
        // The whole target passes on it too.
        translate(&text);

        let path = crate::corpus::fuzz_root().join("corpus/translate/edge-gateway-consent.json");
        let text = std::fs::read(&path).expect("the seed");
        let Ok(Value::Array(documents)) = serde_json::from_slice::<Value>(&text) else {
            panic!("{} is a JSON list", path.display());
        };
        let mut translator = Translator::new(zones.clone());
        let mut names = Vec::new();
        for (i, document) in documents.into_iter().enumerate() {
            let kind = kind_of(&document, i);
            let object = read_both_ways(kind, document, &zones).expect("read");
            let translated = translator.apply(&object);
            for update in translated.updates {
                names.push((
                    update.object.to_string(),
                    update
                        .endpoints
                        .iter()
                        .map(|e| e.endpoint.name.to_string())
                        .collect::<Vec<_>>(),
                ));
            }
        }
        let last = |object: &str| {
            names
                .iter()
                .rev()
                .find(|(o, _)| o == object)
                .map(|(_, names)| names.clone())
                .unwrap_or_default()
        };
        assert_eq!(last("GRPCRoute/other/rpc"), ["*.example.org."], "{names:?}");
        assert!(
            names.iter().any(|(o, n)| o == "HTTPRoute/shop/web"
                && n == &["www.example.com.", "www.example.org."]),
            "{names:?}"
        );
        // The Namespace's labels change: the listener no longer selects it.
        assert!(last("HTTPRoute/shop/web").is_empty(), "{names:?}");
        translate(&text);
    }

    #[test]
    fn a_document_without_a_known_kind_still_reaches_every_kind() {
        let document = serde_json::json!({"metadata": {"name": "x"}});
        let kinds: std::collections::BTreeSet<Kind> = (0..Kind::ALL.len())
            .map(|seed| kind_of(&document, seed))
            .collect();
        assert_eq!(kinds.len(), Kind::ALL.len());
        let typed = serde_json::json!({"kind": "TLSRoute"});
        assert_eq!(kind_of(&typed, 0), Kind::TlsRoute);
    }
}
