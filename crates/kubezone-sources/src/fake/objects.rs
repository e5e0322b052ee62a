//! The objects the fake source makes: slot `i` is always the same Kind, namespace and name, and
//! each version of it differs only in its addresses. Services are LoadBalancers with their
//! status (some dual-stack), Ingresses have a host and load balancer status (some a host name,
//! as cloud load balancers give), DNSEndpoints an A record; every name is
//! `<app>-<i>.<namespace>.<zone>`.

use std::{
    collections::BTreeMap,
    net::{Ipv4Addr, Ipv6Addr},
};

use k8s_openapi::{
    api::{
        core::v1::{LoadBalancerIngress, LoadBalancerStatus, Service, ServiceSpec, ServiceStatus},
        networking::v1::{
            Ingress, IngressLoadBalancerIngress, IngressLoadBalancerStatus, IngressRule,
            IngressSpec, IngressStatus,
        },
    },
    apimachinery::pkg::apis::meta::v1::ObjectMeta,
};
use kubezone_model::{DnsName, Kind, ObjectRef};
use kubezone_translate::{DnsEndpoint, DnsEndpointSpec, DnsEndpointTarget, KubeObject};

use super::FakeError;

/// The Kinds the fake source can make, in the order slots take them.
pub const FAKE_KINDS: [Kind; 3] = [Kind::Service, Kind::Ingress, Kind::DnsEndpoint];

/// The namespaces used when the zone does not limit them.
pub const FAKE_NAMESPACES: [&str; 4] = ["default", "shop", "payments", "media"];

/// The first label of each name, before the slot number.
const APPS: [&str; 8] = [
    "web", "api", "cart", "auth", "blog", "cdn", "mail", "search",
];

/// Where the addresses come from: RFC 2544's benchmarking block (2^17 addresses), and the IPv6
/// documentation prefix. Neither is routed, so a demo never points anyone at a real host.
const V4_BASE: u32 = u32::from_be_bytes([198, 18, 0, 0]);
const V4_SIZE: u32 = 1 << 17;
const V6_PREFIX: u128 = 0x2001_0db8 << 96;

/// Every fake object carries this label, so it can be told apart (and selected).
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "kubezone-fake");

/// The annotation that puts a Service's name in one zone only.
const HOSTNAME_ANNOTATION: &str = "external-dns.alpha.kubernetes.io/hostname";

/// The TTL a DNSEndpoint asks for, so the demo shows `recordTTL` too.
const DNS_ENDPOINT_TTL: i64 = 30;

/// What every slot is made from.
#[derive(Clone, Debug)]
pub(super) struct Blueprint {
    /// The zone, without its trailing dot.
    zone: String,
    kinds: Vec<Kind>,
    namespaces: Vec<String>,
    ingress_class: Option<String>,
}

/// The addresses of one version of an object. Each version draws all of them, whatever its
/// shape uses, so a run's sequence depends only on the seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Addresses {
    pub(super) v4: Ipv4Addr,
    pub(super) v6: Ipv6Addr,
    /// The host name a cloud load balancer would report.
    pub(super) load_balancer: String,
}

impl Addresses {
    /// The addresses that `v4`, `v6` and `host` (three random numbers) pick.
    pub(super) fn pick(v4: u32, v6: u64, host: u32) -> Addresses {
        Addresses {
            v4: Ipv4Addr::from(V4_BASE + v4 % V4_SIZE),
            v6: Ipv6Addr::from(V6_PREFIX | u128::from(v6)),
            load_balancer: format!("lb-{host:08x}.elb.example.net"),
        }
    }
}

impl Blueprint {
    /// Slots in `zone` of `kinds` (of [`FAKE_KINDS`]; at least one), in `namespaces` (empty:
    /// a few usual ones). Fails when a name of the `objects` slots would not be a valid name.
    pub(super) fn new(
        zone: &DnsName,
        kinds: Vec<Kind>,
        namespaces: Vec<String>,
        ingress_class: Option<String>,
        objects: u32,
    ) -> Result<Blueprint, FakeError> {
        if let Some(kind) = kinds.iter().find(|k| !FAKE_KINDS.contains(k)) {
            return Err(FakeError::Kind(*kind));
        }
        if kinds.is_empty() {
            return Err(FakeError::NoKind);
        }
        let namespaces = if namespaces.is_empty() {
            FAKE_NAMESPACES.iter().map(|n| (*n).to_string()).collect()
        } else {
            namespaces
        };
        let blueprint = Blueprint {
            zone: zone.to_string().trim_end_matches('.').to_string(),
            kinds,
            namespaces,
            ingress_class,
        };
        // The longest names are those of the last slots; one per namespace and app covers
        // every label the slots use.
        let last = objects.saturating_sub(1);
        let span = blueprint.span() * APPS.len();
        let first = last.saturating_sub(u32::try_from(span).unwrap_or(u32::MAX));
        let mut hosts: Vec<String> = (first..=last).map(|slot| blueprint.host(slot)).collect();
        // The longest first, so a name too long is the one reported.
        hosts.sort_by_key(|host| std::cmp::Reverse(host.len()));
        for host in hosts {
            DnsName::parse(&host).map_err(|source| FakeError::Name { source })?;
        }
        Ok(blueprint)
    }

