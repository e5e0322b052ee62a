//! What can go wrong in this crate. A secret never appears in a message, not even a broken one.

/// Why a key cannot be made, a message cannot be signed, or a peer's reply is not accepted.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error("{name:?} is not a DNS name: {reason}")]
    KeyName { name: String, reason: String },
    #[error("{name:?} is not a TSIG algorithm kubezone supports (use {known})")]
    UnknownAlgorithm { name: String, known: String },
    /// The value is not shown: it is (meant to be) a secret.
    #[error("the secret ({length} characters, not shown) is not base64: {reason}")]
    SecretNotBase64 { length: usize, reason: String },
    #[error("the secret is empty")]
    EmptySecret,
    #[error("key {name} is listed twice")]
    DuplicateKey { name: String },
    /// The message handed to a signer is not one it can sign.
    #[error("cannot sign with key {key}: {reason}")]
    Sign { key: String, reason: String },
    /// A reply to a signed message, or the next message of a signed stream, is not accepted.
    #[error("reply not accepted for key {key}: {reason}")]
    Reply { key: String, reason: ReplyProblem },
    /// A refused request whose error reply cannot be built (it has no header).
    #[error("no error reply can be built: {reason}")]
    ErrorReply { reason: String },
}

/// What is wrong with a reply to a message kubezone signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyProblem {
    #[error("it does not parse: {0}")]
    Malformed(String),
    #[error("it is not signed")]
    Unsigned,
    /// RFC 8945 §5.3.1 allows 99 unsigned messages in a row in a stream.
    #[error("{0} messages in a row are unsigned, more than the 99 allowed")]
    TooManyUnsigned(usize),
    /// The stream ended before a signed message covered its last messages.
    #[error("the stream ends without a signed message ({0} unsigned at its end)")]
    UnsignedEnd(usize),
    #[error("it is signed with key {found}")]
    OtherKey { found: String },
    #[error("the peer answered TSIG error {0}")]
    PeerError(String),
    #[error("its MAC does not verify")]
    BadSignature,
    #[error("it was signed at {signed}, more than {fudge} s from now ({now})")]
    BadTime { signed: u64, fudge: u16, now: u64 },
}
