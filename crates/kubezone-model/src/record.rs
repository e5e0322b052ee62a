//! Record data of any type, kept in wire form: what static records in the config and DNSEndpoint
//! records other than A, AAAA, CNAME and TXT (MX, SRV, NS, PTR, NAPTR, CAA, ...) become.
//!
//! Parsing and printing go through hickory-proto's presentation-format code, so the syntax is
//! that of a zone file (RFC 1035 §5). Names inside the data are stored uncompressed and, for the
//! standard types, in lower case (RFC 4034 §6.2), so the bytes can be copied anywhere in a reply
//! and used as index keys (an NS target, for glue).

use std::fmt;

use hickory_proto::{
    rr::{Name, RData, RecordType},
    serialize::binary::{BinDecoder, BinEncodable, BinEncoder, Restrict},
};

/// One record's type and RDATA.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordData {
    rtype: u16,
    rdata: Box<[u8]>,
}

/// RDATA that cannot become a record. The display names the type and the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordDataError {
    #[error("{value:?} is not a record type")]
    UnknownType { value: String },
    #[error("{rtype} records cannot be served here")]
    Unsupported { rtype: RecordType },
    #[error("{rtype} {value:?}: {reason}")]
    Invalid {
        rtype: RecordType,
        value: String,
        reason: String,
    },
}

impl RecordData {
    /// Parses RDATA in presentation form, such as `10 mail.example.com.` for MX. Names without
    /// a final dot are completed with `origin`, or taken as absolute when there is none (as
    /// external-dns writes them).
    pub fn parse(
        rtype: RecordType,
        text: &str,
        origin: Option<&Name>,
    ) -> Result<Self, RecordDataError> {
        check_type(rtype)?;
        let invalid = |reason: String| RecordDataError::Invalid {
            rtype,
            value: text.to_string(),
            reason,
        };
        // hickory reads names in RDATA as absolute unless they end in the origin it is given;
        // completing them here gives zone-file semantics.
        let rdata = RData::try_from_str(rtype, text).map_err(|e| invalid(e.to_string()))?;
        let rdata = complete_names(rdata, origin.unwrap_or(&Name::root())).map_err(invalid)?;
        RecordData::from_rdata(&rdata).map_err(|e| match e {
            RecordDataError::Invalid { reason, .. } => invalid(reason),
            other => other,
        })
    }

    /// Parses the type mnemonic (`MX`, any case) and the RDATA.
    pub fn parse_typed(
        rtype: &str,
        text: &str,
        origin: Option<&Name>,
    ) -> Result<Self, RecordDataError> {
        let upper = rtype.trim().to_ascii_uppercase();
        let rtype: RecordType = upper.parse().map_err(|_| RecordDataError::UnknownType {
            value: rtype.to_string(),
        })?;
        if matches!(rtype, RecordType::Unknown(_)) {
            return Err(RecordDataError::UnknownType { value: upper });
        }
        RecordData::parse(rtype, text, origin)
    }

    /// The wire form of `rdata`.
    pub fn from_rdata(rdata: &RData) -> Result<Self, RecordDataError> {
        let rtype = rdata.record_type();
        check_type(rtype)?;
        let mut bytes = Vec::new();
        let mut encoder = BinEncoder::new(&mut bytes);
        encoder.set_canonical_form(true);
        rdata
            .emit(&mut encoder)
            .map_err(|e| RecordDataError::Invalid {
                rtype,
                value: rdata.to_string(),
                reason: e.to_string(),
            })?;
        if bytes.len() > usize::from(u16::MAX) {
            return Err(RecordDataError::Invalid {
                rtype,
                value: rdata.to_string(),
                reason: "longer than 65535 bytes".into(),
            });
        }
        Ok(RecordData {
            rtype: u16::from(rtype),
            rdata: bytes.into_boxed_slice(),
        })
    }

    pub fn record_type(&self) -> RecordType {
        RecordType::from(self.rtype)
    }

    /// The RDATA as it goes on the wire.
    pub fn rdata(&self) -> &[u8] {
        &self.rdata
    }

    /// The data decoded, for display and tools.
    pub fn to_rdata(&self) -> Option<RData> {
        let mut decoder = BinDecoder::new(&self.rdata);
        let len = u16::try_from(self.rdata.len()).ok()?;
        RData::read(&mut decoder, self.record_type(), Restrict::new(len)).ok()
    }

