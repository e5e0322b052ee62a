//! One translation per Kind that owns names on its own (routes are in `crate::gateway`).

pub(crate) mod dns_endpoint;
pub(crate) mod ingress;
pub(crate) mod node;
pub(crate) mod service;
