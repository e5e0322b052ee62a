//! Gateways and routes as kubezone reads them: only the fields it reads, every value it might
//! not know (a listener protocol, a parent kind, an `allowedRoutes.namespaces.from`) kept as a
//! string, and everything else ignored. A cluster running newer or experimental Gateway API
//! CRDs (a filter type, a match method or a field added since) therefore never makes a route
//! unreadable, as the complete generated types of every field would.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::{Deserialize, Deserializer, Serialize};

/// `gateway.networking.k8s.io`, the group of Gateways and routes, and the default of a
/// parentRef's and an `allowedRoutes.kinds` entry's `group`.
pub(crate) const GROUP: &str = "gateway.networking.k8s.io";

/// A Gateway: its class, its listeners and the addresses its controller reports.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Gateway {
    pub metadata: ObjectMeta,
    #[serde(default, deserialize_with = "null_as_default")]
    pub spec: GatewaySpec,
    #[serde(default, deserialize_with = "null_as_default")]
    pub status: GatewayStatus,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewaySpec {
    #[serde(default, deserialize_with = "null_as_default")]
    pub gateway_class_name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub listeners: Vec<Listener>,
    /// Which ListenerSets may attach to the Gateway; left out, none.
    #[serde(default, deserialize_with = "null_as_default")]
    pub allowed_listeners: AllowedListeners,
}

/// `spec.allowedListeners` of a Gateway.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AllowedListeners {
    /// `from` defaults to `None` here, not `Same` as for routes.
    #[serde(default, deserialize_with = "null_as_default")]
    pub namespaces: RouteNamespaces,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Listener {
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default)]
    pub port: Option<i32>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub protocol: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub allowed_routes: AllowedRoutes,
}

/// Which routes may attach to a listener.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AllowedRoutes {
    #[serde(default, deserialize_with = "null_as_default")]
    pub namespaces: RouteNamespaces,
    /// Empty: the Kinds the listener's protocol takes.
    #[serde(default, deserialize_with = "null_as_default")]
    pub kinds: Vec<RouteGroupKind>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RouteNamespaces {
    /// `Same` (the default), `All`, `Selector`, or a value kubezone does not know.
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub selector: Option<LabelSelector>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RouteGroupKind {
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub kind: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GatewayStatus {
    #[serde(default, deserialize_with = "null_as_default")]
    pub addresses: Vec<GatewayAddress>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GatewayAddress {
    /// `IPAddress` (the default), `Hostname`, or another type.
    #[serde(default, rename = "type")]
    pub type_: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub value: String,
}

/// A ListenerSet: listeners added to a parent Gateway by another team, which routes may name as
/// their parent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ListenerSet {
    pub metadata: ObjectMeta,
    #[serde(default, deserialize_with = "null_as_default")]
    pub spec: ListenerSetSpec,
    #[serde(default, deserialize_with = "null_as_default")]
    pub status: ListenerSetStatus,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerSetSpec {
    /// The Gateway the listeners are added to.
    #[serde(default, deserialize_with = "null_as_default")]
    pub parent_ref: ParentReference,
    /// The same fields kubezone reads of a Gateway's listeners.
    #[serde(default, deserialize_with = "null_as_default")]
    pub listeners: Vec<Listener>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ListenerSetStatus {
    /// `Accepted: True` once the Gateway's controller attached the ListenerSet.
    #[serde(default, deserialize_with = "null_as_default")]
    pub conditions: Vec<Condition>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub listeners: Vec<ListenerEntryStatus>,
}

/// What the controller made of one listener of a ListenerSet.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ListenerEntryStatus {
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub conditions: Vec<Condition>,
}

/// An HTTPRoute, GRPCRoute, TLSRoute, TCPRoute or UDPRoute: they share every field kubezone
/// reads (TCPRoutes and UDPRoutes have no `hostnames`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Route {
    pub metadata: ObjectMeta,
    #[serde(default, deserialize_with = "null_as_default")]
    pub spec: RouteSpec,
    #[serde(default, deserialize_with = "null_as_default")]
    pub status: RouteStatus,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteSpec {
    /// Empty: the hostnames of the listeners the route attaches to (TLSRoutes before v1 may
    /// leave the field out).
    #[serde(default, deserialize_with = "null_as_default")]
    pub hostnames: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub parent_refs: Vec<ParentReference>,
}

/// A route's `parentRefs[]` entry, and the `parentRef` of its status.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParentReference {
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(default)]
    pub section_name: Option<String>,
    #[serde(default)]
    pub port: Option<i32>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RouteStatus {
    /// What each Gateway's controller made of the route.
    #[serde(default, deserialize_with = "null_as_default")]
    pub parents: Vec<RouteParentStatus>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteParentStatus {
    #[serde(default, deserialize_with = "null_as_default")]
    pub parent_ref: ParentReference,
    #[serde(default, deserialize_with = "null_as_default")]
    pub controller_name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub conditions: Vec<Condition>,
}

/// A condition's type and status: the rest (reason, message, times) is for people.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    #[serde(default, rename = "type", deserialize_with = "null_as_default")]
    pub type_: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub status: String,
}

impl RouteParentStatus {
    /// Whether the controller says the route is `Accepted` by this parent.
    pub(crate) fn accepted(&self) -> bool {
        accepted(&self.conditions)
    }
}

/// Whether `conditions` hold `Accepted: True`.
pub(crate) fn accepted(conditions: &[Condition]) -> bool {
    conditions
        .iter()
        .any(|c| c.type_ == "Accepted" && c.status == "True")
}

/// `null` (as YAML writes an empty `key:`) reads as the default, like a missing field.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}
