//! Corefile structure: server blocks (`KEYS... { directives }`), each directive a name, the
//! arguments on its line and an optional nested block. Snippets `(name) { }` are expanded where
//! they are imported; imported files are not read (a warning says so).

use std::collections::HashMap;

use crate::{MigrateError, lexer::Token, notes::Notes};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerBlock {
    pub keys: Vec<Token>,
    pub directives: Vec<Directive>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub name: Token,
    pub args: Vec<Token>,
    /// The `{ ... }` after the arguments, one directive per line inside.
    pub block: Option<Vec<Directive>>,
}

impl Directive {
    pub fn line(&self) -> usize {
        self.name.line
    }

    pub fn is(&self, name: &str) -> bool {
        !self.name.quoted && self.name.text == name
    }

    pub fn arg_texts(&self) -> Vec<&str> {
        self.args.iter().map(|a| a.text.as_str()).collect()
    }
}

pub fn parse(tokens: Vec<Token>, notes: &mut Notes) -> Result<Vec<ServerBlock>, MigrateError> {
    let mut parser = Parser {
        tokens,
        pos: 0,
        snippets: HashMap::new(),
        notes,
    };
    parser.server_blocks()
}

struct Parser<'n> {
    tokens: Vec<Token>,
    pos: usize,
    snippets: HashMap<String, Vec<Directive>>,
    notes: &'n mut Notes,
}

