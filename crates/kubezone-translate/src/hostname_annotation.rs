//! The hostname annotation of a TCPRoute or UDPRoute, or of the Gateway or ListenerSet it
//! attaches to: the Gateway API gives those routes no `hostnames`, so, as external-dns reads
//! them, their names are written as an annotation, in the spellings Services use.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kubezone_model::{DnsName, Kind};

use crate::{TranslateError, kinds::service::HOSTNAME_ANNOTATIONS, names, output::Builder};

/// The names of the first hostname annotation set, comma-separated, each relative to a zone
/// serving one of `kinds` or absolute; invalid ones go to the builder's problems. `None` when
/// no annotation is set.
pub(crate) fn read(meta: &ObjectMeta, kinds: &[Kind], b: &mut Builder<'_>) -> Option<Vec<DnsName>> {
    let annotations = meta.annotations.as_ref()?;
    let (key, value) = HOSTNAME_ANNOTATIONS.iter().find_map(|key| {
        annotations
            .get(*key)
            .filter(|value| !value.trim().is_empty())
            .map(|value| (*key, value))
    })?;
    let mut result = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        // A name made absolute for several Kinds' zones is wrong once.
        let mut reported = false;
        for kind in kinds {
            for name in names::expand(b.zones(), *kind, item) {
                match name {
                    Ok(name) => result.push(name),
                    Err(source) if !reported => {
                        reported = true;
                        let field = format!("metadata.annotations[{key:?}]");
                        b.problem(TranslateError::invalid_name(field, item, source));
                    }
                    Err(_) => {}
                }
            }
        }
    }
    result.sort();
    result.dedup();
    Some(result)
}
