//! A zone's tenant rules on the claims of one name: namespaces the zone does not admit
//! (`namespaces`, `namespaceSelector`), then `claims: firstNamespace`, where a name that objects
//! of one namespace serve cannot be taken by another, whatever its Kind's place in `resources`.

use std::borrow::Cow;

use hashbrown::HashMap;

use kubezone_model::{Kind, ObjectRef};

use crate::{Conflict, build::Claim};

/// The claims whose namespace the zone admits, and a conflict for each of the others.
/// `refused` holds the namespaces turned away and why.
pub(crate) fn admitted<'c>(
    claims: &'c [Claim],
    refused: &HashMap<String, String>,
) -> (Cow<'c, [Claim]>, Vec<Conflict>) {
    let why = |c: &Claim| c.object.namespace().and_then(|ns| refused.get(ns));
    if refused.is_empty() || claims.iter().all(|c| why(c).is_none()) {
        return (Cow::Borrowed(claims), Vec::new());
    }
    let mut kept = Vec::with_capacity(claims.len());
    let mut conflicts = Vec::new();
    for claim in claims {
        match why(claim) {
            None => kept.push(claim.clone()),
            Some(why) => conflicts.push(Conflict::NotAdmitted {
                object: claim.object.clone(),
                why: why.clone(),
            }),
        }
    }
    (Cow::Owned(kept), conflicts)
}

/// The claims the rule lets through, and a conflict for each it holds back. The owner is the
/// namespace of the oldest object (by `created`, unix seconds; 0, unknown, counts as newest),
/// then the first by namespace and name, so every replica and every restart agrees. The
/// config's static records are nobody's and always pass.
pub(crate) fn first_namespace<'c>(
    claims: &'c [Claim],
    created: impl Fn(&ObjectRef) -> u32,
) -> (Cow<'c, [Claim]>, Vec<Conflict>) {
    let is_object = |c: &&Claim| c.object.kind() != Kind::Config;
    let Some(owner) = claims.iter().filter(is_object).min_by(|a, b| {
        let age = |o: &ObjectRef| match created(o) {
            0 => u32::MAX,
            t => t,
        };
        (age(&a.object), a.object.namespace(), a.object.name()).cmp(&(
            age(&b.object),
            b.object.namespace(),
            b.object.name(),
        ))
    }) else {
        return (Cow::Borrowed(claims), Vec::new());
    };
    let namespace = owner.object.namespace();
    let passes = |c: &Claim| c.object.kind() == Kind::Config || c.object.namespace() == namespace;
    if claims.iter().all(passes) {
        return (Cow::Borrowed(claims), Vec::new());
    }
    let mut kept = Vec::with_capacity(claims.len());
    let mut conflicts = Vec::new();
    for claim in claims {
        if passes(claim) {
            kept.push(claim.clone());
        } else {
            conflicts.push(Conflict::Claimed {
                owner: owner.object.clone(),
                loser: claim.object.clone(),
            });
        }
    }
    (Cow::Owned(kept), conflicts)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use kubezone_model::{Kind, ObjectRef, Target};

    use super::first_namespace;
    use crate::{Conflict, build::Claim};

    fn claim(kind: Kind, rank: u8, namespace: Option<&str>, name: &str) -> Claim {
        Claim {
            rank,
            object: ObjectRef::new(kind, namespace, name),
            targets: vec![Target::V4("192.0.2.1".parse().expect("ip"))],
            ttl: None,
            note: None,
            global: None,
        }
    }

    fn served(claims: &[Claim]) -> Vec<String> {
        claims.iter().map(|c| c.object.to_string()).collect()
    }

    #[test]
    fn the_oldest_namespace_keeps_the_name_whatever_the_kind() {
        // An HTTPRoute comes first in resources, but its namespace came second.
        let route = claim(Kind::HttpRoute, 1, Some("b"), "route");
        let ingress = claim(Kind::Ingress, 2, Some("a"), "web");
        let also_a = claim(Kind::Service, 3, Some("a"), "svc");
        let created: HashMap<ObjectRef, u32> = [
            (route.object.clone(), 2_000),
            (ingress.object.clone(), 1_000),
            (also_a.object.clone(), 3_000),
        ]
        .into();
        let claims = [route.clone(), ingress.clone(), also_a.clone()];
        let (kept, conflicts) = first_namespace(&claims, |o| created[o]);
        assert_eq!(served(&kept), served(&[ingress.clone(), also_a]));
        assert_eq!(
            conflicts,
            vec![Conflict::Claimed {
                owner: ingress.object,
                loser: route.object
            }]
        );
    }

    #[test]
    fn ties_and_unknown_times_fall_back_to_namespace_order() {
        let a = claim(Kind::Ingress, 1, Some("a"), "x");
        let b = claim(Kind::Ingress, 1, Some("b"), "x");
        let claims = [b.clone(), a.clone()];
        let (kept, conflicts) = first_namespace(&claims, |_| 0);
        assert_eq!(served(&kept), served(std::slice::from_ref(&a)));
        assert_eq!(conflicts.len(), 1);
        // A known creation time beats an unknown one.
        let claims = [a.clone(), b.clone()];
        let (kept, _) =
            first_namespace(&claims, |o| if o.namespace() == Some("b") { 5 } else { 0 });
        assert_eq!(served(&kept), served(&[b]));
    }

    #[test]
    fn one_namespace_and_static_records_pass_untouched() {
        let config = claim(Kind::Config, 0, None, "zones[0].records[0]");
        let a = claim(Kind::Ingress, 1, Some("a"), "x");
        let a2 = claim(Kind::Service, 2, Some("a"), "y");
        let claims = [config, a, a2];
        let (kept, conflicts) = first_namespace(&claims, |_| 7);
        assert!(matches!(kept, std::borrow::Cow::Borrowed(_)));
        assert_eq!(kept.len(), 3);
        assert!(conflicts.is_empty());
    }

    #[test]
    fn cluster_scoped_objects_are_a_claimant_of_their_own() {
        let node = claim(Kind::Node, 3, None, "node-1");
        let ingress = claim(Kind::Ingress, 1, Some("a"), "web");
        let created = |o: &ObjectRef| if o.kind() == Kind::Node { 1 } else { 2 };
        let claims = [ingress.clone(), node.clone()];
        let (kept, conflicts) = first_namespace(&claims, created);
        assert_eq!(served(&kept), served(&[node]));
        assert!(
            conflicts[0].to_string().contains("cluster scoped"),
            "{}",
            conflicts[0]
        );
    }
}
