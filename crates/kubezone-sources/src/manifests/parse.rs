//! One manifest file → the objects kubezone reads, as `kubectl get -o yaml` (or `-o json`) prints
//! them: several documents per file, `kind: List` (or any `*List`) with `items`, JSON objects.

use std::{
    hash::{DefaultHasher, Hash, Hasher},
    io,
    path::Path,
};

use serde::Deserialize;
use serde_json::Value;
use tracing::debug;

use kubezone_translate::{KubeObject, ObjectError};

use crate::ManifestError;

/// One object read from a file, with a hash of its content: the same text (or, for JSON files,
/// lists and merge keys, the same JSON value) gives the same hash, so an unchanged object is
/// never sent again. The content itself is not kept.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub object: KubeObject,
    pub hash: u64,
}

/// Parses a manifest file. `.json` files are read as JSON (one object, a List, or several
/// concatenated), anything else as YAML. Documents of Kinds kubezone does not read are skipped.
///
/// Any error fails the whole file, so that a half-broken file never serves half its objects.
pub fn parse_manifest(path: &Path, text: &str) -> Result<Vec<KubeObject>, ManifestError> {
    Ok(parse_objects(path, text)?
        .into_iter()
        .map(|parsed| parsed.object)
        .collect())
}

pub(crate) fn parse_objects(path: &Path, text: &str) -> Result<Vec<Parsed>, ManifestError> {
    // Windows editors like to start files with a byte order mark; neither parser wants it.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let is_json = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
    let mut out = Vec::new();
    if is_json {
        parse_json(path, text, &mut out)?;
    } else {
        parse_yaml(path, text, &mut out)?;
    }
    Ok(out)
}

fn parse_yaml(path: &Path, text: &str, out: &mut Vec<Parsed>) -> Result<(), ManifestError> {
    // Each document is parsed on its own so that an error can name the line its document starts
    // on; serde_norway does not tell where a document begins.
    for chunk in split_documents(text) {
        match fast_document(&chunk) {
            Fast::Object(parsed) => {
                out.push(parsed);
                continue;
            }
            Fast::Skip => continue,
            Fast::Slow => {}
        }
        for document in serde_norway::Deserializer::from_str(chunk.text) {
            let mut value = match serde_norway::Value::deserialize(document) {
                Ok(value) => value,
                Err(error) => return Err(yaml_syntax_error(path, text, &chunk, &error)),
            };
            if let Err(error) = value.apply_merge() {
                return Err(document_error(path, chunk.line, error.to_string()));
            }
            let value = serde_json::to_value(value).map_err(|error| {
                document_error(
                    path,
                    chunk.line,
                    format!("not representable as JSON: {error}"),
                )
            })?;
            collect(path, chunk.line, value, "", out)?;
        }
    }
    Ok(())
}

fn parse_json(path: &Path, text: &str, out: &mut Vec<Parsed>) -> Result<(), ManifestError> {
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let mut lines = LineCounter::new(text);
    loop {
        let before = stream.byte_offset();
        match stream.next() {
            None => return Ok(()),
            Some(Ok(value)) => {
                let start = text
                    .get(before..)
                    .and_then(|rest| rest.find(|c: char| !c.is_whitespace()))
                    .map_or(before, |skip| before + skip);
                collect(path, lines.line_at(start), value, "", out)?;
            }
            Some(Err(error)) => {
                let (line, column) = (error.line(), error.column());
                let message = error.to_string();
                // serde_json appends the position, which the path:line:column prefix already gives.
                let message = message
                    .strip_suffix(&format!(" at line {line} column {column}"))
                    .map_or(message.clone(), str::to_string);
                return Err(ManifestError::Syntax {
                    path: path.to_path_buf(),
                    line,
                    column,
                    message,
                });
            }
        }
    }
}

