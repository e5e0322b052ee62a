//! Index keys: a name as lower-case wire format (length-prefixed labels, root byte last).
//!
//! Wire format makes every ancestor a suffix of the key, so the closest-encloser walk of a
//! negative lookup slices the query key instead of building new names.

use hickory_proto::rr::Name;

/// The longest a name can be on the wire (RFC 1035 §2.3.4).
pub const MAX_KEY_LEN: usize = 255;

/// A name's lower-case wire bytes, built on the stack for the query path.
#[derive(Clone)]
pub struct NameKey {
    bytes: [u8; MAX_KEY_LEN],
    len: usize,
    /// Offsets at which each label starts; `label_starts[i]..` is the key of the i-th ancestor.
    label_starts: [u8; 128],
    labels: usize,
}

impl NameKey {
    /// Builds the key of a fully qualified name. `None` only if the name is longer than DNS
    /// allows, which hickory's parser already rejects.
    pub fn new(name: &Name) -> Option<NameKey> {
        let mut key = NameKey {
            bytes: [0; MAX_KEY_LEN],
            len: 0,
            label_starts: [0; 128],
            labels: 0,
        };
        for label in name.iter() {
            let start = key.len;
            let end = start + 1 + label.len();
            if end >= MAX_KEY_LEN || key.labels >= key.label_starts.len() {
                return None;
            }
            *key.label_starts.get_mut(key.labels)? = u8::try_from(start).ok()?;
            key.labels += 1;
            *key.bytes.get_mut(start)? = u8::try_from(label.len()).ok()?;
            for (dst, src) in key.bytes.get_mut(start + 1..end)?.iter_mut().zip(label) {
                *dst = src.to_ascii_lowercase();
            }
            key.len = end;
        }
        // The root label.
        *key.bytes.get_mut(key.len)? = 0;
        key.len += 1;
        Some(key)
    }

    /// Reads an uncompressed name from the start of `wire`, as a question carries it. Returns
    /// the key and the bytes the name took; `None` for a compression pointer, a reserved label
    /// type, a name longer than 255 bytes, or a name cut short.
    pub fn from_wire(wire: &[u8]) -> Option<(NameKey, usize)> {
        let mut key = NameKey {
            bytes: [0; MAX_KEY_LEN],
            len: 0,
            label_starts: [0; 128],
            labels: 0,
        };
        loop {
            let start = key.len;
            let len = usize::from(*wire.get(start)?);
            if len == 0 {
                *key.bytes.get_mut(start)? = 0;
                key.len = start + 1;
                let used = key.len;
                return Some((key, used));
            }
            // 0xC0 is a pointer, 0x40 and 0x80 are reserved (RFC 6891 §5).
            if len > 63 {
                return None;
            }
            let end = start + 1 + len;
            if end >= MAX_KEY_LEN {
                return None;
            }
            let label = wire.get(start + 1..end)?;
            *key.label_starts.get_mut(key.labels)? = u8::try_from(start).ok()?;
            key.labels += 1;
            *key.bytes.get_mut(start)? = len as u8;
            for (dst, src) in key.bytes.get_mut(start + 1..end)?.iter_mut().zip(label) {
                *dst = src.to_ascii_lowercase();
            }
            key.len = end;
        }
    }

    /// The name this key stands for (lower case).
    pub fn to_name(&self) -> Option<Name> {
        let labels = (0..self.labels).filter_map(|i| {
            let start = usize::from(*self.label_starts.get(i)?);
            let len = usize::from(*self.bytes.get(start)?);
            self.bytes.get(start + 1..start + 1 + len)
        });
        let mut name = Name::from_labels(labels).ok()?;
        name.set_fqdn(true);
        Some(name)
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }

    /// Number of labels, not counting the root.
    pub fn labels(&self) -> usize {
        self.labels
    }

    /// The key of the ancestor that drops the first `skip` labels.
    pub fn ancestor(&self, skip: usize) -> &[u8] {
        let start = match self
            .label_starts
            .get(..self.labels)
            .and_then(|s| s.get(skip))
        {
            Some(&start) => usize::from(start),
            // The root: the last byte.
            None => self.len.saturating_sub(1),
        };
        self.bytes.get(start..self.len).unwrap_or_default()
    }
}

