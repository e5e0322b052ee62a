//! `manifest`: bytes → the manifests-file parser (multi-document YAML, `kind: List`, JSON), then
//! translation of what it read.

use std::path::Path;

use kubezone_sources::{ManifestError, parse_manifest};
use kubezone_translate::Translator;

use crate::{checks::check_translated, translate::zones};

/// Parses the bytes as a `.yaml` and as a `.json` manifest file. A file either gives objects,
/// each of which translates within the invariants, or an error that starts with the path and
/// points at a line of the file. Parsing is deterministic.
pub fn manifest(data: &[u8]) {
    // The folder source reads files as UTF-8 and reports anything else as unreadable.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // YAML breaks lines at `\r\n`, `\n` and a lone `\r` (fuzz/regressions/manifest/
    // lone-carriage-return-is-a-line-break.yaml). When the last line lacks its break, libyaml
    // reports an error at the end of the input on the line after it (fuzz/regressions/manifest/
    // flow-mapping-open-at-end-without-newline.yaml), which an editor shows as the file's end.
    let breaks = text.replace("\r\n", "\n").matches(['\n', '\r']).count();
    let lines = breaks + 1 + usize::from(!text.ends_with(['\n', '\r']));
    for name in ["/fuzz/manifest.yaml", "/fuzz/manifest.json"] {
        let path = Path::new(name);
        match parse_manifest(path, text) {
            Ok(objects) => {
                let zones = zones();
                let mut translator = Translator::new(zones.clone());
                for object in &objects {
                    let translated = translator.apply(object);
                    check_translated(
                        &zones,
                        &translated,
                        &format!("{name}: {}", object.object_ref()),
                    );
                }
                let again = parse_manifest(path, text)
                    .map(|objects| objects.iter().map(|o| o.object_ref()).collect::<Vec<_>>());
                let refs: Vec<_> = objects.iter().map(|o| o.object_ref()).collect();
                assert_eq!(again.ok(), Some(refs), "{name}: parsed twice");
            }
            Err(error) => check_error(path, lines, &error),
        }
    }
}

fn check_error(path: &Path, lines: usize, error: &ManifestError) {
    let shown = error.to_string();
    assert_eq!(error.path(), path, "{shown}");
    assert!(
        shown.starts_with(&format!("{}:", path.display())),
        "the error does not start with the path: {shown}"
    );
    match error {
        ManifestError::Read { .. } => panic!("nothing was read: {shown}"),
        ManifestError::Syntax { line, .. } | ManifestError::Document { line, .. } => {
            assert!(
                (1..=lines).contains(line),
                "line {line} of a {lines}-line input: {shown}"
            );
            assert!(
                shown.starts_with(&format!("{}:{line}:", path.display())),
                "{shown}"
            );
        }
    }
}
