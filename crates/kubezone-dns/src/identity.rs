//! Which server answered: the name given in the EDNS NSID option (RFC 5001) and in the CH TXT
//! answers for `id.server.` (RFC 4892) and `hostname.bind.`, so an operator can tell the
//! replicas behind one address apart.

use hickory_proto::rr::{DNSClass, RecordType};

/// The longest name: one TXT character-string.
pub const MAX_IDENTITY_LEN: usize = 255;

/// `id.server.` and `hostname.bind.` as lower-case wire names, as query keys are.
const CHAOS_NAMES: [&[u8]; 2] = [b"\x02id\x06server\x00", b"\x08hostname\x04bind\x00"];

/// The server's name and where it is told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    name: String,
    nsid: bool,
    chaos: bool,
    /// The CH TXT record after its owner name: TYPE, CLASS, TTL 0, RDLENGTH, the name.
    txt: Box<[u8]>,
}

/// Why a name cannot identify the server.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("is empty")]
    Empty,
    #[error("is {0} bytes; at most {MAX_IDENTITY_LEN} fit a TXT string")]
    TooLong(usize),
    #[error("has {0:?}, which is not printable ASCII")]
    Character(char),
}

impl Identity {
    /// `name` told in NSID when `nsid`, and in CH TXT when `chaos`. It must be 1–255 bytes of
    /// printable ASCII, as host and pod names are.
    pub fn new(name: &str, nsid: bool, chaos: bool) -> Result<Identity, IdentityError> {
        if name.is_empty() {
            return Err(IdentityError::Empty);
        }
        if let Some(bad) = name.chars().find(|c| !matches!(c, ' '..='~')) {
            return Err(IdentityError::Character(bad));
        }
        let len = u8::try_from(name.len()).map_err(|_| IdentityError::TooLong(name.len()))?;
        let mut txt = Vec::with_capacity(11 + name.len());
        txt.extend_from_slice(&u16::from(RecordType::TXT).to_be_bytes());
        txt.extend_from_slice(&u16::from(DNSClass::CH).to_be_bytes());
        // TTL 0: the answer is about this server only, never to be cached for another.
        txt.extend_from_slice(&0u32.to_be_bytes());
        txt.extend_from_slice(&(u16::from(len) + 1).to_be_bytes());
        txt.push(len);
        txt.extend_from_slice(name.as_bytes());
        Ok(Identity {
            name: name.to_owned(),
            nsid,
            chaos,
            txt: txt.into_boxed_slice(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the NSID option is answered.
    pub fn nsid(&self) -> bool {
        self.nsid
    }

    /// Whether CH TXT `id.server.` and `hostname.bind.` are answered.
    pub fn chaos(&self) -> bool {
        self.chaos
    }

    /// The NSID payload, when it is answered.
    pub(crate) fn nsid_payload(&self) -> Option<&[u8]> {
        self.nsid.then_some(self.name.as_bytes())
    }

    /// The CH TXT record (after its owner) answering `key`/`qtype`, when it is one of ours.
    pub(crate) fn chaos_txt(&self, key: &[u8], qtype: RecordType) -> Option<&[u8]> {
        (self.chaos && qtype == RecordType::TXT && CHAOS_NAMES.contains(&key)).then_some(&self.txt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_printable_ascii_of_one_txt_string() {
        assert_eq!(
            Identity::new("kubezone-0", true, true).map(|i| i.name().to_owned()),
            Ok("kubezone-0".to_owned())
        );
        assert!(Identity::new(&"a".repeat(255), true, true).is_ok());
        assert_eq!(
            Identity::new(&"a".repeat(256), true, true),
            Err(IdentityError::TooLong(256))
        );
        assert_eq!(Identity::new("", true, true), Err(IdentityError::Empty));
        assert_eq!(
            Identity::new("pod\n0", true, true),
            Err(IdentityError::Character('\n'))
        );
        assert_eq!(
            Identity::new("pöd", true, true),
            Err(IdentityError::Character('ö'))
        );
    }

    #[test]
    fn only_the_two_names_asked_for_txt_get_the_chaos_answer() {
        let on = Identity::new("kubezone-0", false, true).expect("valid");
        let id_server = b"\x02id\x06server\x00";
        let txt = on.chaos_txt(id_server, RecordType::TXT).expect("answered");
        // TYPE TXT, CLASS CH, TTL 0, RDLENGTH 11, then the string.
        assert_eq!(&txt[..10], &[0, 16, 0, 3, 0, 0, 0, 0, 0, 11]);
        assert_eq!(&txt[10..], b"\x0akubezone-0");
        assert!(
            on.chaos_txt(b"\x08hostname\x04bind\x00", RecordType::TXT)
                .is_some()
        );
        assert!(on.chaos_txt(id_server, RecordType::A).is_none());
        assert!(
            on.chaos_txt(b"\x07version\x04bind\x00", RecordType::TXT)
                .is_none()
        );
        assert!(
            on.chaos_txt(b"\x07version\x06server\x00", RecordType::TXT)
                .is_none()
        );
        assert_eq!(on.nsid_payload(), None);
        let off = Identity::new("kubezone-0", true, false).expect("valid");
        assert!(off.chaos_txt(id_server, RecordType::TXT).is_none());
        assert_eq!(off.nsid_payload(), Some(&b"kubezone-0"[..]));
    }
}
