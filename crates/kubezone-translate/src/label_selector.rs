//! Kubernetes label selectors in their string form: `app=web,tier in (a,b),!legacy`.
//!
//! kube-core can match a selector but has no parser for the string form (it only converts the
//! structured `LabelSelector` of the API), so the grammar of `k8s.io/apimachinery/pkg/labels`
//! is parsed here and matching is left to [`kube::core::Selector`].

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
    str::FromStr,
};

use kube::core::{Expression, Selector, SelectorExt};
use serde::{Deserialize, Serialize};

/// A parsed label selector: comma-separated requirements that must all hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LabelSelector {
    text: String,
    selector: Selector,
}

/// Why a string is not a label selector. The display names the whole selector.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid label selector {selector:?}: {reason}")]
pub struct LabelSelectorError {
    pub selector: String,
    pub reason: String,
}

impl LabelSelector {
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.selector.matches(labels)
    }

    /// The selector as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether this is the empty selector, which matches everything (as in Kubernetes).
    pub fn selects_all(&self) -> bool {
        self.selector.selects_all()
    }
}

impl FromStr for LabelSelector {
    type Err = LabelSelectorError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let expressions = Parser {
            tokens: lex(text),
            pos: 0,
        }
        .selector()
        .map_err(|reason| LabelSelectorError {
            selector: text.to_string(),
            reason,
        })?;
        Ok(LabelSelector {
            text: text.to_string(),
            selector: expressions.into_iter().collect(),
        })
    }
}

impl TryFrom<String> for LabelSelector {
    type Error = LabelSelectorError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<LabelSelector> for String {
    fn from(selector: LabelSelector) -> Self {
        selector.text
    }
}

impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    /// A key or a value; `in` and `notin` are told apart by position, as Kubernetes does for values.
    Word(&'a str),
    Not,
    Equals,
    DoubleEquals,
    NotEquals,
    Greater,
    Less,
    Open,
    Close,
    Comma,
}

impl fmt::Display for Token<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Word(w) => write!(f, "{w:?}"),
            Token::Not => f.write_str("'!'"),
            Token::Equals => f.write_str("'='"),
            Token::DoubleEquals => f.write_str("'=='"),
            Token::NotEquals => f.write_str("'!='"),
            Token::Greater => f.write_str("'>'"),
            Token::Less => f.write_str("'<'"),
            Token::Open => f.write_str("'('"),
            Token::Close => f.write_str("')'"),
            Token::Comma => f.write_str("','"),
        }
    }
}

fn is_special(c: char) -> bool {
    matches!(c, '=' | '!' | '(' | ')' | ',' | '<' | '>')
}

fn lex(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c.is_whitespace() {
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let (token, len) = match c {
            '!' if rest.starts_with("!=") => (Token::NotEquals, 2),
            '!' => (Token::Not, 1),
            '=' if rest.starts_with("==") => (Token::DoubleEquals, 2),
            '=' => (Token::Equals, 1),
            '>' => (Token::Greater, 1),
            '<' => (Token::Less, 1),
            '(' => (Token::Open, 1),
            ')' => (Token::Close, 1),
            ',' => (Token::Comma, 1),
            _ => {
                let len = rest
                    .find(|c: char| c.is_whitespace() || is_special(c))
                    .unwrap_or(rest.len());
                (Token::Word(&rest[..len]), len)
            }
        };
        tokens.push(token);
        rest = &rest[len..];
    }
    tokens
}

