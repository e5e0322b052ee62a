//! The names of an object with no hostname of its own: each zone's template, or its default.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kubezone_model::DnsName;

use super::{TemplateObject, no_value_reason};
use crate::{TranslateError, ZoneFilter, output::Builder};

/// In each zone that serves the object's Kind: `default(zone)` in a zone without a
/// `nameTemplate`, else, if the zone admits the object's annotations and `accepts` it, the
/// template's names. Each name is then served by the zone it falls in, like any other. A template that fails, or a name it
/// gives that is not one, becomes a problem naming the zone, the template and the value; the
/// object's other names are kept.
pub(crate) fn object_names(
    b: &mut Builder<'_>,
    meta: &ObjectMeta,
    accepts: impl Fn(&ZoneFilter) -> bool,
    default: impl Fn(&ZoneFilter) -> Option<Result<DnsName, TranslateError>>,
) -> Vec<DnsName> {
    let kind = b.kind();
    let object = b.object().clone();
    let data = TemplateObject {
        kind,
        name: object.name(),
        namespace: object.namespace().unwrap_or_default(),
        labels: meta.labels.as_ref(),
        annotations: meta.annotations.as_ref(),
        cluster: object.cluster().map_or("", |c| c.name()),
    };
    let mut names: Vec<DnsName> = Vec::new();
    // Zones that share a template (a chart's domains do) render it once: one set of names,
    // and one report of what is wrong with them.
    let mut rendered: Vec<&str> = Vec::new();
    for (index, zone) in b.zones().iter().enumerate() {
        if !zone.serves(kind) {
            continue;
        }
        // The default is checked where it is served, like any name; a template is rendered
        // only for the objects its zone takes, so no other object hears of its failures.
        let Some(template) = &zone.name_template else {
            if let Some(name) = default(zone) {
                names.extend(b.check(name));
            }
            continue;
        };
        if !b.admitted_by(index) || !accepts(zone) {
            continue;
        }
        if rendered.contains(&template.as_str()) {
            continue;
        }
        rendered.push(template.as_str());
        let field = format!("zone {} nameTemplate", zone.origin);
        let rendered = template
            .render(&data)
            .map_err(|reason| TranslateError::TemplateFailed {
                field: field.clone(),
                template: template.as_str().to_string(),
                reason,
            });
        // gtmpl ranges over a map in no fixed order (Go sorts the keys): sorted, the names and
        // their problems come out the same every time.
        let mut texts: Vec<String> = b.check(rendered).into_iter().flatten().collect();
        texts.sort();
        for text in texts {
            let name = match no_value_reason(&text) {
                Some(reason) => Err(reason.to_string()),
                None => DnsName::parse(&text).map_err(|e| e.to_string()),
            };
            let name = name.map_err(|reason| TranslateError::TemplateName {
                field: field.clone(),
                template: template.as_str().to_string(),
                value: text.clone(),
                reason,
            });
            names.extend(b.check(name));
        }
    }
    names.sort();
    names.dedup();
    names
}
