//! Corefile tokens, split as CoreDNS's Caddyfile lexer splits them: on white space, `#` starts a
//! comment anywhere outside quotes, and only `\"` is an escape inside quotes.

use crate::MigrateError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    /// The line the token starts on (1-based).
    pub line: usize,
    /// The line it ends on: a quoted token may span lines.
    pub end_line: usize,
    pub quoted: bool,
}

impl Token {
    pub fn is_open(&self) -> bool {
        !self.quoted && self.text == "{"
    }

    pub fn is_close(&self) -> bool {
        !self.quoted && self.text == "}"
    }
}

pub fn lex(input: &str) -> Result<Vec<Token>, MigrateError> {
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut chars = input.chars();
    let mut word = String::new();
    let mut start = 0;
    let mut comment = false;

    let flush = |word: &mut String, start: usize, line: usize, tokens: &mut Vec<Token>| {
        if !word.is_empty() {
            tokens.push(Token {
                text: std::mem::take(word),
                line: start,
                end_line: line,
                quoted: false,
            });
        }
    };

    while let Some(ch) = chars.next() {
        if ch == '\n' {
            flush(&mut word, start, line, &mut tokens);
            line += 1;
            comment = false;
            continue;
        }
        if comment || ch == '\r' {
            continue;
        }
        if ch.is_whitespace() {
            flush(&mut word, start, line, &mut tokens);
            continue;
        }
        if ch == '#' {
            flush(&mut word, start, line, &mut tokens);
            comment = true;
            continue;
        }
        if ch == '"' && word.is_empty() {
            let opened = line;
            let mut text = String::new();
            let mut closed = false;
            let mut escaped = false;
            for c in chars.by_ref() {
                if !escaped && c == '\\' {
                    escaped = true;
                    continue;
                }
                if !escaped && c == '"' {
                    closed = true;
                    break;
                }
                if c == '\n' {
                    line += 1;
                }
                if escaped && c != '"' {
                    text.push('\\');
                }
                text.push(c);
                escaped = false;
            }
            if !closed {
                return Err(MigrateError::Syntax {
                    line: opened,
                    message: "unterminated quoted string".into(),
                });
            }
            tokens.push(Token {
                text,
                line: opened,
                end_line: line,
                quoted: true,
            });
            continue;
        }
        if word.is_empty() {
            start = line;
        }
        word.push(ch);
    }
    flush(&mut word, start, line, &mut tokens);
    // CoreDNS sees no block in `example.com{` either; say so rather than fail further down.
    if let Some(t) = tokens
        .iter()
        .find(|t| !t.quoted && t.text.len() > 1 && t.text.ends_with('{'))
    {
        return Err(MigrateError::Syntax {
            line: t.end_line,
            message: format!("`{}`: put a space before `{{`", t.text),
        });
    }
    Ok(tokens)
}

/// Every `{$VAR}` or `{%VAR%}` in the tokens, with its line: CoreDNS expands them from its
/// environment, kubezone's config does not.
pub fn env_placeholders(tokens: &[Token]) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for token in tokens {
        let mut rest = token.text.as_str();
        while let Some(open) = rest.find('{') {
            let after = &rest[open..];
            let end = match after.as_bytes().get(1) {
                Some(b'$') => after.find('}').map(|i| i + 1),
                Some(b'%') => after[2..].find("%}").map(|i| i + 4),
                _ => None,
            };
            match end {
                Some(end) => {
                    found.push((token.line, after[..end].to_string()));
                    rest = &after[end..];
                }
                None => rest = &after[1..],
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(input: &str) -> Vec<(String, usize)> {
        lex(input)
            .expect("lexes")
            .into_iter()
            .map(|t| (t.text, t.line))
            .collect()
    }

    #[test]
    fn splits_on_space_and_skips_comments() {
        assert_eq!(
            texts(".:53 {\n  # a comment { }\n  log # trailing\n  ttl 30#inline\n}\n"),
            [
                (".:53".to_string(), 1),
                ("{".into(), 1),
                ("log".into(), 3),
                ("ttl".into(), 4),
                ("30".into(), 4),
                ("}".into(), 5),
            ]
        );
    }

    #[test]
    fn quoted_strings_keep_spaces_braces_and_escaped_quotes() {
        let tokens = lex("a \"app in (x, y)\" \"{\" \"say \\\"hi\\\" \\d\"\r\n\"two\nlines\" b")
            .expect("lexes");
        let texts: Vec<_> = tokens.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "a",
                "app in (x, y)",
                "{",
                "say \"hi\" \\d",
                "two\nlines",
                "b"
            ]
        );
        assert!(!tokens[2].is_open(), "a quoted brace is text");
        assert_eq!((tokens[4].line, tokens[4].end_line), (2, 3));
        assert_eq!(tokens[5].line, 3);
    }

    #[test]
    fn an_unterminated_quote_names_its_line() {
        let err = lex("a\nb \"open\nmore").expect_err("unterminated");
        assert_eq!(err.to_string(), "line 2: unterminated quoted string");
    }

    #[test]
    fn a_brace_glued_to_a_word_is_an_error() {
        let err = lex(".:53 {\n  k8s_gateway example.com{\n  }\n}").expect_err("glued");
        assert_eq!(
            err.to_string(),
            "line 2: `example.com{`: put a space before `{`"
        );
    }

    #[test]
    fn finds_environment_placeholders() {
        let tokens =
            lex("{$DOMAIN}:53 {\n k8s_gateway a.{$ZONE}.b {%WIN%} {notvar}\n}").expect("lexes");
        assert_eq!(
            env_placeholders(&tokens),
            [
                (1, "{$DOMAIN}".to_string()),
                (2, "{$ZONE}".into()),
                (2, "{%WIN%}".into())
            ]
        );
    }
}
