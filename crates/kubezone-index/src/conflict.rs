use std::fmt;

use hickory_proto::rr::RecordType;
use kubezone_model::{DnsName, Kind, ObjectRef};

/// Two claims on one name that cannot both be served. Each names the object that lost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Conflict {
    /// A Kind earlier in `resources` also has records for the name.
    Shadowed { winner: Kind, loser: ObjectRef },
    /// The zone's `claims: firstNamespace` rule: `owner`, in another namespace (or cluster
    /// scoped), claimed the name first.
    Claimed { owner: ObjectRef, loser: ObjectRef },
    /// The zone's `namespaces` or `namespaceSelector` do not admit the object's namespace;
    /// `why` says which and how.
    NotAdmitted { object: ObjectRef, why: String },
    /// A CNAME beside other data (RFC 2181 §10.1): the other data is served.
    CnameBesideData { object: ObjectRef },
    /// Several CNAME targets for one name: the first in name order is served.
    CnameTargets {
        object: ObjectRef,
        served: DnsName,
        dropped: DnsName,
    },
    /// The zone's own nameserver host, or a name below it.
    Reserved { object: ObjectRef },
    /// The config's static records set this type (or a CNAME) at the name.
    Overridden {
        object: ObjectRef,
        rtype: RecordType,
    },
    /// Data beside an NS RRset below the apex: the name is a zone cut, where only the NS
    /// records (and the glue below) are served.
    AtZoneCut {
        object: ObjectRef,
        rtype: RecordType,
    },
    /// NS records at the apex: the zone's NS set comes from `apex`, `secondary` and
    /// `nameservers` in the config.
    ApexNs { object: ObjectRef },
    /// Several clusters: `owner`'s cluster comes first in `clusters:` and the name is not
    /// global for `loser`, so only the first cluster's objects are served there.
    OtherCluster { owner: ObjectRef, loser: ObjectRef },
    /// Several clusters: the object's cluster has been out of reach longer than its
    /// `staleAfter`, so its targets are left out of the global name until it is back.
    StaleCluster { object: ObjectRef },
}

impl Conflict {
    /// The object that is (partly) not served.
    pub fn object(&self) -> &ObjectRef {
        match self {
            Conflict::Shadowed { loser, .. }
            | Conflict::Claimed { loser, .. }
            | Conflict::OtherCluster { loser, .. } => loser,
            Conflict::NotAdmitted { object, .. }
            | Conflict::CnameBesideData { object }
            | Conflict::CnameTargets { object, .. }
            | Conflict::Reserved { object }
            | Conflict::Overridden { object, .. }
            | Conflict::AtZoneCut { object, .. }
            | Conflict::ApexNs { object }
            | Conflict::StaleCluster { object } => object,
        }
    }

    /// A short PascalCase reason, as Kubernetes Events carry one.
    pub fn reason(&self) -> &'static str {
        match self {
            Conflict::Shadowed { .. } => "NameShadowed",
            Conflict::Claimed { .. } => "NameClaimedByAnotherNamespace",
            Conflict::NotAdmitted { .. } => "NamespaceNotAllowed",
            Conflict::CnameBesideData { .. } => "CnameBesideOtherData",
            Conflict::CnameTargets { .. } => "CnameTargetDropped",
            Conflict::Reserved { .. } => "NameReserved",
            Conflict::Overridden { .. } => "OverriddenByConfig",
            Conflict::AtZoneCut { .. } => "NameBelowZoneCut",
            Conflict::ApexNs { .. } => "ApexNsFromConfig",
            Conflict::OtherCluster { .. } => "NameServedByAnotherCluster",
            Conflict::StaleCluster { .. } => "ClusterStale",
        }
    }
}

/// A conflict at one name, as the index reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameConflict {
    pub name: DnsName,
    pub conflict: Conflict,
}

impl fmt::Display for NameConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.conflict)
    }
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Conflict::Shadowed { winner, loser } => {
                write!(
                    f,
                    "{loser} is not served: {winner} comes first in resources"
                )
            }
            Conflict::Claimed { owner, loser } => match owner.namespace() {
                Some(namespace) => write!(
                    f,
                    "{loser} is not served: {owner} in namespace {namespace} claimed the name first (claims: firstNamespace)"
                ),
                None => write!(
                    f,
                    "{loser} is not served: {owner}, cluster scoped, claimed the name first (claims: firstNamespace)"
                ),
            },
            Conflict::NotAdmitted { object, why } => {
                write!(f, "{object} is not served: {why}")
            }
            Conflict::CnameBesideData { object } => write!(
                f,
                "CNAME from {object} is not served: the name has other records (RFC 2181 §10.1)"
            ),
            Conflict::CnameTargets {
                object,
                served,
                dropped,
            } => write!(
                f,
                "CNAME {dropped} from {object} is not served: a name has one CNAME and {served} is served"
            ),
            Conflict::Reserved { object } => write!(
                f,
                "{object} is not served: the name is the zone's nameserver host or below it"
            ),
            Conflict::Overridden { object, rtype } => write!(
                f,
                "{rtype} from {object} is not served: the config's static records set it"
            ),
            Conflict::AtZoneCut { object, rtype } => write!(
                f,
                "{rtype} from {object} is not served: the name is delegated (NS below the apex)"
            ),
            Conflict::ApexNs { object } => write!(
                f,
                "NS from {object} is not served: the apex NS set comes from the config"
            ),
            Conflict::OtherCluster { owner, loser } => write!(
                f,
                "{loser} is not served: {owner} comes from a cluster listed first, and the name is not global"
            ),
            Conflict::StaleCluster { object } => write!(
                f,
                "{object} is left out of the global name: its cluster's API server has been out of reach longer than staleAfter"
            ),
        }
    }
}
