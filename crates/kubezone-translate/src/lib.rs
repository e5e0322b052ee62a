//! Kubernetes objects → DNS endpoints, exactly as `spec/resources.md` says.
//!
//! Pure: no I/O, no clock. The manifests folder and the live watch both hand their objects to
//! one [`Translator`], which keeps just enough state (Gateways, the routes attached to them and
//! Namespaces' labels) to translate a route whose addresses live on its parent Gateway.

// Everything here handles input from the network or the cluster: nothing may panic on it.
#![cfg_attr(
    not(test),
    deny(clippy::expect_used, clippy::indexing_slicing, clippy::panic)
)]

mod annotations;
mod dns_endpoint;
mod error;
mod filter;
mod gateway;
mod gateway_api;
pub mod global;
mod hostname;
mod hostname_annotation;
mod kinds;
mod label_selector;
mod listener;
mod listener_set;
mod meta;
mod names;
mod namespaces;
mod object;
mod output;
mod route;
mod service_join;
mod targets;
mod template;
mod translator;

#[cfg(test)]
mod tests;

pub use dns_endpoint::{DnsEndpoint, DnsEndpointSpec, DnsEndpointTarget};
pub use error::{Problem, TranslateError};
pub use filter::{
    GatewayConsent, GlobalNames, NodeAddressType, UnknownNodeAddressType, ZoneFilter,
};
pub use gateway_api::{Gateway, ListenerSet, Route};
pub use kinds::service::KuberouteLabels;
pub use label_selector::{LabelSelector, LabelSelectorError};
pub use namespaces::NamespaceFilter;
pub use object::{KubeObject, ObjectError};
pub use output::{ObjectRecords, Translated, ZonedEndpoint};
pub use template::{NameTemplate, NameTemplateError};
pub use translator::Translator;