    /// The host names this record points at (NS, MX, SRV, PTR targets and the like), for
    /// delegations and glue.
    pub fn target_name(&self) -> Option<Name> {
        match self.to_rdata()? {
            RData::NS(ns) => Some(ns.0),
            RData::PTR(ptr) => Some(ptr.0),
            RData::CNAME(cname) => Some(cname.0),
            RData::MX(mx) => Some(mx.exchange.clone()),
            RData::SRV(srv) => Some(srv.target.clone()),
            _ => None,
        }
    }
}

/// Types a zone's own machinery owns (SOA), that only the apex may have, or that are not data.
fn check_type(rtype: RecordType) -> Result<(), RecordDataError> {
    match rtype {
        RecordType::SOA
        | RecordType::OPT
        | RecordType::ANY
        | RecordType::AXFR
        | RecordType::IXFR
        | RecordType::TSIG
        | RecordType::Unknown(_) => Err(RecordDataError::Unsupported { rtype }),
        _ => Ok(()),
    }
}

/// Completes relative names inside the data of the usual name-bearing types with `origin`.
fn complete_names(rdata: RData, origin: &Name) -> Result<RData, String> {
    let complete = |name: Name| -> Result<Name, String> {
        if name.is_fqdn() {
            return Ok(name);
        }
        let shown = name.to_string();
        name.append_domain(origin)
            .map_err(|e| format!("{shown} in {origin}: {e}"))
    };
    Ok(match rdata {
        RData::NS(ns) => RData::NS(hickory_proto::rr::rdata::NS(complete(ns.0)?)),
        RData::CNAME(c) => RData::CNAME(hickory_proto::rr::rdata::CNAME(complete(c.0)?)),
        RData::PTR(p) => RData::PTR(hickory_proto::rr::rdata::PTR(complete(p.0)?)),
        RData::MX(mut mx) => {
            mx.exchange = complete(mx.exchange)?;
            RData::MX(mx)
        }
        RData::SRV(mut srv) => {
            srv.target = complete(srv.target)?;
            RData::SRV(srv)
        }
        other => other,
    })
}

impl fmt::Display for RecordData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_rdata() {
            Some(rdata) => write!(f, "{} {rdata}", self.record_type()),
            None => write!(f, "{} \\# {}", self.record_type(), self.rdata.len()),
        }
    }
}

impl fmt::Debug for RecordData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Name {
        Name::from_ascii("example.com.").expect("name")
    }

    #[test]
    fn every_type_round_trips_through_wire_form() {
        for (rtype, text, shown) in [
            ("MX", "10 mail.example.com.", "MX 10 mail.example.com."),
            ("mx", "10 mail", "MX 10 mail.example.com."),
            (
                "SRV",
                "10 5 5060 sip.example.com.",
                "SRV 10 5 5060 sip.example.com.",
            ),
            ("NS", "ns.lab.example.net.", "NS ns.lab.example.net."),
            ("PTR", "www.example.com.", "PTR www.example.com."),
            (
                "CAA",
                "0 issue \"letsencrypt.org\"",
                "CAA 0 issue \"letsencrypt.org\"",
            ),
            ("TXT", "\"v=spf1 -all\"", "TXT v=spf1 -all"),
            ("A", "192.0.2.1", "A 192.0.2.1"),
        ] {
            let data = RecordData::parse_typed(rtype, text, Some(&origin()))
                .unwrap_or_else(|e| panic!("{rtype} {text}: {e}"));
            assert_eq!(data.to_string(), shown, "{rtype} {text}");
        }
    }

    #[test]
    fn names_in_data_are_lower_case_and_uncompressed() {
        let data = RecordData::parse_typed("MX", "10 MAIL.Example.COM.", None).expect("mx");
        assert_eq!(&data.rdata()[..2], &[0, 10]);
        assert_eq!(&data.rdata()[2..7], b"\x04mail");
        assert_eq!(
            data.target_name().map(|n| n.to_string()),
            Some("mail.example.com.".to_string())
        );
    }

    #[test]
    fn bad_data_and_types_are_named() {
        let err = RecordData::parse_typed("MX", "ten mail.example.com.", None).expect_err("bad");
        assert!(err.to_string().contains("ten mail.example.com."), "{err}");
        let err = RecordData::parse_typed("BOGUS", "1", None).expect_err("bad");
        assert!(err.to_string().contains("BOGUS"), "{err}");
        let err = RecordData::parse_typed("SOA", "a. b. 1 2 3 4 5", None).expect_err("bad");
        assert!(err.to_string().contains("SOA"), "{err}");
    }
}
