//! The messages of a transfer response (RFC 5936 §2.2): records packed into messages of
//! bounded size, owner names compressed against the zone's origin, the question echoed in the
//! first message only.

/// DNS header length.
const HEADER: usize = 12;
/// Compression pointers reach the first 16 KiB of a message only.
const MAX_POINTER: usize = 0x3FFF;

/// Builds the messages of one response; each full message is handed back to be sent, so a
/// zone of any size never sits whole in memory.
pub(crate) struct Messages {
    id: u16,
    /// The question as the client sent it (name, type, class), echoed in the first message.
    question: Vec<u8>,
    origin: Vec<u8>,
    /// Bytes a message may take, room for a TSIG record kept aside.
    limit: usize,
    current: Vec<u8>,
    answers: u16,
    /// Where the origin's name sits in the current message, to point at.
    origin_at: Option<u16>,
    first: bool,
}

impl Messages {
    pub(crate) fn new(id: u16, question: &[u8], origin: &[u8], limit: usize) -> Messages {
        let mut messages = Messages {
            id,
            question: question.to_vec(),
            origin: origin.to_vec(),
            limit,
            current: Vec::with_capacity(limit),
            answers: 0,
            origin_at: None,
            first: true,
        };
        messages.start();
        messages
    }

    fn start(&mut self) {
        self.current.clear();
        self.current.extend_from_slice(&[0; HEADER]);
        self.answers = 0;
        self.origin_at = None;
        if self.first {
            // The question's name is the origin (in any letter case): the first pointer target.
            self.current.extend_from_slice(&self.question);
            if self
                .question
                .get(..self.origin.len())
                .is_some_and(|name| name.eq_ignore_ascii_case(&self.origin))
            {
                self.origin_at = Some(HEADER as u16);
            }
        }
    }

    /// Adds one record: its owner (lower-case wire name in the zone) and its owner-less wire
    /// form. Returns the previous message when this record did not fit beside it.
    pub(crate) fn push(&mut self, owner: &[u8], tail: &[u8]) -> Option<Vec<u8>> {
        let mark = self.current.len();
        self.write(owner, tail);
        if self.current.len() <= self.limit || self.answers == 0 {
            self.answers = self.answers.saturating_add(1);
            return None;
        }
        // Full: the record opens the next message.
        self.current.truncate(mark);
        let full = self.seal();
        self.start();
        self.write(owner, tail);
        self.answers = 1;
        Some(full)
    }

    /// The last message; `None` when nothing was added since the previous one was handed back
    /// (never for a response, which ends with the SOA).
    pub(crate) fn finish(mut self) -> Option<Vec<u8>> {
        (self.answers > 0).then(|| self.seal())
    }

    fn write(&mut self, owner: &[u8], tail: &[u8]) {
        match (self.origin_at, self.prefix_of_origin(owner)) {
            (Some(at), Some(prefix)) => {
                self.current.extend_from_slice(prefix);
                self.current.extend_from_slice(&(0xC000 | at).to_be_bytes());
            }
            (_, prefix) => {
                let start = self.current.len();
                self.current.extend_from_slice(owner);
                if let Some(prefix) = prefix {
                    let at = start + prefix.len();
                    if at <= MAX_POINTER {
                        self.origin_at = u16::try_from(at).ok();
                    }
                }
            }
        }
        self.current.extend_from_slice(tail);
    }

    /// The labels of `owner` before the origin, when the origin ends it on a label boundary.
    fn prefix_of_origin<'o>(&self, owner: &'o [u8]) -> Option<&'o [u8]> {
        let cut = owner.len().checked_sub(self.origin.len())?;
        let mut at = 0;
        while at < cut {
            at += 1 + usize::from(*owner.get(at)?);
        }
        (at == cut && owner.get(cut..)? == self.origin.as_slice()).then(|| owner.get(..cut))?
    }

    /// Writes the header: QR and AA set, NOERROR.
    fn seal(&mut self) -> Vec<u8> {
        let question = u16::from(self.first && !self.question.is_empty());
        self.first = false;
        let mut header = [0u8; HEADER];
        header[0..2].copy_from_slice(&self.id.to_be_bytes());
        header[2] = 0x84; // QR, opcode QUERY, AA
        header[4..6].copy_from_slice(&question.to_be_bytes());
        header[6..8].copy_from_slice(&self.answers.to_be_bytes());
        if let Some(start) = self.current.get_mut(..HEADER) {
            start.copy_from_slice(&header);
        }
        std::mem::take(&mut self.current)
    }
}

#[cfg(test)]
mod tests {
    use hickory_proto::op::Message;

    use super::*;

    const ORIGIN: &[u8] = b"\x07example\x03com\x00";

    fn a_tail(last: u8) -> Vec<u8> {
        vec![0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, last]
    }

    fn owner(label: &str) -> Vec<u8> {
        let mut o = vec![label.len() as u8];
        o.extend_from_slice(label.as_bytes());
        o.extend_from_slice(ORIGIN);
        o
    }

    #[test]
    fn records_fill_bounded_messages_that_parse_with_compressed_owners() {
        let mut question = ORIGIN.to_vec();
        question.extend_from_slice(&[0, 252, 0, 1]);
        let mut messages = Messages::new(7, &question, ORIGIN, 512);
        let mut sent = Vec::new();
        for i in 0..100u8 {
            sent.extend(messages.push(&owner(&format!("host{i}")), &a_tail(i)));
        }
        sent.extend(messages.finish());
        assert!(sent.len() > 2, "100 records do not fit 512 bytes");
        let mut names = Vec::new();
        for (i, bytes) in sent.iter().enumerate() {
            assert!(bytes.len() <= 512);
            let m = Message::from_vec(bytes).expect("parses");
            assert_eq!(m.metadata.id, 7);
            assert!(m.metadata.authoritative);
            assert_eq!(
                m.queries.len(),
                usize::from(i == 0),
                "question in the first only"
            );
            names.extend(m.answers.iter().map(|r| r.name.to_string()));
        }
        assert_eq!(names.len(), 100);
        assert_eq!(names[0], "host0.example.com.");
        assert_eq!(names[99], "host99.example.com.");
        // Compressed: a record takes its own label, a pointer and the tail.
        let per_record = (sent[0].len() - 12 - question.len())
            / usize::from(u16::from_be_bytes([sent[0][6], sent[0][7]]));
        assert!(
            per_record <= 1 + 6 + 2 + 14,
            "{per_record} bytes per record"
        );
    }

    #[test]
    fn the_apex_itself_is_a_pointer_and_a_record_too_big_still_goes_alone() {
        let mut messages = Messages::new(1, &[], ORIGIN, 40);
        assert!(
            messages.push(ORIGIN, &a_tail(1)).is_none(),
            "first record always fits"
        );
        let full = messages.push(ORIGIN, &a_tail(2)).expect("second does not");
        let m = Message::from_vec(&full).expect("parses");
        assert_eq!(m.answers.len(), 1);
        let last = messages.finish().expect("the rest");
        let m = Message::from_vec(&last).expect("parses");
        assert_eq!(m.answers[0].name.to_string(), "example.com.");
    }
}