fn syntax(line: usize, message: impl Into<String>) -> MigrateError {
    MigrateError::Syntax {
        line,
        message: message.into(),
    }
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token
    }

    /// The tokens after `after` on its line, up to a brace.
    fn rest_of_line(&mut self, after: &Token) -> Vec<Token> {
        let mut args = Vec::new();
        let mut line = after.end_line;
        while let Some(t) = self.peek() {
            if t.line != line || t.is_open() || t.is_close() {
                break;
            }
            line = t.end_line;
            args.extend(self.next());
        }
        args
    }

    fn server_blocks(&mut self) -> Result<Vec<ServerBlock>, MigrateError> {
        let mut blocks = Vec::new();
        let mut first = true;
        while let Some(token) = self.peek().cloned() {
            if token.is_close() {
                return Err(syntax(token.line, "unbalanced `}`"));
            }
            if token.is_open() {
                return Err(syntax(token.line, "`{` without a server address before it"));
            }
            if token.text == "import" && !token.quoted {
                self.next();
                let args = self.rest_of_line(&token);
                let what = args.first().map_or("", |a| a.text.as_str());
                self.notes.at(
                    token.line,
                    format!(
                        "`import {what}` between server blocks is not followed: migrate the server blocks it imports by pasting them in its place"
                    ),
                );
                continue;
            }
            let keys = self.keys()?;
            let directives = match self.peek() {
                Some(t) if t.is_open() => {
                    let open = t.line;
                    self.next();
                    self.directives(Some(open))?
                }
                // Caddy's one braceless block: the rest of the file is its directives.
                _ if first => self.directives(None)?,
                Some(t) => {
                    return Err(syntax(
                        t.line,
                        format!(
                            "expected `{{` after the server address {}",
                            keys_text(&keys)
                        ),
                    ));
                }
                None => {
                    let line = keys.last().map_or(1, |k| k.end_line);
                    return Err(syntax(
                        line,
                        format!(
                            "expected `{{` after the server address {}",
                            keys_text(&keys)
                        ),
                    ));
                }
            };
            first = false;
            if let [key] = &keys[..]
                && let Some(name) = key.text.strip_prefix('(').and_then(|k| k.strip_suffix(')'))
            {
                self.snippets.insert(name.to_string(), directives);
                continue;
            }
            blocks.push(ServerBlock { keys, directives });
        }
        Ok(blocks)
    }

    /// Server addresses, separated by spaces or commas, up to `{` or the end of a line that
    /// does not end with a comma.
    fn keys(&mut self) -> Result<Vec<Token>, MigrateError> {
        let mut keys = Vec::new();
        while let Some(mut token) = self.next() {
            let expecting_another = token.text.ends_with(',');
            if expecting_another {
                token.text.pop();
            }
            if !token.text.is_empty() {
                keys.push(token.clone());
            }
            match self.peek() {
                None if expecting_another => {
                    return Err(syntax(
                        token.line,
                        "expected another server address after the trailing comma",
                    ));
                }
                None => break,
                Some(next) if next.is_open() => {
                    if expecting_another {
                        return Err(syntax(
                            next.line,
                            "expected another server address after the trailing comma, found `{`",
                        ));
                    }
                    break;
                }
                Some(next) if next.is_close() => {
                    return Err(syntax(next.line, "unbalanced `}`"));
                }
                Some(next) if !expecting_another && next.line > token.end_line => break,
                Some(_) => {}
            }
        }
        Ok(keys)
    }

    /// Directives up to the `}` closing the block opened on line `open`, or to the end of the
    /// file when there is no block.
    fn directives(&mut self, open: Option<usize>) -> Result<Vec<Directive>, MigrateError> {
        let mut out = Vec::new();
        loop {
            let Some(name) = self.next() else {
                return match open {
                    Some(line) => Err(syntax(line, "`{` is never closed")),
                    None => Ok(out),
                };
            };
            if name.is_close() {
                return match open {
                    Some(_) => Ok(out),
                    None => Err(syntax(name.line, "unbalanced `}`")),
                };
            }
            if name.is_open() {
                return Err(syntax(name.line, "`{` without a directive before it"));
            }
            let args = self.rest_of_line(&name);
            let block = match self.peek() {
                Some(t) if t.is_open() => {
                    let line = t.line;
                    self.next();
                    Some(self.directives(Some(line))?)
                }
                _ => None,
            };
            let directive = Directive { name, args, block };
            if directive.is("import") {
                self.import(directive, &mut out);
            } else {
                out.push(directive);
            }
        }
    }

    fn import(&mut self, import: Directive, out: &mut Vec<Directive>) {
        let line = import.line();
        let Some((what, args)) = import.args.split_first() else {
            self.notes
                .at(line, "`import` without a snippet or file name is ignored");
            return;
        };
        match self.snippets.get(&what.text) {
            Some(snippet) => {
                let args: Vec<&str> = args.iter().map(|a| a.text.as_str()).collect();
                out.extend(snippet.iter().map(|d| with_args(d, &args)));
            }
            None => self.notes.at(
                line,
                format!(
                    "`import {}` is not followed: no snippet of that name is defined above it, and files are not read; paste the imported directives in its place and migrate again",
                    what.text
                ),
            ),
        }
    }
}

fn keys_text(keys: &[Token]) -> String {
    let keys: Vec<&str> = keys.iter().map(|k| k.text.as_str()).collect();
    format!("`{}`", keys.join(" "))
}

