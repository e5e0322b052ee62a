//! Which clients may query at all.

use std::{fmt, net::IpAddr, sync::Arc};

use ipnet::IpNet;

use crate::{CidrSet, Observer};

/// The ACL's outcome for a query's source address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Answer as usual.
    Allow,
    /// Answer REFUSED (no data).
    Refuse,
    /// Send nothing.
    Drop,
}

/// What a client outside the allowed networks gets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AclAction {
    #[default]
    Refuse,
    Drop,
}

impl AclAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AclAction::Refuse => "refuse",
            AclAction::Drop => "drop",
        }
    }
}

/// The checked `acl` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclConfig {
    /// Never empty (the config refuses an empty list).
    pub allow: Vec<IpNet>,
    pub action: AclAction,
}

/// Allowed client networks; everyone else gets `action`.
pub struct Acl {
    allow: CidrSet,
    action: AclAction,
    observer: Option<Arc<dyn Observer>>,
}

impl fmt::Debug for Acl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acl")
            .field("allow", &self.allow)
            .field("action", &self.action)
            .finish_non_exhaustive()
    }
}

impl Acl {
    pub fn new(config: &AclConfig) -> Acl {
        Acl {
            allow: CidrSet::new(&config.allow),
            action: config.action,
            observer: None,
        }
    }

    /// Reports rejections to `observer`.
    pub fn with_observer(mut self, observer: Option<Arc<dyn Observer>>) -> Acl {
        self.observer = observer;
        self
    }

    /// The verdict for a query from `client` (IPv4-mapped IPv6 is read as IPv4).
    #[inline]
    pub fn check(&self, client: IpAddr) -> Verdict {
        if self.allow.contains(client) {
            return Verdict::Allow;
        }
        let verdict = match self.action {
            AclAction::Refuse => Verdict::Refuse,
            AclAction::Drop => Verdict::Drop,
        };
        if let Some(observer) = &self.observer {
            observer.acl_rejected(verdict);
        }
        verdict
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::{RateVerdict, parse_cidr};

    #[derive(Default)]
    struct Seen(Mutex<Vec<Verdict>>);

    impl Observer for Seen {
        fn acl_rejected(&self, verdict: Verdict) {
            if let Ok(mut seen) = self.0.lock() {
                seen.push(verdict);
            }
        }
        fn rate_limited(&self, _: RateVerdict, _: crate::Account) {}
    }

    fn acl(allow: &[&str], action: AclAction) -> AclConfig {
        AclConfig {
            allow: allow
                .iter()
                .map(|n| parse_cidr(n).expect("network"))
                .collect(),
            action,
        }
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    #[test]
    fn allowed_networks_pass_and_others_get_the_action() {
        let config = acl(
            &["10.0.0.0/8", "192.168.0.0/16", "::1/128"],
            AclAction::Refuse,
        );
        let refusing = Acl::new(&config);
        assert_eq!(refusing.check(ip("10.9.8.7")), Verdict::Allow);
        assert_eq!(refusing.check(ip("192.168.255.1")), Verdict::Allow);
        assert_eq!(refusing.check(ip("::1")), Verdict::Allow);
        assert_eq!(refusing.check(ip("172.16.0.1")), Verdict::Refuse);
        assert_eq!(refusing.check(ip("::2")), Verdict::Refuse);
        let dropping = Acl::new(&AclConfig {
            action: AclAction::Drop,
            ..config
        });
        assert_eq!(dropping.check(ip("10.9.8.7")), Verdict::Allow);
        assert_eq!(dropping.check(ip("172.16.0.1")), Verdict::Drop);
        assert_eq!(dropping.check(ip("2001:db8::1")), Verdict::Drop);
    }

    #[test]
    fn v4_mapped_clients_are_matched_as_v4() {
        let only_loopback = Acl::new(&acl(&["127.0.0.1/32"], AclAction::Refuse));
        assert_eq!(only_loopback.check(ip("::ffff:127.0.0.1")), Verdict::Allow);
        assert_eq!(only_loopback.check(ip("::ffff:127.0.1.1")), Verdict::Refuse);
        // ::1 is IPv6 loopback, not 127.0.0.1.
        assert_eq!(only_loopback.check(ip("::1")), Verdict::Refuse);
    }

    #[test]
    fn rejections_are_reported_and_allowed_queries_are_not() {
        let seen = Arc::new(Seen::default());
        let observer: Arc<dyn Observer> = seen.clone();
        let acl = Acl::new(&acl(&["10.0.0.0/8"], AclAction::Drop)).with_observer(Some(observer));
        acl.check(ip("10.0.0.1"));
        acl.check(ip("11.0.0.1"));
        acl.check(ip("12.0.0.1"));
        let seen = seen.0.lock().map(|s| s.clone()).unwrap_or_default();
        assert_eq!(seen, [Verdict::Drop, Verdict::Drop]);
    }
}
