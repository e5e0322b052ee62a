//! A zone's `nameTemplate`: Go `text/template` syntax, so that users paste external-dns's
//! `--fqdn-template` or mate's `--kubernetes-format` as they are. Parsed once, when the config
//! is loaded (an unknown function or a field the object cannot have is an error then), and
//! rendered per object into names separated by commas.

mod funcs;
mod guard;
mod names;

use std::{collections::BTreeMap, fmt, str::FromStr, sync::Arc};

use gtmpl::{Context, Template, Value, error::ExecError};
use kubezone_model::Kind;

pub(crate) use names::object_names;

/// The fields a template may read, as `.Name` etc.
const FIELDS: &str = ".Name, .Namespace, .Kind, .Labels, .Annotations";

/// What gtmpl prints for a map key that is missing; Go would print "" for the string maps of
/// a Kubernetes object. It is never part of a valid name, so it is reported by what it means.
const NO_VALUE: &str = "<no value>";

/// A parsed name template. Compared and printed as the text it was parsed from.
#[derive(Clone)]
pub struct NameTemplate {
    text: String,
    template: Arc<Template>,
}

/// Why a string is not a usable name template. The display names the whole template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid name template {template:?}: {reason}")]
pub struct NameTemplateError {
    pub template: String,
    pub reason: String,
}

/// The object a template is rendered for, as the template sees it. `.Cluster` may join these
/// once kubezone knows more than one cluster.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TemplateObject<'a> {
    pub(crate) kind: Kind,
    pub(crate) name: &'a str,
    /// Empty for cluster-scoped objects, as in Go's `GetNamespace()`.
    pub(crate) namespace: &'a str,
    pub(crate) labels: Option<&'a BTreeMap<String, String>>,
    pub(crate) annotations: Option<&'a BTreeMap<String, String>>,
    /// The object's cluster with several clusters (`clusters:`), else empty.
    pub(crate) cluster: &'a str,
}

impl NameTemplate {
    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The names the template gives `object`: its output split at commas, each trimmed of
    /// spaces and of one trailing dot, empty ones dropped, each once (as external-dns does).
    /// The error says why rendering failed, for a problem that names the object.
    pub(crate) fn render(&self, object: &TemplateObject<'_>) -> Result<Vec<String>, String> {
        let text = self
            .template
            .render(&Context::from(data(object)))
            .map_err(|e| exec_reason(&e))?;
        let mut names: Vec<String> = Vec::new();
        for item in text.split(',') {
            let item = item.trim();
            let item = item.strip_suffix('.').unwrap_or(item);
            if !item.is_empty() && !names.iter().any(|n| n == item) {
                names.push(item.to_string());
            }
        }
        Ok(names)
    }
}

impl FromStr for NameTemplate {
    type Err = NameTemplateError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |reason: String| NameTemplateError {
            template: text.to_string(),
            reason,
        };
        if text.trim().is_empty() {
            return Err(error("the template is empty".into()));
        }
        guard::check(text).map_err(error)?;
        let mut template = Template::default();
        template.add_funcs(funcs::FUNCS);
        // The guard keeps gtmpl's lexer from the texts known to break it; should another one
        // panic it, the template is refused rather than the config load brought down.
        let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            template
                .parse(text)
                .map(|()| template)
                .map_err(|e| parse_reason(&e))
        }));
        let template = match parsed {
            Ok(Ok(template)) => template,
            Ok(Err(reason)) => return Err(error(reason)),
            Err(_) => return Err(error("the template parser failed on it".into())),
        };
        let parsed = NameTemplate {
            text: text.to_string(),
            template: Arc::new(template),
        };
        parsed.check_fields().map_err(error)?;
        Ok(parsed)
    }
}

impl NameTemplate {
    /// Renders once for a made-up Service. Rendering errors that depend on an object are left
    /// for the objects, but a field no object has (`.name` for `.Name`) is found here: the
    /// fields are the same for every object.
    fn check_fields(&self) -> Result<(), String> {
        let sample = TemplateObject {
            kind: Kind::Service,
            name: "name",
            namespace: "namespace",
            labels: None,
            annotations: None,
            cluster: "cluster",
        };
        match self.template.render(&Context::from(data(&sample))) {
            Err(e @ ExecError::NoFiledFor(..)) => Err(exec_reason(&e)),
            _ => Ok(()),
        }
    }
}

impl fmt::Debug for NameTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("NameTemplate").field(&self.text).finish()
    }
}

impl fmt::Display for NameTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl PartialEq for NameTemplate {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for NameTemplate {}

/// The object as a gtmpl value: an object for the fields (a missing one is an error), maps
/// for labels and annotations (a missing key is no value, as in Go).
fn data(object: &TemplateObject<'_>) -> Value {
    let map = |m: Option<&BTreeMap<String, String>>| {
        Value::Map(
            m.into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                .collect(),
        )
    };
    Value::Object(
        [
            ("Name".to_string(), Value::from(object.name)),
            ("Namespace".to_string(), Value::from(object.namespace)),
            ("Kind".to_string(), Value::from(object.kind.as_str())),
            ("Labels".to_string(), map(object.labels)),
            ("Annotations".to_string(), map(object.annotations)),
            ("Cluster".to_string(), Value::from(object.cluster)),
        ]
        .into_iter()
        .collect(),
    )
}

/// gtmpl's parse errors carry a line number one too high: the message alone says more.
fn parse_reason(error: &gtmpl::error::ParseError) -> String {
    match error {
        gtmpl::error::ParseError::WithContext(_, message) => message.clone(),
        other => other.to_string(),
    }
}

/// gtmpl prints the whole receiver of a missing field, which for a Kubernetes object can be
/// kilobytes of annotations: name the field and what there is instead.
fn exec_reason(error: &ExecError) -> String {
    match error {
        ExecError::NoFiledFor(field, _) => format!("no field .{field}; the fields are {FIELDS}"),
        ExecError::InvalidRange(_) => "range over a value that is not a map or a list".into(),
        ExecError::OnlyMapsAndObjectsHaveFields => {
            "a field of a value that is not a map (only .Labels and .Annotations have keys)".into()
        }
        other => other.to_string(),
    }
}

/// Why a rendered name holds gtmpl's `<no value>`, if it does.
pub(crate) fn no_value_reason(name: &str) -> Option<&'static str> {
    name.contains(NO_VALUE).then_some(
        "the template printed <no value>: a label or annotation it reads is missing (guard it with `if`, `with` or `hasKey`)",
    )
}

#[cfg(test)]
mod tests;
