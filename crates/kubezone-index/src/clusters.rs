//! Names that objects of several clusters claim (`clusters:`): a global claim merges with the
//! other clusters' global claims, unless its cluster is stale; a claim that is not global is
//! served only from the first cluster (in `clusters:` order) that claims the name with that
//! Kind. Claims of no cluster (the manifests folder, the config) are never held back here.

use std::{borrow::Cow, collections::BTreeSet};

use crate::{Conflict, build::Claim};

/// The claims served, and a conflict for each held back. `stale` holds the indexes of the
/// clusters whose data has passed `staleAfter`.
pub(crate) fn across_clusters<'c>(
    claims: &'c [Claim],
    stale: &BTreeSet<u16>,
) -> (Cow<'c, [Claim]>, Vec<Conflict>) {
    let cluster = |c: &Claim| c.object.cluster().map(|c| c.index());
    // The common case: one cluster or none.
    let mut clusters = claims.iter().filter_map(cluster);
    let Some(first) = clusters.next() else {
        return (Cow::Borrowed(claims), Vec::new());
    };
    if clusters.all(|c| c == first) && !stale.contains(&first) {
        return (Cow::Borrowed(claims), Vec::new());
    }
    let mut kept = Vec::with_capacity(claims.len());
    let mut conflicts = Vec::new();
    for claim in claims {
        let Some(index) = cluster(claim) else {
            kept.push(claim.clone());
            continue;
        };
        if claim.global.is_some() {
            if stale.contains(&index) {
                conflicts.push(Conflict::StaleCluster {
                    object: claim.object.clone(),
                });
            } else {
                kept.push(claim.clone());
            }
            continue;
        }
        // Not global: the first cluster with a claim of this rank that is not global keeps it.
        let owner = claims
            .iter()
            .filter(|c| c.rank == claim.rank && c.global.is_none() && cluster(c).is_some())
            .min_by_key(|c| cluster(c));
        match owner {
            Some(owner) if cluster(owner) != Some(index) => {
                conflicts.push(Conflict::OtherCluster {
                    owner: owner.object.clone(),
                    loser: claim.object.clone(),
                });
            }
            _ => kept.push(claim.clone()),
        }
    }
    (Cow::Owned(kept), conflicts)
}

/// The clusters a local-first name has its own records from, when its served claims come from
/// more than one: each gets a variant built from its own claims (and those of no cluster).
pub(crate) fn local_first_clusters(claims: &[Claim]) -> Vec<u16> {
    let local_first = claims
        .iter()
        .any(|c| c.global == Some(kubezone_model::Preference::LocalFirst));
    if !local_first {
        return Vec::new();
    }
    let clusters: BTreeSet<u16> = claims
        .iter()
        .filter_map(|c| c.object.cluster().map(|c| c.index()))
        .collect();
    if clusters.len() < 2 {
        return Vec::new();
    }
    clusters.into_iter().collect()
}

/// The claims a client of `cluster` is given on a local-first name.
pub(crate) fn of_cluster(claims: &[Claim], cluster: u16) -> Vec<Claim> {
    claims
        .iter()
        .filter(|c| c.object.cluster().is_none_or(|c| c.index() == cluster))
        .cloned()
        .collect()
}
