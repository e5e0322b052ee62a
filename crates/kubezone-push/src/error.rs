//! Why a push step failed.

/// Errors of push mode; each names the server or zone it is about.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("zone {zone}: {message}")]
    Zone { zone: String, message: String },
}