    /// How many slots in a row differ in Kind or namespace.
    fn span(&self) -> usize {
        self.kinds.len() * self.namespaces.len()
    }

    pub(super) fn kind(&self, slot: u32) -> Kind {
        let i = index(slot);
        self.kinds
            .get(i % self.kinds.len().max(1))
            .copied()
            .unwrap_or(Kind::Service)
    }

    pub(super) fn namespace(&self, slot: u32) -> &str {
        let i = index(slot) / self.kinds.len().max(1);
        self.namespaces
            .get(i % self.namespaces.len().max(1))
            .map_or("default", String::as_str)
    }

    pub(super) fn name(&self, slot: u32) -> String {
        let i = index(slot) / self.span().max(1);
        let app = APPS.get(i % APPS.len()).copied().unwrap_or("web");
        format!("{app}-{slot}")
    }

    /// The DNS name of the slot, absolute, without the trailing dot (as an Ingress host).
    pub(super) fn host(&self, slot: u32) -> String {
        format!("{}.{}.{}", self.name(slot), self.namespace(slot), self.zone)
    }

    pub(super) fn object_ref(&self, slot: u32) -> ObjectRef {
        ObjectRef::new(
            self.kind(slot),
            Some(self.namespace(slot)),
            &self.name(slot),
        )
    }

    /// Slot `slot` with `addresses`.
    pub(super) fn object(&self, slot: u32, addresses: &Addresses) -> KubeObject {
        let metadata = ObjectMeta {
            name: Some(self.name(slot)),
            namespace: Some(self.namespace(slot).to_string()),
            labels: Some(BTreeMap::from([(
                MANAGED_BY.0.to_string(),
                MANAGED_BY.1.to_string(),
            )])),
            ..ObjectMeta::default()
        };
        // Every few slots of a Kind take the other shape.
        let variant = index(slot) / self.kinds.len().max(1);
        match self.kind(slot) {
            Kind::Ingress => self.ingress(slot, metadata, addresses, variant % 5 == 4),
            Kind::DnsEndpoint => self.dns_endpoint(slot, metadata, addresses),
            _ => self.service(slot, metadata, addresses, variant % 4 == 3),
        }
    }

    fn service(
        &self,
        slot: u32,
        mut metadata: ObjectMeta,
        addresses: &Addresses,
        dual_stack: bool,
    ) -> KubeObject {
        metadata.annotations = Some(BTreeMap::from([(
            HOSTNAME_ANNOTATION.to_string(),
            // With its trailing dot: absolute, so no other zone gets it too.
            format!("{}.", self.host(slot)),
        )]));
        let mut ingress = vec![LoadBalancerIngress {
            ip: Some(addresses.v4.to_string()),
            ..LoadBalancerIngress::default()
        }];
        if dual_stack {
            ingress.push(LoadBalancerIngress {
                ip: Some(addresses.v6.to_string()),
                ..LoadBalancerIngress::default()
            });
        }
        KubeObject::Service(Box::new(Service {
            metadata,
            spec: Some(ServiceSpec {
                type_: Some("LoadBalancer".into()),
                ..ServiceSpec::default()
            }),
            status: Some(ServiceStatus {
                load_balancer: Some(LoadBalancerStatus {
                    ingress: Some(ingress),
                }),
                ..ServiceStatus::default()
            }),
        }))
    }

    fn ingress(
        &self,
        slot: u32,
        metadata: ObjectMeta,
        addresses: &Addresses,
        by_host_name: bool,
    ) -> KubeObject {
        let status = if by_host_name {
            IngressLoadBalancerIngress {
                hostname: Some(addresses.load_balancer.clone()),
                ..IngressLoadBalancerIngress::default()
            }
        } else {
            IngressLoadBalancerIngress {
                ip: Some(addresses.v4.to_string()),
                ..IngressLoadBalancerIngress::default()
            }
        };
        let host = self.host(slot);
        KubeObject::Ingress(Box::new(Ingress {
            metadata,
            spec: Some(IngressSpec {
                ingress_class_name: self.ingress_class.clone(),
                rules: Some(vec![IngressRule {
                    host: Some(host),
                    http: None,
                }]),
                ..IngressSpec::default()
            }),
            status: Some(IngressStatus {
                load_balancer: Some(IngressLoadBalancerStatus {
                    ingress: Some(vec![status]),
                }),
            }),
        }))
    }

    fn dns_endpoint(&self, slot: u32, metadata: ObjectMeta, addresses: &Addresses) -> KubeObject {
        KubeObject::DnsEndpoint(Box::new(DnsEndpoint {
            metadata,
            spec: DnsEndpointSpec {
                endpoints: vec![DnsEndpointTarget {
                    dns_name: self.host(slot),
                    targets: vec![addresses.v4.to_string()],
                    record_type: "A".into(),
                    record_ttl: Some(DNS_ENDPOINT_TTL),
                    ..DnsEndpointTarget::default()
                }],
            },
        }))
    }
}

fn index(slot: u32) -> usize {
    usize::try_from(slot).unwrap_or(usize::MAX)
}
