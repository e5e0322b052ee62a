//! `kubezone migrate`: a CoreDNS Corefile that uses k8s_gateway → the equivalent kubezone
//! config, and a warning for everything that cannot be carried over or behaves differently.
//!
//! ```
//! let migration = kubezone_migrate::migrate(".:53 {\n  k8s_gateway example.com\n}\n")?;
//! assert!(migration.config.contains("zone: example.com"));
//! # Ok::<(), kubezone_migrate::MigrateError>(())
//! ```

mod assemble;
mod k8s_gateway;
mod lexer;
mod names;
mod notes;
mod output;
mod parse;
mod plugins;

#[cfg(test)]
mod tests;

/// A migrated config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// YAML in kubezone's config format, the warnings repeated as `#` comments at the top.
    pub config: String,
    /// What was not carried over or behaves differently, each naming its Corefile line when it
    /// has one.
    pub warnings: Vec<String>,
}

/// Why a Corefile cannot be migrated.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("line {line}: {message}")]
    Syntax { line: usize, message: String },
    #[error("the Corefile has no k8s_gateway plugin: there is nothing to migrate")]
    NoK8sGateway,
    #[error("line {line}: k8s_gateway names no zone kubezone can serve")]
    NoZones { line: usize },
    #[error("cannot write the config as YAML: {0}")]
    Yaml(#[from] serde_norway::Error),
}

/// Reads `corefile` and returns the equivalent kubezone config.
pub fn migrate(corefile: &str) -> Result<Migration, MigrateError> {
    let mut notes = notes::Notes::default();
    let tokens = lexer::lex(corefile)?;
    for (line, placeholder) in lexer::env_placeholders(&tokens) {
        notes.at(
            line,
            format!(
                "{placeholder} is an environment placeholder, left as-is: kubezone's config does not expand environment variables, write its value"
            ),
        );
    }
    let blocks = parse::parse(tokens, &mut notes)?;
    let config = assemble::assemble(&blocks, &mut notes)?;
    let warnings = notes.into_strings();
    let config = output::render(&config, &warnings)?;
    Ok(Migration { config, warnings })
}