struct Parser<'a> {
    tokens: Vec<Token<'a>>,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<Token<'a>> {
        self.tokens.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<Token<'a>> {
        let token = self.peek();
        if token.is_some() {
            self.pos += 1;
        }
        token
    }

    fn selector(mut self) -> Result<Vec<Expression>, String> {
        let mut expressions = Vec::new();
        // The empty selector matches everything, as `labels.Parse("")` does.
        if self.peek().is_none() {
            return Ok(expressions);
        }
        loop {
            expressions.push(self.requirement()?);
            match self.next() {
                None => return Ok(expressions),
                Some(Token::Comma) if self.peek().is_none() => {
                    return Err("expected a requirement after the last ','".into());
                }
                Some(Token::Comma) => {}
                Some(other) => return Err(format!("found {other}, expected ',' or the end")),
            }
        }
    }

    fn requirement(&mut self) -> Result<Expression, String> {
        match self.next() {
            Some(Token::Not) => match self.next() {
                Some(Token::Word(key)) => {
                    check_key(key)?;
                    Ok(Expression::DoesNotExist(key.to_string()))
                }
                Some(other) => Err(format!("found {other}, expected a key after '!'")),
                None => Err("expected a key after '!'".into()),
            },
            Some(Token::Word(key)) => {
                check_key(key)?;
                self.operation(key)
            }
            Some(other) => Err(format!("found {other}, expected a key")),
            None => Err("expected a key".into()),
        }
    }

    fn operation(&mut self, key: &str) -> Result<Expression, String> {
        let key_owned = key.to_string();
        match self.peek() {
            None | Some(Token::Comma) => Ok(Expression::Exists(key_owned)),
            Some(Token::Equals | Token::DoubleEquals) => {
                self.pos += 1;
                Ok(Expression::Equal(key_owned, self.exact_value()?))
            }
            Some(Token::NotEquals) => {
                self.pos += 1;
                Ok(Expression::NotEqual(key_owned, self.exact_value()?))
            }
            Some(Token::Word("in")) => {
                self.pos += 1;
                Ok(Expression::In(key_owned, self.value_set()?))
            }
            Some(Token::Word("notin")) => {
                self.pos += 1;
                Ok(Expression::NotIn(key_owned, self.value_set()?))
            }
            Some(op @ (Token::Greater | Token::Less)) => Err(format!(
                "operator {op} after key {key:?} is not supported; use =, ==, !=, in, notin"
            )),
            Some(other) => Err(format!(
                "found {other} after key {key:?}, expected =, ==, !=, in, notin, ',' or the end"
            )),
        }
    }

    /// `k=` is allowed and matches an empty value, as in Kubernetes.
    fn exact_value(&mut self) -> Result<String, String> {
        match self.peek() {
            None | Some(Token::Comma) => Ok(String::new()),
            Some(Token::Word(value)) => {
                self.pos += 1;
                check_value(value)?;
                Ok(value.to_string())
            }
            Some(other) => Err(format!("found {other}, expected a value")),
        }
    }

    /// `(a,b)`. An empty item (`(a,)`) is the empty value, as in Kubernetes; `()` is an error.
    fn value_set(&mut self) -> Result<BTreeSet<String>, String> {
        match self.next() {
            Some(Token::Open) => {}
            Some(other) => return Err(format!("found {other}, expected '(' after in/notin")),
            None => return Err("expected '(' after in/notin".into()),
        }
        let mut values = BTreeSet::new();
        let mut pending: Option<&str> = None;
        let mut saw_comma = false;
        loop {
            match self.next() {
                Some(Token::Word(value)) if pending.is_none() => {
                    check_value(value)?;
                    pending = Some(value);
                }
                Some(Token::Comma) => {
                    values.insert(pending.take().unwrap_or_default().to_string());
                    saw_comma = true;
                }
                Some(Token::Close) => {
                    if pending.is_some() || saw_comma {
                        values.insert(pending.take().unwrap_or_default().to_string());
                    }
                    break;
                }
                Some(other) => return Err(format!("found {other}, expected a value, ',' or ')'")),
                None => return Err("missing ')'".into()),
            }
        }
        if values.is_empty() {
            return Err("in/notin needs at least one value".into());
        }
        Ok(values)
    }
}

/// A Kubernetes qualified name: `[prefix/]name`, the prefix a DNS subdomain.
fn check_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        let valid_label = |l: &str| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if prefix.is_empty() || prefix.len() > 253 || !prefix.split('.').all(valid_label) {
            return Err(format!(
                "key {key:?}: prefix {prefix:?} must be a lower-case DNS subdomain of at most 253 characters"
            ));
        }
    }
    if name.is_empty() || name.len() > 63 || !is_label_word(name) {
        return Err(format!(
            "key {key:?}: name part must be 1-63 characters of a-z, A-Z, 0-9, '-', '_', '.', starting and ending alphanumeric"
        ));
    }
    Ok(())
}

/// A label value: empty, or like the name part of a key.
fn check_value(value: &str) -> Result<(), String> {
    if value.len() > 63 || !(value.is_empty() || is_label_word(value)) {
        return Err(format!(
            "value {value:?} must be at most 63 characters of a-z, A-Z, 0-9, '-', '_', '.', starting and ending alphanumeric"
        ));
    }
    Ok(())
}

