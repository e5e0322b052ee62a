//! Which responses are "identical" for rate limiting, as BIND 9's `rate-limit` tells them
//! apart: a response's kind, and the name (and type) it is counted under.

/// What a response says, as BIND 9 classifies it for rate limiting. Each kind has its own
/// rate (`responsesPerSecond`, `referralsPerSecond`, `nodataPerSecond`, `nxdomainsPerSecond`,
/// `errorsPerSecond`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseKind {
    /// Records of the type asked (a CNAME included): counted per name and type.
    Answer,
    /// A referral to a delegated zone: counted per delegation point, whatever the type.
    Referral,
    /// NOERROR without records (NODATA): counted per name, whatever the type.
    NoData,
    /// NXDOMAIN: counted per zone, whatever the name and type, so random names under one zone
    /// are one stream.
    NxDomain,
    /// Any other rcode (REFUSED, SERVFAIL, FORMERR, NOTIMP, BADVERS): counted per client prefix
    /// alone.
    Error,
}

impl ResponseKind {
    pub const ALL: [ResponseKind; 5] = [
        ResponseKind::Answer,
        ResponseKind::Referral,
        ResponseKind::NoData,
        ResponseKind::NxDomain,
        ResponseKind::Error,
    ];

    /// The kind's name in metrics and logs.
    pub fn name(self) -> &'static str {
        match self {
            ResponseKind::Answer => "answer",
            ResponseKind::Referral => "referral",
            ResponseKind::NoData => "nodata",
            ResponseKind::NxDomain => "nxdomain",
            ResponseKind::Error => "error",
        }
    }
}

/// One of a client prefix's accounts: that of a kind of response, or the `allPerSecond` cap on
/// everything the prefix is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Account {
    Response(ResponseKind),
    All,
}

impl Account {
    /// Every account kind, in [`Account::index`] order.
    pub const ALL: [Account; 6] = [
        Account::Response(ResponseKind::Answer),
        Account::Response(ResponseKind::Referral),
        Account::Response(ResponseKind::NoData),
        Account::Response(ResponseKind::NxDomain),
        Account::Response(ResponseKind::Error),
        Account::All,
    ];

    /// The account's name in metrics: its response kind's, or `all`.
    pub fn name(self) -> &'static str {
        match self {
            Account::Response(kind) => kind.name(),
            Account::All => "all",
        }
    }

    /// A small number per account kind, for tables of rates and counters.
    pub fn index(self) -> usize {
        match self {
            Account::Response(ResponseKind::Answer) => 0,
            Account::Response(ResponseKind::Referral) => 1,
            Account::Response(ResponseKind::NoData) => 2,
            Account::Response(ResponseKind::NxDomain) => 3,
            Account::Response(ResponseKind::Error) => 4,
            Account::All => 5,
        }
    }
}

/// What a response is counted under, less the client: its kind, the hash of the name the kind
/// is counted by, and the type where the kind keeps it. Made by [`crate::RateLimiter::key`];
/// small and `Copy`, so the answer path hands it from the reply writer to the limiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResponseKey {
    pub(crate) kind: ResponseKind,
    pub(crate) name: u64,
    pub(crate) qtype: u16,
}

impl ResponseKey {
    /// The key of an error response: errors are counted per client prefix alone, so it needs no
    /// name, and no limiter to hash one.
    pub const ERROR: ResponseKey = ResponseKey {
        kind: ResponseKind::Error,
        name: 0,
        qtype: 0,
    };

    pub fn kind(&self) -> ResponseKind {
        self.kind
    }
}