/// A snippet's directive with `{args[N]}` replaced by the import's arguments.
fn with_args(directive: &Directive, args: &[&str]) -> Directive {
    let replace = |token: &Token| {
        let mut token = token.clone();
        for (i, arg) in args.iter().enumerate() {
            token.text = token.text.replace(&format!("{{args[{i}]}}"), arg);
        }
        token
    };
    Directive {
        name: replace(&directive.name),
        args: directive.args.iter().map(replace).collect(),
        block: directive
            .block
            .as_ref()
            .map(|b| b.iter().map(|d| with_args(d, args)).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::lex;

    fn blocks(input: &str) -> (Result<Vec<ServerBlock>, MigrateError>, Vec<String>) {
        let mut notes = Notes::default();
        let result = lex(input).and_then(|t| parse(t, &mut notes));
        (result, notes.into_strings())
    }

    /// A compact view: `keys: name args {nested}; ...`.
    fn shape(blocks: &[ServerBlock]) -> Vec<String> {
        fn directive(d: &Directive) -> String {
            let mut s = d.name.text.clone();
            for a in &d.args {
                s.push(' ');
                s.push_str(&a.text);
            }
            if let Some(block) = &d.block {
                let inner: Vec<String> = block.iter().map(directive).collect();
                s.push_str(&format!(" {{{}}}", inner.join("; ")));
            }
            s
        }
        blocks
            .iter()
            .map(|b| {
                let keys: Vec<&str> = b.keys.iter().map(|k| k.text.as_str()).collect();
                let ds: Vec<String> = b.directives.iter().map(directive).collect();
                format!("{}: {}", keys.join(" "), ds.join("; "))
            })
            .collect()
    }

    #[test]
    fn server_blocks_keys_and_nested_blocks() {
        let (result, notes) = blocks(
            "example.com:53 other.org {\n  k8s_gateway example.com {\n    resources Ingress\n    ttl 30\n  }\n  forward . 1.1.1.1 {\n    policy sequential\n  }\n}\n\n.:1053 {\n  log\n}\n",
        );
        assert_eq!(
            shape(&result.expect("parses")),
            [
                "example.com:53 other.org: k8s_gateway example.com {resources Ingress; ttl 30}; forward . 1.1.1.1 {policy sequential}",
                ".:1053: log",
            ]
        );
        assert!(notes.is_empty(), "{notes:?}");
    }

    #[test]
    fn comma_separated_keys_may_continue_on_the_next_line() {
        let (result, _) = blocks("a.example,\n b.example, c.example\n{\n log\n}");
        assert_eq!(
            shape(&result.expect("parses")),
            ["a.example b.example c.example: log"]
        );
    }

    #[test]
    fn a_brace_on_the_next_line_opens_the_directive_block() {
        let (result, _) = blocks(".:53 {\n health\n {\n  lameduck 5s\n }\n ready\n}");
        assert_eq!(
            shape(&result.expect("parses")),
            [".:53: health {lameduck 5s}; ready"]
        );
    }

    #[test]
    fn a_single_block_may_have_no_braces() {
        let (result, _) = blocks("example.com\nk8s_gateway\nlog\n");
        assert_eq!(
            shape(&result.expect("parses")),
            ["example.com: k8s_gateway; log"]
        );
    }

    #[test]
    fn snippets_are_expanded_with_their_arguments() {
        let (result, notes) = blocks(
            "(common) {\n  errors\n  prometheus {args[0]}\n}\n.:53 {\n  import common 0.0.0.0:9153\n  import other.conf\n}",
        );
        assert_eq!(
            shape(&result.expect("parses")),
            [".:53: errors; prometheus 0.0.0.0:9153"]
        );
        assert_eq!(
            notes,
            [
                "line 7: `import other.conf` is not followed: no snippet of that name is defined above it, and files are not read; paste the imported directives in its place and migrate again"
            ]
        );
    }

    #[test]
    fn syntax_errors_name_their_line() {
        for (input, error) in [
            (".:53 {\n  log\n}\n}\n", "line 4: unbalanced `}`"),
            (".:53 {\n  log\n  }\n  }", "line 4: unbalanced `}`"),
            (
                ".:53 {\n  k8s_gateway example.com {\n    ttl 30\n}\n",
                "line 1: `{` is never closed",
            ),
            (
                "{\n log\n}",
                "line 1: `{` without a server address before it",
            ),
            (
                ".:53 {\n  {\n  }\n}",
                "line 2: `{` without a directive before it",
            ),
            (
                "a.example,\n",
                "line 1: expected another server address after the trailing comma",
            ),
            (
                ".:53 {\n}\nexample.com\nlog",
                "line 4: expected `{` after the server address `example.com`",
            ),
        ] {
            let (result, _) = blocks(input);
            assert_eq!(result.expect_err(input).to_string(), error, "{input:?}");
        }
    }
}
