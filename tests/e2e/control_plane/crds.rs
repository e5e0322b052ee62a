//! The CRD bundles `scripts/control-plane.sh` fetched: installed and removed, waiting until
//! discovery agrees.

use super::{
    objects::{documents, object_names},
    *,
};

impl ControlPlane {
    /// Installs CRDs and waits until the apiserver serves them: condition Established, and
    /// every served version of their Kinds in discovery.
    pub fn install_crds(&self, crds: Crds) {
        self.install_crd_yaml(&self.crd_yaml(crds));
    }

    /// Like [`ControlPlane::install_crds`], for CRDs given as YAML (e.g. the ServiceMonitor CRD
    /// that `scripts/helm.sh` fetches).
    pub fn install_crd_yaml(&self, yaml: &str) {
        self.apply_yaml(yaml);
        let client = self.admin_client();
        let api: Api<CustomResourceDefinition> = Api::all(client.clone());
        for name in object_names(yaml) {
            let established = || {
                self.block_on(api.get_opt(&name))
                    .expect("get CRD")
                    .and_then(|crd| crd.status)
                    .and_then(|status| status.conditions)
                    .is_some_and(|conditions| {
                        conditions
                            .iter()
                            .any(|c| c.type_ == "Established" && c.status == "True")
                    })
            };
            wait_until(&format!("CRD {name} is Established"), established);
        }
        for gvk in served_kinds(yaml) {
            wait_until(&format!("discovery has {gvk:?}"), || {
                self.block_on(discovery::pinned_kind(&client, &gvk)).is_ok()
            });
        }
    }

    /// Deletes CRDs (and so every object of their Kinds) and waits until they are gone, also
    /// from discovery.
    pub fn uninstall_crds(&self, crds: Crds) {
        let yaml = self.crd_yaml(crds);
        self.delete_yaml(&yaml);
        let client = self.admin_client();
        let api: Api<CustomResourceDefinition> = Api::all(client.clone());
        for name in object_names(&yaml) {
            wait_until(&format!("CRD {name} is deleted"), || {
                self.block_on(api.get_opt(&name))
                    .expect("get CRD")
                    .is_none()
            });
        }
        for gvk in served_kinds(&yaml) {
            wait_until(&format!("discovery no longer has {gvk:?}"), || {
                self.block_on(discovery::pinned_kind(&client, &gvk))
                    .is_err()
            });
        }
    }

    /// The CRDs of a bundle, as `scripts/control-plane.sh` built them.
    pub fn crd_yaml(&self, crds: Crds) -> String {
        let path = self.crds.join(crds.file());
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }
}

/// CRD bundles built by `scripts/control-plane.sh`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Crds {
    /// GatewayClass, Gateway, ListenerSet, HTTPRoute, GRPCRoute, TLSRoute (all served at v1),
    /// ReferenceGrant.
    GatewayApi,
    /// TCPRoute and UDPRoute from the experimental channel: served at v1 and v1alpha2.
    GatewayApiL4,
    /// external-dns's DNSEndpoint (`externaldns.k8s.io/v1alpha1`).
    DnsEndpoint,
}

impl Crds {
    fn file(self) -> &'static str {
        match self {
            Crds::GatewayApi => "gateway-api.yaml",
            Crds::GatewayApiL4 => "gateway-api-l4.yaml",
            Crds::DnsEndpoint => "dnsendpoint.yaml",
        }
    }
}

/// Group, served versions and Kind of each CRD in `yaml`.
fn served_kinds(yaml: &str) -> Vec<GroupVersionKind> {
    let mut kinds = Vec::new();
    for crd in documents(yaml) {
        let spec = &crd.data["spec"];
        let (group, kind) = (&spec["group"], &spec["names"]["kind"]);
        for version in spec["versions"].as_array().into_iter().flatten() {
            if version["served"] == true
                && let (Some(group), Some(version), Some(kind)) =
                    (group.as_str(), version["name"].as_str(), kind.as_str())
            {
                kinds.push(GroupVersionKind::gvk(group, version, kind));
            }
        }
    }
    kinds
}