/// Turns one document into objects: a List gives its items, a Kind kubezone reads gives one
/// object, any other Kind nothing.
fn collect(
    path: &Path,
    line: usize,
    mut value: Value,
    context: &str,
    out: &mut Vec<Parsed>,
) -> Result<(), ManifestError> {
    let Some(map) = value.as_object_mut() else {
        return match value {
            // An empty document (`---` twice, a file of comments).
            Value::Null => Ok(()),
            other => Err(document_error(
                path,
                line,
                format!(
                    "{context}expected an object (a mapping), found {}",
                    type_name(&other)
                ),
            )),
        };
    };

    let list_item_kind = map
        .get("kind")
        .and_then(Value::as_str)
        .and_then(|kind| kind.strip_suffix("List"))
        .map(str::to_string);
    if let (Some(list_item_kind), Some(Value::Array(items))) =
        (list_item_kind, map.get_mut("items"))
    {
        let items = std::mem::take(items);
        let api_version = map.get("apiVersion").cloned();
        // A typed list (`IngressList`) from the raw API leaves kind and apiVersion off its items.
        let item_kind = (!list_item_kind.is_empty()).then_some(list_item_kind);
        for (i, mut item) in items.into_iter().enumerate() {
            if let (Some(item_map), Some(item_kind)) = (item.as_object_mut(), &item_kind) {
                if !item_map.contains_key("kind") {
                    item_map.insert("kind".into(), Value::String(item_kind.clone()));
                }
                if let (false, Some(api_version)) =
                    (item_map.contains_key("apiVersion"), &api_version)
                {
                    item_map.insert("apiVersion".into(), api_version.clone());
                }
            }
            collect(path, line, item, &format!("{context}items[{i}]: "), out)?;
        }
        return Ok(());
    }

    let describe = describe(&value);
    let mut hasher = HashWriter(DefaultHasher::new());
    serde_json::to_writer(&mut hasher, &value)
        .map_err(|error| document_error(path, line, format!("{context}{describe}: {error}")))?;
    let hash = hasher.0.finish();
    match KubeObject::from_value(value) {
        Ok(Some(object)) => {
            out.push(Parsed { object, hash });
            Ok(())
        }
        Ok(None) => {
            debug!(path = %path.display(), line, object = %describe, "skipping a Kind kubezone does not read");
            Ok(())
        }
        Err(ObjectError::Invalid { source, .. }) => Err(document_error(
            path,
            line,
            format!("{context}{describe}: {source}"),
        )),
        Err(other) => Err(document_error(path, line, format!("{context}{other}"))),
    }
}

/// Feeds serialized bytes to a hasher, so hashing a value allocates nothing.
struct HashWriter(DefaultHasher);

impl io::Write for HashWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.write(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What the fast path made of one YAML document.
enum Fast {
    Object(Parsed),
    /// A valid document of a Kind kubezone does not read.
    Skip,
    /// Not for the fast path (a List, merge keys, no plain top-level `kind`/`apiVersion`), or
    /// it failed: the general path decides, and words the error.
    Slow,
}

/// The common document, an object of one Kind written in block style, is deserialized from
/// YAML straight into its API type: no YAML value, no JSON value, no JSON text. Everything else,
/// and every error, goes the general way, so results and messages do not depend on the path.
fn fast_document(chunk: &Chunk<'_>) -> Fast {
    // Merge keys need the YAML value's `apply_merge`.
    if chunk.text.contains("<<") {
        return Fast::Slow;
    }
    let (Some(api_version), Some(kind)) = (
        top_level_plain(chunk.text, "apiVersion:"),
        top_level_plain(chunk.text, "kind:"),
    ) else {
        return Fast::Slow;
    };
    if kind.ends_with("List") {
        return Fast::Slow;
    }
    let document = serde_norway::Deserializer::from_str(chunk.text);
    if !KubeObject::is_read(api_version, kind) {
        return match serde::de::IgnoredAny::deserialize(document) {
            Ok(_) => Fast::Skip,
            Err(_) => Fast::Slow,
        };
    }
    match KubeObject::deserialize_known(api_version, kind, document) {
        Some(Ok(object)) => {
            let mut hasher = DefaultHasher::new();
            chunk.text.hash(&mut hasher);
            Fast::Object(Parsed {
                object,
                hash: hasher.finish(),
            })
        }
        Some(Err(_)) | None => Fast::Slow,
    }
}

/// The value of a top-level `key:` written as a plain word on its own line (`kind: Service`).
/// A line starting at column 0 is a key of the top-level block mapping: YAML indents the
/// content of every nested node and multi-line scalar. Anything unusual gives `None`.
fn top_level_plain<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let mut found = None;
    for line in text.lines() {
        let Some(rest) = line
            .strip_prefix(key)
            .filter(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
        else {
            continue;
        };
        let value = rest.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        let plain = !value.is_empty()
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'/' | b'-' | b'_'));
        // A key given twice is an error the general path words.
        if !plain || found.is_some() {
            return None;
        }
        found = Some(value);
    }
    found
}

