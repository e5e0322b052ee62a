//! `kubezone migrate --corefile FILE`: the config on stdout, the warnings on stderr, and a config
//! that `kubezone check` accepts.

use std::{path::Path, process::Command};

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn kubezone(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_kubezone"))
        .args(args)
        .output()
        .expect("run kubezone");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn migrate(corefile: &Path) -> Run {
    kubezone(&["migrate", "--corefile", corefile.to_str().expect("utf-8")])
}

/// A kubeconfig that loads without a cluster behind it: `check` reads it, sends nothing.
const KUBECONFIG: &str = "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: \"https://127.0.0.1:1\"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: prod, context: {cluster: c, user: u}}]\ncurrent-context: prod\n";

#[test]
fn migrate_prints_a_config_that_check_accepts_and_warns_on_stderr() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, KUBECONFIG).expect("write");
    let corefile = dir.path().join("Corefile");
    std::fs::write(
        &corefile,
        format!(
            r#".:1053 {{
    k8s_gateway example.com example.org {{
        resources HTTPRoute Ingress Service
        ttl 30
        apex dns1.kube-system
        secondary dns2.kube-system
        kubeconfig {} prod
        fallthrough legacy.example.com
        serviceLabelSelectors "tier in (web, api)"
    }}
    forward . 192.0.2.53 /etc/resolv.conf
    prometheus 127.0.0.1:9153
    health {{
        lameduck 3s
    }}
    ready
    log
    whoami
}}
"#,
            kubeconfig.display()
        ),
    )
    .expect("write");

    let run = migrate(&corefile);
    assert_eq!(run.code, Some(0), "{}", run.stderr);

    let config: serde_norway::Value = serde_norway::from_str(&run.stdout).expect("YAML on stdout");
    assert_eq!(config["listen"][0].as_str(), Some("0.0.0.0:1053"));
    let zones: Vec<&str> = config["zones"]
        .as_sequence()
        .expect("zones")
        .iter()
        .filter_map(|z| z["zone"].as_str())
        .collect();
    assert_eq!(zones, ["example.com", "example.org"]);
    let zone = &config["zones"][0];
    assert_eq!(zone["ttl"].as_u64(), Some(30));
    assert_eq!(zone["secondary"].as_str(), Some("dns2.kube-system"));
    assert_eq!(zone["fallthrough"][0].as_str(), Some("legacy.example.com"));
    assert_eq!(
        zone["resources"],
        serde_norway::from_str::<serde_norway::Value>("[HTTPRoute, Ingress, Service]")
            .expect("yaml")
    );
    assert!(
        config["zones"][1]["fallthrough"].is_null(),
        "{}",
        run.stdout
    );
    assert_eq!(config["upstream"][0].as_str(), Some("192.0.2.53"));
    assert_eq!(
        config["kubernetes"]["kubeconfig"].as_str(),
        kubeconfig.to_str()
    );
    assert_eq!(config["kubernetes"]["context"].as_str(), Some("prod"));
    assert_eq!(config["http"]["listen"].as_str(), Some("127.0.0.1:9153"));
    assert_eq!(config["http"]["metrics"].as_bool(), Some(true));
    assert_eq!(config["lameduckSeconds"].as_u64(), Some(3));
    assert_eq!(config["queryLog"].as_bool(), Some(true));

    // Each warning on its own stderr line, and again as a comment above the YAML.
    let warnings: Vec<&str> = run.stderr.lines().collect();
    assert!(
        warnings.iter().all(|w| w.starts_with("kubezone migrate: ")),
        "{}",
        run.stderr
    );
    for needle in [
        "line 11: forward to /etc/resolv.conf cannot be carried over",
        "line 18: plugin `whoami` is not carried over",
    ] {
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with(&format!("kubezone migrate: {needle}"))),
            "no warning {needle:?} in {}",
            run.stderr
        );
        assert!(
            run.stdout.contains(&format!("# - {needle}")),
            "no comment {needle:?} in {}",
            run.stdout
        );
    }

    let config_path = dir.path().join("kubezone.yaml");
    std::fs::write(&config_path, &run.stdout).expect("write");
    let check = kubezone(&["check", "--config", config_path.to_str().expect("utf-8")]);
    assert_eq!(check.code, Some(0), "{}{}", check.stdout, check.stderr);
    assert!(check.stdout.contains("ok (2 zone(s)"), "{}", check.stdout);
}

#[test]
fn the_k8s_gateway_chart_corefile_migrates_to_a_usable_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corefile = dir.path().join("Corefile");
    std::fs::write(
        &corefile,
        ".:1053 {\n    k8s_gateway example.com {\n      apex exdns-k8s-gateway.kube-system\n      ttl 300\n      resources Ingress Service\n    }\n    log\n    errors\n    health {\n      lameduck 5s\n    }\n    ready\n    prometheus 0.0.0.0:9153\n    forward . /etc/resolv.conf\n    loop\n    reload\n    loadbalance\n}\n",
    )
    .expect("write");
    let run = migrate(&corefile);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr.contains("line 14: forward is not carried over"),
        "{}",
        run.stderr
    );

    // The config watches the cluster found the usual way: give `check` a kubeconfig to load.
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, KUBECONFIG).expect("write");
    let config_path = dir.path().join("kubezone.yaml");
    std::fs::write(&config_path, &run.stdout).expect("write");
    let check = Command::new(env!("CARGO_BIN_EXE_kubezone"))
        .args(["check", "--config", config_path.to_str().expect("utf-8")])
        .env("KUBECONFIG", &kubeconfig)
        .output()
        .expect("run kubezone");
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn migrate_fails_with_the_line_of_a_syntax_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corefile = dir.path().join("Corefile");
    std::fs::write(
        &corefile,
        ".:53 {\n    k8s_gateway example.com {\n        resources Ingress\n    }\n}\n}\n",
    )
    .expect("write");
    let run = migrate(&corefile);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr.starts_with("kubezone migrate: "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("line 6: unbalanced `}`"),
        "{}",
        run.stderr
    );
}

#[test]
fn migrate_fails_without_k8s_gateway_or_without_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corefile = dir.path().join("Corefile");
    std::fs::write(&corefile, ".:53 {\n    forward . 192.0.2.53\n}\n").expect("write");
    let run = migrate(&corefile);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(run.stderr.contains("no k8s_gateway"), "{}", run.stderr);

    let missing = dir.path().join("missing.Corefile");
    let run = migrate(&missing);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("missing.Corefile"), "{}", run.stderr);
}
