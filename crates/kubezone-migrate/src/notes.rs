//! The warnings of a migration: what was not carried over, or behaves differently in kubezone.

#[derive(Debug, Default)]
pub struct Notes(Vec<(Option<usize>, String)>);

impl Notes {
    /// A warning about the Corefile's line `line`.
    pub fn at(&mut self, line: usize, message: impl Into<String>) {
        self.push(Some(line), message.into());
    }

    /// A warning about the Corefile as a whole.
    pub fn general(&mut self, message: impl Into<String>) {
        self.push(None, message.into());
    }

    fn push(&mut self, line: Option<usize>, message: String) {
        if !self.0.iter().any(|(l, m)| *l == line && *m == message) {
            self.0.push((line, message));
        }
    }

    /// In Corefile order (stable within a line), then the general ones.
    pub fn into_strings(mut self) -> Vec<String> {
        self.0.sort_by_key(|(line, _)| line.unwrap_or(usize::MAX));
        self.0
            .into_iter()
            .map(|(line, message)| match line {
                Some(line) => format!("line {line}: {message}"),
                None => message,
            })
            .collect()
    }
}