/// `Ingress shop/web`, for error messages.
fn describe(value: &Value) -> String {
    let kind = value
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("object");
    let name = value
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("<unnamed>");
    match value.pointer("/metadata/namespace").and_then(Value::as_str) {
        Some(namespace) => format!("{kind} {namespace}/{name}"),
        None => format!("{kind} {name}"),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn document_error(path: &Path, line: usize, message: String) -> ManifestError {
    ManifestError::Document {
        path: path.to_path_buf(),
        line,
        message,
    }
}

/// A syntax error in one document. Parsing the whole file again reproduces it with positions
/// (in the message, too) counted from the start of the file; this only runs on the error path.
fn yaml_syntax_error(
    path: &Path,
    text: &str,
    chunk: &Chunk<'_>,
    chunk_error: &serde_norway::Error,
) -> ManifestError {
    for document in serde_norway::Deserializer::from_str(text) {
        if let Err(error) = serde_norway::Value::deserialize(document) {
            let (line, column) = error
                .location()
                .map_or((chunk.line, 1), |l| (l.line(), l.column()));
            return ManifestError::Syntax {
                path: path.to_path_buf(),
                line,
                column,
                message: error.to_string(),
            };
        }
    }
    // Not reproduced on the whole file (should not happen): shift the document's own position.
    let (line, column) = chunk_error
        .location()
        .map_or((chunk.line, 1), |l| (chunk.line + l.line() - 1, l.column()));
    ManifestError::Syntax {
        path: path.to_path_buf(),
        line,
        column,
        message: chunk_error.to_string(),
    }
}

/// One YAML document's text and the 1-based line it starts on.
struct Chunk<'a> {
    text: &'a str,
    line: usize,
}

/// Splits a YAML stream at its `---` lines. YAML forbids a line that starts with `---` inside any
/// scalar, so such a line always starts a document. Comments and directives before a `---` stay
/// with the document that follows.
fn split_documents(text: &str) -> Vec<Chunk<'_>> {
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut start_line = 1;
    // The first line of the current chunk that is not blank or a comment.
    let mut first_content: Option<usize> = None;
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let line_no = index + 1;
        let bare = line.trim_end_matches(['\n', '\r']);
        let is_marker = bare
            .strip_prefix("---")
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']));
        let is_content = !bare.trim().is_empty()
            && !bare.trim_start().starts_with('#')
            && !bare.starts_with('%');
        if is_marker && first_content.is_some() {
            chunks.push(Chunk {
                text: &text[start..offset],
                line: first_content.unwrap_or(start_line),
            });
            start = offset;
            start_line = line_no;
            first_content = None;
        }
        if first_content.is_none() && (is_content || is_marker) {
            first_content = Some(line_no);
        }
        offset += line.len();
    }
    if let Some(line) = first_content {
        chunks.push(Chunk {
            text: &text[start..],
            line,
        });
    }
    chunks
}

