//! The hostname annotation of a TCPRoute or UDPRoute, or of the Gateway or ListenerSet it
//! attaches to: the Gateway API gives those routes no `hostnames`, so, as external-dns reads
//! them, their names are written as an annotation, in the spellings Services use.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kubezone_model::{DnsName, Kind};

use crate::{TranslateError, annotations, names, output::Builder};

/// The names of the first hostname annotation set, comma-separated, each relative to a zone
/// serving one of `kinds` or absolute; invalid ones go to the builder's problems. `None` when
/// no annotation is set.
pub(crate) fn read(meta: &ObjectMeta, kinds: &[Kind], b: &mut Builder<'_>) -> Option<Vec<DnsName>> {
    let annotation = annotations::first(meta, &annotations::HOSTNAME)?;
    let mut result = Vec::new();
    for item in annotation.items() {
        // A name made absolute for several Kinds' zones is wrong once.
        let mut reported = false;
        for kind in kinds {
            for name in names::expand(b.zones(), *kind, item) {
                match name {
                    Ok(name) => result.push(name),
                    Err(source) if !reported => {
                        reported = true;
                        b.problem(TranslateError::invalid_name(
                            annotation.field(),
                            item,
                            source,
                        ));
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
