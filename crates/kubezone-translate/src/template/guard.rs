//! Checks a template before gtmpl parses it. gtmpl 0.7's lexer steps back one byte at the end
//! of the text and over characters of several bytes, so an action left open at the end (`{{
//! .Name `) makes it loop for ever, and a non-ASCII character in an action (`{{ .Name€ }}`)
//! makes it panic. Actions are scanned here as Go's lexer scans them (strings, raw strings,
//! characters, comments), so gtmpl only ever sees closed actions in ASCII; names are ASCII
//! anyway, and string literals may still hold any character.

/// Why the text cannot be handed to gtmpl, if it cannot.
pub(super) fn check(text: &str) -> Result<(), String> {
    let mut rest = text;
    let mut offset = 0;
    loop {
        let Some(open) = rest.find("{{") else {
            return ascii(rest, offset);
        };
        let (before, action) = rest.split_at(open);
        ascii(before, offset)?;
        let start = offset + open;
        let len = action_len(action)
            .map_err(|reason| format!("{reason} in the action at byte {start}"))?;
        let (_, after) = action.split_at(len);
        offset = start + len;
        rest = after;
    }
}

fn ascii(text: &str, offset: usize) -> Result<(), String> {
    match text.char_indices().find(|(_, c)| !c.is_ascii()) {
        Some((i, c)) => Err(format!(
            "{c:?} at byte {} is not ASCII; only a string literal may hold it",
            offset + i
        )),
        None => Ok(()),
    }
}

/// The length of the action at the start of `action` (which starts with `{{`), through its
/// closing `}}`.
fn action_len(action: &str) -> Result<usize, String> {
    let bytes = action.as_bytes();
    let mut i = 2;
    // A comment runs to `*/`, which must be followed by the closing delimiter.
    let body = action.get(i..).unwrap_or_default();
    let trimmed = body.strip_prefix("- ").unwrap_or(body);
    if let Some(comment) = trimmed.strip_prefix("/*") {
        let Some(end) = comment.find("*/") else {
            return Err("a comment without */".into());
        };
        let after = comment.get(end + 2..).unwrap_or_default();
        let after_trim = after.strip_prefix(" -").unwrap_or(after);
        if !after_trim.starts_with("}}") {
            return Err("a comment not followed by }}".into());
        }
        return Ok(action.len() - after_trim.len() + 2);
    }
    while let Some(&b) = bytes.get(i) {
        match b {
            b'}' if bytes.get(i + 1) == Some(&b'}') => return Ok(i + 2),
            b'"' | b'\'' => i = quoted(bytes, i, b)?,
            b'`' => match bytes
                .get(i + 1..)
                .and_then(|r| r.iter().position(|&c| c == b'`'))
            {
                Some(end) => i += end + 2,
                None => return Err("a raw string without its closing `".into()),
            },
            b if !b.is_ascii() => {
                let c = action
                    .get(i..)
                    .and_then(|r| r.chars().next())
                    .unwrap_or(char::REPLACEMENT_CHARACTER);
                return Err(format!(
                    "{c:?} is not ASCII; only a string literal may hold it"
                ));
            }
            _ => i += 1,
        }
    }
    Err("no closing }}".into())
}

/// The index just past the string or character constant opened by `quote` at `start`.
fn quoted(bytes: &[u8], start: usize, quote: u8) -> Result<usize, String> {
    let mut i = start + 1;
    loop {
        match bytes.get(i) {
            Some(b'\\') => i += 2,
            Some(&b) if b == quote => return Ok(i + 1),
            Some(b'\n') | None => {
                return Err(if quote == b'"' {
                    "a string without its closing \"".into()
                } else {
                    "a character constant without its closing '".into()
                });
            }
            Some(_) => i += 1,
        }
    }
}
