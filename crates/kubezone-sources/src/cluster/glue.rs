//! The server's own Service, whose addresses are the glue of the zones' nameserver host.

use std::net::IpAddr;

use futures::{StreamExt, pin_mut};
use k8s_openapi::api::core::v1::Service;
use kube::{
    Api,
    runtime::{
        WatchStreamExt,
        watcher::{self, Event},
    },
};
use tokio::sync::mpsc;

use super::{
    slim::written,
    status::{ClusterStatus, WatchState},
    watch::{backoff, watch_config},
};
use crate::{ServiceName, SourceEvent, SourceId};

pub struct GlueWatch {
    pub service: ServiceName,
    pub api: Api<Service>,
    pub status: ClusterStatus,
    pub id: usize,
    pub source: SourceId,
}

impl GlueWatch {
    pub fn label(service: &ServiceName) -> String {
        format!(
            "Service {}/{} (nameserver glue)",
            service.namespace, service.name
        )
    }

    /// Watches the one Service until `events` closes.
    pub async fn run(self, events: mpsc::Sender<SourceEvent>) {
        let config = watch_config().fields(&format!("metadata.name={}", self.service.name));
        let stream = watcher::watcher(self.api.clone(), config).backoff(backoff());
        pin_mut!(stream);
        let mut listed: Option<(Vec<IpAddr>, u32)> = None;
        while let Some(item) = stream.next().await {
            let (addrs, written) = match item {
                Ok(Event::Init) => {
                    listed = Some((Vec::new(), 0));
                    continue;
                }
                Ok(Event::InitApply(service)) => {
                    listed = Some((service_addresses(&service), written(&service.metadata)));
                    continue;
                }
                Ok(Event::InitDone) => {
                    self.status.set(self.id, WatchState::Synced);
                    listed.take().unwrap_or_default()
                }
                Ok(Event::Apply(service)) => {
                    (service_addresses(&service), written(&service.metadata))
                }
                Ok(Event::Delete(_)) => (Vec::new(), 0),
                Err(e) => {
                    let state = match &e {
                        watcher::Error::InitialListFailed(kube::Error::Api(s))
                        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
                            if s.code == 403 =>
                        {
                            WatchState::Forbidden {
                                verb: "watch",
                                message: format!(
                                    "services in namespace {}: {}",
                                    self.service.namespace, s.message
                                ),
                            }
                        }
                        _ => WatchState::Failing {
                            message: e.to_string(),
                        },
                    };
                    self.status.set(self.id, state);
                    continue;
                }
            };
            let event = SourceEvent::Glue {
                source: self.source,
                service: self.service.clone(),
                addrs,
                written,
            };
            if events.send(event).await.is_err() {
                return;
            }
        }
    }
}

/// The addresses clients reach the Service at, as for a Service's own records: its
/// `spec.externalIPs` when set, else its load balancer's IPs.
pub fn service_addresses(service: &Service) -> Vec<IpAddr> {
    let balancer = service
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|ingress| ingress.ip.as_deref());
    let external = service
        .spec
        .as_ref()
        .and_then(|s| s.external_ips.as_ref())
        .into_iter()
        .flatten()
        .map(String::as_str);
    let mut addrs: Vec<IpAddr> = external.filter_map(|ip| ip.parse().ok()).collect();
    if addrs.is_empty() {
        addrs = balancer.filter_map(|ip| ip.parse().ok()).collect();
    }
    addrs.sort();
    addrs.dedup();
    addrs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(value: serde_json::Value) -> Service {
        serde_json::from_value(value).expect("a Service")
    }

    #[test]
    fn load_balancer_addresses_without_external_ips() {
        let s = service(serde_json::json!({
            "metadata": {"name": "dns1", "namespace": "kube-system"},
            "spec": {"type": "LoadBalancer"},
            "status": {"loadBalancer": {"ingress": [
                {"ip": "192.0.2.2"}, {"hostname": "lb.example.net"}, {"ip": "2001:db8::1"},
                {"ip": "192.0.2.2"}
            ]}}
        }));
        let addrs: Vec<String> = service_addresses(&s)
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_eq!(addrs, ["192.0.2.2", "2001:db8::1"]);
    }

    #[test]
    fn external_ips_win_over_the_load_balancer() {
        let s = service(serde_json::json!({
            "metadata": {"name": "dns1", "namespace": "kube-system"},
            "spec": {"externalIPs": ["192.0.2.9", "not an ip"]},
            "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.2"}]}}
        }));
        let addrs: Vec<String> = service_addresses(&s)
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_eq!(addrs, ["192.0.2.9"]);
    }
}