/// The owned form of a key, as stored in the index: shared by the node, the writer's state
/// and the objects that claim the name.
pub type OwnedKey = std::sync::Arc<[u8]>;

/// The owned key of `name`.
pub fn owned_key(name: &Name) -> Option<OwnedKey> {
    NameKey::new(name).map(|k| k.as_bytes().into())
}

/// The key of `*.<parent>`, written into `buf`.
pub fn wildcard_of<'b>(parent: &[u8], buf: &'b mut [u8; MAX_KEY_LEN + 2]) -> Option<&'b [u8]> {
    let len = parent.len() + 2;
    if len > MAX_KEY_LEN {
        return None;
    }
    buf[0] = 1;
    buf[1] = b'*';
    buf.get_mut(2..len)?.copy_from_slice(parent);
    buf.get(..len)
}

/// The parent key of an owned key (drops the first label); `None` for the root.
pub fn parent_of(key: &[u8]) -> Option<&[u8]> {
    let first = usize::from(*key.first()?);
    if first == 0 {
        return None;
    }
    key.get(first + 1..)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> Name {
        Name::from_ascii(s).expect("valid name")
    }

    #[test]
    fn keys_are_lowercase_wire_format() {
        let key = NameKey::new(&name("WwW.Example.com.")).expect("key");
        assert_eq!(key.as_bytes(), b"\x03www\x07example\x03com\x00");
        assert_eq!(key.labels(), 3);
    }

    #[test]
    fn ancestors_are_suffixes() {
        let key = NameKey::new(&name("a.b.example.com.")).expect("key");
        assert_eq!(key.ancestor(0), key.as_bytes());
        assert_eq!(key.ancestor(1), b"\x01b\x07example\x03com\x00");
        assert_eq!(key.ancestor(2), b"\x07example\x03com\x00");
        assert_eq!(key.ancestor(4), b"\x00");
        assert_eq!(parent_of(key.ancestor(1)), Some(key.ancestor(2)));
        assert_eq!(parent_of(b"\x00"), None);
    }

    #[test]
    fn wildcard_keys_prefix_a_star_label() {
        let mut buf = [0; MAX_KEY_LEN + 2];
        let w = wildcard_of(b"\x01w\x07example\x00", &mut buf).expect("fits");
        assert_eq!(w, b"\x01*\x01w\x07example\x00");
    }
}

#[cfg(test)]
mod wire_tests {
    use super::*;

    fn wire(labels: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        for label in labels {
            out.push(label.len() as u8);
            out.extend_from_slice(label.as_bytes());
        }
        out.push(0);
        out
    }

    #[test]
    fn a_wire_name_gives_the_same_key_as_the_parsed_name() {
        let name = Name::from_ascii("WwW.Example.com.").expect("name");
        let mut packet = wire(&["WwW", "Example", "com"]);
        packet.extend_from_slice(b"rest");
        let (key, used) = NameKey::from_wire(&packet).expect("parses");
        assert_eq!(used, 17);
        assert_eq!(key.as_bytes(), NameKey::new(&name).expect("key").as_bytes());
        assert_eq!(key.labels(), 3);
        assert_eq!(key.ancestor(1), &wire(&["example", "com"])[..]);
    }

    #[test]
    fn pointers_reserved_labels_and_short_names_are_refused() {
        assert!(NameKey::from_wire(&[0xC0, 12]).is_none());
        assert!(NameKey::from_wire(&[0x40, 1]).is_none());
        assert!(NameKey::from_wire(&[3, b'w', b'w']).is_none());
        assert!(NameKey::from_wire(&[]).is_none());
        let long: Vec<u8> = (0..5)
            .flat_map(|_| {
                let mut l = vec![63u8];
                l.extend([b'a'; 63]);
                l
            })
            .chain([0])
            .collect();
        assert!(NameKey::from_wire(&long).is_none());
        assert_eq!(
            NameKey::from_wire(&[0]).map(|(k, n)| (k.labels(), n)),
            Some((0, 1))
        );
    }
}