fn is_label_word(word: &str) -> bool {
    let bytes = word.as_bytes();
    let alnum = |b: &u8| b.is_ascii_alphanumeric();
    bytes.first().is_some_and(alnum)
        && bytes.last().is_some_and(alnum)
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn sel(text: &str) -> LabelSelector {
        text.parse().expect("valid selector")
    }

    #[test]
    fn equality() {
        let web = labels(&[("app", "web"), ("tier", "front")]);
        assert!(sel("app=web").matches(&web));
        assert!(sel("app==web").matches(&web));
        assert!(sel(" app = web ").matches(&web));
        assert!(!sel("app=api").matches(&web));
        assert!(sel("app!=api").matches(&web));
        assert!(!sel("app!=web").matches(&web));
        // != also matches when the key is missing.
        assert!(sel("missing!=x").matches(&web));
        assert!(sel("app=web,tier=front").matches(&web));
        assert!(!sel("app=web,tier=back").matches(&web));
    }

    #[test]
    fn empty_value() {
        assert!(sel("app=").matches(&labels(&[("app", "")])));
        assert!(!sel("app=").matches(&labels(&[("app", "x")])));
        assert!(sel("app=,b").matches(&labels(&[("app", ""), ("b", "1")])));
    }

    #[test]
    fn sets() {
        let web = labels(&[("tier", "b")]);
        assert!(sel("tier in (a,b)").matches(&web));
        assert!(sel("tier in (a, b )").matches(&web));
        assert!(!sel("tier in (a,c)").matches(&web));
        assert!(sel("tier notin (a,c)").matches(&web));
        assert!(!sel("tier notin (b)").matches(&web));
        assert!(!sel("other in (a)").matches(&web));
        assert!(sel("other notin (a)").matches(&web));
        assert!(sel("tier in (a,)").matches(&labels(&[("tier", "")])));
        // "in" and "notin" are plain values inside the parentheses.
        assert!(sel("op in (in,notin)").matches(&labels(&[("op", "notin")])));
    }

    #[test]
    fn existence() {
        let web = labels(&[("app", "web")]);
        assert!(sel("app").matches(&web));
        assert!(!sel("!app").matches(&web));
        assert!(sel("!legacy").matches(&web));
        assert!(!sel("legacy").matches(&web));
        assert!(sel("app, !legacy, app in (web)").matches(&web));
    }

    #[test]
    fn prefixed_keys() {
        let l = labels(&[("app.kubernetes.io/name", "web")]);
        assert!(sel("app.kubernetes.io/name=web").matches(&l));
    }

    #[test]
    fn empty_selects_all() {
        assert!(sel("").selects_all());
        assert!(sel("  ").matches(&labels(&[])));
        assert!(!sel("a").selects_all());
    }

    #[test]
    fn round_trips_text() {
        assert_eq!(sel("app in (a,b)").to_string(), "app in (a,b)");
        let s: String = sel("x=y").into();
        assert_eq!(s, "x=y");
    }

    #[test]
    fn rejects_bad_syntax_naming_the_selector() {
        for bad in [
            "app=web,",
            ",app",
            "app=(x)",
            "app in",
            "app in a",
            "app in ()",
            "app in (a",
            "app in (a b)",
            "app notin (a))",
            "app > 3",
            "app < 3",
            "!",
            "!app=x",
            "app x",
            "=x",
            "app=web tier=x",
            "-app=x",
            "app=-x",
            "Bad_Prefix/app=x",
            "/app=x",
            "app/=x",
        ] {
            let err = bad.parse::<LabelSelector>().expect_err(bad);
            assert_eq!(err.selector, bad);
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn rejects_long_keys_and_values() {
        let long = "a".repeat(64);
        let err = format!("{long}=x")
            .parse::<LabelSelector>()
            .expect_err("key too long");
        assert!(err.reason.contains(&long), "{err}");
        let err = format!("x={long}")
            .parse::<LabelSelector>()
            .expect_err("value too long");
        assert!(err.reason.contains(&long), "{err}");
        assert!(
            format!("x={}", "a".repeat(63))
                .parse::<LabelSelector>()
                .is_ok()
        );
    }

    #[test]
    fn deserializes_from_a_string() {
        let s: LabelSelector = serde_json::from_str("\"app=web\"").expect("valid");
        assert_eq!(s.as_str(), "app=web");
        let err = serde_json::from_str::<LabelSelector>("\"app in\"").expect_err("invalid");
        assert!(err.to_string().contains("app in"), "{err}");
    }
}
