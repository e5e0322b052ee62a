//! The functions external-dns adds to its `--fqdn-template` (`source/template/functions.go`),
//! with its argument order, so its users' templates render the same; and `len` for maps,
//! which gtmpl's own `len` refuses.

use std::{collections::HashMap, net::IpAddr};

use gtmpl::{Func, FuncError, Value};

pub(super) const FUNCS: &[(&str, Func)] = &[
    ("contains", contains),
    ("trimPrefix", trim_prefix),
    ("trimSuffix", trim_suffix),
    ("trim", trim),
    ("toLower", to_lower),
    ("replace", replace),
    ("isIPv4", is_ipv4),
    ("isIPv6", is_ipv6),
    ("hasKey", has_key),
    ("fromJson", from_json),
    ("len", len),
];

/// The arguments of `name`, exactly `N` of them.
fn args<'a, const N: usize>(name: &str, args: &'a [Value]) -> Result<&'a [Value; N], FuncError> {
    args.try_into()
        .map_err(|_| FuncError::ExactlyXArgs(name.into(), N))
}

/// A string argument. A missing label or annotation is the empty string, as Go's string maps
/// give it.
fn text<'a>(name: &str, value: &'a Value) -> Result<&'a str, FuncError> {
    match value {
        Value::String(s) => Ok(s),
        Value::NoValue | Value::Nil => Ok(""),
        other => Err(FuncError::Generic(format!(
            "{name} expects a string, not {other}"
        ))),
    }
}

/// `contains s substr`: Go's `strings.Contains`.
fn contains(values: &[Value]) -> Result<Value, FuncError> {
    let [s, substr] = args("contains", values)?;
    Ok(Value::from(
        text("contains", s)?.contains(text("contains", substr)?),
    ))
}

/// `trimPrefix s prefix`: Go's `strings.TrimPrefix`.
fn trim_prefix(values: &[Value]) -> Result<Value, FuncError> {
    let [s, prefix] = args("trimPrefix", values)?;
    let s = text("trimPrefix", s)?;
    let prefix = text("trimPrefix", prefix)?;
    Ok(Value::from(s.strip_prefix(prefix).unwrap_or(s)))
}

/// `trimSuffix s suffix`: Go's `strings.TrimSuffix`.
fn trim_suffix(values: &[Value]) -> Result<Value, FuncError> {
    let [s, suffix] = args("trimSuffix", values)?;
    let s = text("trimSuffix", s)?;
    let suffix = text("trimSuffix", suffix)?;
    Ok(Value::from(s.strip_suffix(suffix).unwrap_or(s)))
}

/// `trim s`: Go's `strings.TrimSpace`.
fn trim(values: &[Value]) -> Result<Value, FuncError> {
    let [s] = args("trim", values)?;
    Ok(Value::from(text("trim", s)?.trim()))
}

fn to_lower(values: &[Value]) -> Result<Value, FuncError> {
    let [s] = args("toLower", values)?;
    Ok(Value::from(text("toLower", s)?.to_lowercase()))
}

/// `replace old new s`, sprig's order, so `{{ .Name | replace "." "-" }}` works.
fn replace(values: &[Value]) -> Result<Value, FuncError> {
    let [old, new, s] = args("replace", values)?;
    Ok(Value::from(
        text("replace", s)?.replace(text("replace", old)?, text("replace", new)?),
    ))
}

fn ip(name: &str, values: &[Value]) -> Result<Option<IpAddr>, FuncError> {
    let [s] = args(name, values)?;
    Ok(text(name, s)?.parse::<IpAddr>().ok())
}

fn is_ipv4(values: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::from(matches!(
        ip("isIPv4", values)?,
        Some(IpAddr::V4(_))
    )))
}

/// IPv4-mapped IPv6 addresses count as IPv6, as in external-dns.
fn is_ipv6(values: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::from(matches!(
        ip("isIPv6", values)?,
        Some(IpAddr::V6(_))
    )))
}

/// `hasKey map key`: whether the key is there, even with an empty value (`index` cannot tell).
fn has_key(values: &[Value]) -> Result<Value, FuncError> {
    let [map, key] = args("hasKey", values)?;
    let key = text("hasKey", key)?;
    match map {
        Value::Map(m) | Value::Object(m) => Ok(Value::from(m.contains_key(key))),
        Value::NoValue | Value::Nil => Ok(Value::from(false)),
        other => Err(FuncError::Generic(format!(
            "hasKey expects a map, not {other}"
        ))),
    }
}

/// `fromJson s`: the JSON value, or nothing when `s` is not JSON (as external-dns does).
fn from_json(values: &[Value]) -> Result<Value, FuncError> {
    let [s] = args("fromJson", values)?;
    Ok(
        serde_json::from_str::<serde_json::Value>(text("fromJson", s)?)
            .map(to_value)
            .unwrap_or(Value::Nil),
    )
}

fn to_value(json: serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::from(b),
        serde_json::Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => Value::from(u),
            (None, Some(i), _) => Value::from(i),
            (None, None, Some(f)) => Value::from(f),
            _ => Value::Nil,
        },
        serde_json::Value::String(s) => Value::from(s),
        serde_json::Value::Array(items) => Value::Array(items.into_iter().map(to_value).collect()),
        serde_json::Value::Object(fields) => Value::Map(
            fields
                .into_iter()
                .map(|(k, v)| (k, to_value(v)))
                .collect::<HashMap<_, _>>(),
        ),
    }
}

/// `len x`: the length of a string (in bytes, as Go's), list or map.
fn len(values: &[Value]) -> Result<Value, FuncError> {
    let [value] = args("len", values)?;
    let n = match value {
        Value::String(s) => s.len(),
        Value::Array(a) => a.len(),
        Value::Map(m) | Value::Object(m) => m.len(),
        Value::NoValue | Value::Nil => 0,
        other => {
            return Err(FuncError::Generic(format!("len of {other}")));
        }
    };
    Ok(Value::from(n))
}