/// Byte offset → 1-based line, for offsets asked in increasing order.
struct LineCounter<'a> {
    text: &'a str,
    offset: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        LineCounter {
            text,
            offset: 0,
            line: 1,
        }
    }

    fn line_at(&mut self, offset: usize) -> usize {
        if offset > self.offset {
            let seen = self.text.get(self.offset..offset).unwrap_or_default();
            self.line += seen.bytes().filter(|&b| b == b'\n').count();
            self.offset = offset;
        }
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubezone_model::Kind;

    fn parse(name: &str, text: &str) -> Result<Vec<KubeObject>, ManifestError> {
        parse_manifest(Path::new(name), text)
    }

    fn refs(objects: &[KubeObject]) -> Vec<String> {
        objects.iter().map(|o| o.object_ref().to_string()).collect()
    }

    const INGRESS: &str = "apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
spec:
  rules:
  - host: www.example.com
";

    #[test]
    fn reads_several_documents_and_skips_empty_ones_and_other_kinds() {
        let text = format!(
            "# leading comment\n---\n{INGRESS}---\n---\n# only a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n---\napiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n...\n"
        );
        let objects = parse("/m/a.yaml", &text).expect("valid");
        assert_eq!(refs(&objects), ["Ingress/shop/web", "Node/n1"]);
    }

    #[test]
    fn reads_lists_including_typed_lists_without_item_kinds() {
        let text = "apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: a, namespace: x}
- apiVersion: v1
  kind: List
  items:
  - apiVersion: v1
    kind: Node
    metadata: {name: n}
---
apiVersion: networking.k8s.io/v1
kind: IngressList
items:
- metadata: {name: i, namespace: y}
";
        let objects = parse("/m/l.yml", text).expect("valid");
        assert_eq!(refs(&objects), ["Service/x/a", "Node/n", "Ingress/y/i"]);
    }

    #[test]
    fn reads_json_objects_and_lists() {
        let single = r#"{"apiVersion":"v1","kind":"Node","metadata":{"name":"n"}}"#;
        assert_eq!(
            refs(&parse("/m/a.json", single).expect("valid")),
            ["Node/n"]
        );
        let list = r#"{"apiVersion":"v1","kind":"List","items":[
            {"apiVersion":"v1","kind":"Service","metadata":{"name":"s","namespace":"d"}},
            {"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}}]}"#;
        assert_eq!(
            refs(&parse("/m/b.JSON", list).expect("valid")),
            ["Service/d/s"]
        );
        assert!(parse("/m/empty.json", "  \n").expect("valid").is_empty());
    }

    #[test]
    fn a_yaml_syntax_error_names_path_line_and_column() {
        let text = format!("{INGRESS}---\napiVersion: v1\nkind: Node\nmetadata:\n  name: [n\n");
        let err = parse("/m/bad.yaml", &text).expect_err("invalid");
        assert!(matches!(err, ManifestError::Syntax { .. }), "{err:?}");
        let shown = err.to_string();
        assert!(shown.starts_with("/m/bad.yaml:"), "{shown}");
        // The error is at or after the broken line, counted from the top of the file.
        let line = err.line().expect("line");
        assert!((13..=14).contains(&line), "{shown}");
    }

    #[test]
    fn a_typed_error_names_the_document_line_kind_and_name() {
        let text = format!(
            "{INGRESS}---\n# svc\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  namespace: d\nspec:\n  ports: 80\n"
        );
        let err = parse("/m/typed.yaml", &text).expect_err("invalid");
        let shown = err.to_string();
        // The document starts at its `---`.
        assert_eq!(err.line(), Some(9), "{shown}");
        assert!(
            shown.starts_with("/m/typed.yaml:9: Service d/s: "),
            "{shown}"
        );
        assert!(shown.contains("invalid type"), "{shown}");
    }

    #[test]
    fn a_typed_error_in_a_list_names_the_item() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Node\n  metadata: {name: n}\n  spec: 3\n";
        let err = parse("/m/l.yaml", text).expect_err("invalid");
        assert!(
            err.to_string()
                .starts_with("/m/l.yaml:1: items[0]: Node n: "),
            "{err}"
        );
    }

    #[test]
    fn a_json_syntax_error_names_path_and_line() {
        let err = parse("/m/x.json", "{\n \"kind\": \"Node\",\n}\n").expect_err("invalid");
        assert_eq!(err.line(), Some(3), "{err}");
        assert!(err.to_string().starts_with("/m/x.json:3:"), "{err}");
        assert!(!err.to_string().contains("at line"), "{err}");
    }

    #[test]
    fn documents_without_kind_or_not_mappings_are_errors() {
        let err = parse("/m/a.yaml", "foo: bar\n").expect_err("no kind");
        assert!(err.to_string().contains("kind"), "{err}");
        let err = parse("/m/a.yaml", "---\n- 1\n- 2\n").expect_err("a list");
        assert_eq!(err.line(), Some(1), "{err}");
    }

    #[test]
    fn crlf_bom_and_merge_keys_work() {
        let text = "\u{feff}base: &b\r\n  name: n\r\n---\r\napiVersion: v1\r\nkind: Node\r\nmetadata:\r\n  <<: {name: n2}\r\n";
        // The first document has no kind: an error on line 1.
        assert_eq!(
            parse("/m/a.yaml", text).expect_err("no kind").line(),
            Some(1)
        );
        let text = "apiVersion: v1\r\nkind: Node\r\nmetadata:\r\n  <<: {name: n2}\r\n";
        let objects = parse("/m/a.yaml", text).expect("valid");
        assert_eq!(objects[0].kind(), Kind::Node);
        assert_eq!(refs(&objects), ["Node/n2"]);
    }

    /// A folder exported from a cluster running newer (or experimental) Gateway API CRDs holds
    /// values kubezone's types may not know; the file is read all the same.
    #[test]
    fn routes_with_values_from_a_newer_gateway_api_are_read() {
        let text = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  hostnames: [web.example.com]\n  parentRefs:\n  - name: gw\n  - {group: gateway.networking.k8s.io, kind: ListenerSet, name: extra}\n  rules:\n  - filters:\n    - type: ExternalAuth\n      externalAuth: {protocol: HTTP}\n    matches:\n    - method: QUERY\n---\napiVersion: gateway.networking.k8s.io/v1alpha2\nkind: TLSRoute\nmetadata:\n  name: mqtt\n  namespace: iot\nspec:\n  parentRefs:\n  - name: gw\n";
        let objects = parse("/m/routes.yaml", text).expect("read");
        assert_eq!(refs(&objects), ["HTTPRoute/shop/web", "TLSRoute/iot/mqtt"]);
    }

    /// The object as JSON, whichever path read it.
    fn as_json(object: &KubeObject) -> Value {
        let value = match object {
            KubeObject::Ingress(o) => serde_json::to_value(o),
            KubeObject::Service(o) => serde_json::to_value(o),
            KubeObject::Gateway(o) => serde_json::to_value(o),
            KubeObject::HttpRoute(o) => serde_json::to_value(o),
            KubeObject::GrpcRoute(o) => serde_json::to_value(o),
            KubeObject::TlsRoute(o) => serde_json::to_value(o),
            KubeObject::TcpRoute(o) => serde_json::to_value(o),
            KubeObject::UdpRoute(o) => serde_json::to_value(o),
            KubeObject::ListenerSet(o) => serde_json::to_value(o),
            KubeObject::DnsEndpoint(o) => serde_json::to_value(o),
            KubeObject::Node(o) => serde_json::to_value(o),
            KubeObject::Namespace(o) => serde_json::to_value(o),
            KubeObject::EndpointSlice(o) => serde_json::to_value(o),
        };
        value.expect("serializable")
    }

    fn fast(text: &str) -> Fast {
        fast_document(&split_documents(text)[0])
    }

    #[test]
    fn the_fast_path_reads_what_the_general_path_reads() {
        let documents = [
            INGRESS.to_string(),
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  namespace: d\n  labels:\n    app: web\n  annotations:\n    kubezone.io/ttl: \"30\"\nspec:\n  type: LoadBalancer\n  ports:\n  - port: 80\n    targetPort: http\n  - port: 443\n    targetPort: 8443\nstatus:\n  loadBalancer:\n    ingress:\n    - ip: 192.0.2.1\n      ipMode: VIP\n".to_string(),
            "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: d}\nspec:\n  hostnames: [a.example.com]\n  parentRefs:\n  - name: gw\n    sectionName: http\n".to_string(),
            // A TLSRoute as v1alpha2 allowed it, without hostnames or rules.
            "apiVersion: gateway.networking.k8s.io/v1alpha2\nkind: TLSRoute\nmetadata:\n  name: t\nspec: {}\n".to_string(),
            // TCPRoute and UDPRoute, named by annotation, at v1 and as v1alpha2 had them.
            "apiVersion: gateway.networking.k8s.io/v1\nkind: TCPRoute\nmetadata:\n  name: db\n  namespace: d\n  annotations:\n    external-dns.alpha.kubernetes.io/hostname: db.example.com\nspec:\n  parentRefs:\n  - kind: ListenerSet\n    name: extra\n    sectionName: db\n".to_string(),
            "apiVersion: gateway.networking.k8s.io/v1alpha2\nkind: UDPRoute\nmetadata:\n  name: dns\nspec:\n  parentRefs:\n  - name: gw\n".to_string(),
            "apiVersion: gateway.networking.k8s.io/v1\nkind: ListenerSet\nmetadata:\n  name: extra\n  namespace: d\nspec:\n  parentRef:\n    name: gw\n  listeners:\n  - name: db\n    port: 5432\n    protocol: TCP\nstatus:\n  conditions:\n  - type: Accepted\n    status: \"True\"\n".to_string(),
            "---\n# a comment\napiVersion: \"gateway.networking.k8s.io/v1\"\nkind: Gateway\nmetadata:\n  name: gw\nspec:\n  gatewayClassName: envoy\n  listeners:\n  - name: http\n    port: 80\n    protocol: HTTP\n    hostname: \"*.example.com\"\nstatus:\n  addresses:\n  - type: IPAddress\n    value: 192.0.2.9\n".to_string(),
        ];
        for text in &documents {
            let Fast::Object(parsed) = fast(text) else {
                panic!("not read by the fast path:\n{text}");
            };
            let mut general = Vec::new();
            let value = serde_norway::from_str::<Value>(text).expect("yaml");
            collect(Path::new("/m/a.yaml"), 1, value, "", &mut general).expect("valid");
            assert_eq!(general.len(), 1);
            assert_eq!(
                as_json(&parsed.object),
                as_json(&general[0].object),
                "{text}"
            );
            // The same text hashes the same; another text differently.
            let Fast::Object(again) = fast(text) else {
                panic!("fast path")
            };
            assert_eq!(parsed.hash, again.hash);
            let Fast::Object(other) = fast(&text.replace("name:", "name: x")) else {
                panic!("fast path")
            };
            assert_ne!(parsed.hash, other.hash, "{text}");
        }
    }

    #[test]
    fn the_fast_path_leaves_unusual_documents_to_the_general_path() {
        let slow = [
            // Merge keys, lists, flow style, a kind with a comment, `kind:` glued to its value.
            "apiVersion: v1\nkind: Node\nmetadata:\n  <<: {name: n}\n",
            "apiVersion: v1\nkind: List\nitems: []\n",
            "{apiVersion: v1, kind: Node, metadata: {name: n}}\n",
            "apiVersion: v1\nkind: Node # a node\nmetadata:\n  name: n\n",
            "apiVersion: v1\nkind:Node\nmetadata:\n  name: n\n",
            // Kind given twice.
            "apiVersion: v1\nkind: Node\nkind: Node\nmetadata:\n  name: n\n",
            // Errors are worded by the general path.
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  ports: 80\n",
            "apiVersion: v1\nkind: ConfigMap\ndata: [\n",
        ];
        for text in slow {
            assert!(matches!(fast(text), Fast::Slow), "{text}");
        }
        let skipped = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n";
        assert!(matches!(fast(skipped), Fast::Skip));
    }

    #[test]
    fn splits_only_at_document_markers() {
        let text = "# c\n%YAML 1.2\n---\na: 1\n--- # x\nb: |\n  ---not a marker\n---\n";
        let chunks = split_documents(text);
        let lines: Vec<_> = chunks.iter().map(|c| c.line).collect();
        assert_eq!(lines, [3, 5, 8]);
        assert!(chunks[0].text.starts_with("# c\n%YAML"));
    }
}
