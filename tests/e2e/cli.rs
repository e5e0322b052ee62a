//! `kubezone check` and start-up errors, as a user meets them.

use std::process::Command;

fn kubezone(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kubezone"))
        .args(args)
        .output()
        .expect("run kubezone");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn check_accepts_the_shipped_config() {
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/kubezone.yaml");
    let (ok, text) = kubezone(&["check", "--config", config]);
    assert!(ok, "{text}");
    assert!(text.contains("ok"), "{text}");
}

#[test]
fn check_names_an_unknown_key_and_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, "zones:\n  - zone: example.com\n    tll: 60\n").expect("write");
    let (ok, text) = kubezone(&["check", "--config", path.to_str().expect("utf-8")]);
    assert!(!ok);
    assert!(text.contains("tll"), "{text}");
    assert!(text.contains("bad.yaml"), "{text}");
}

#[test]
fn check_names_a_broken_manifest_and_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("m")).expect("mkdir");
    std::fs::write(
        dir.path().join("m/broken.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n  labels: [oops\n",
    )
    .expect("write");
    let path = dir.path().join("kubezone.yaml");
    std::fs::write(&path, "zones: [{zone: example.com}]\nmanifests: [m]\n").expect("write");
    let (ok, text) = kubezone(&["check", "--config", path.to_str().expect("utf-8")]);
    assert!(!ok, "{text}");
    assert!(text.contains("broken.yaml"), "{text}");
    assert!(text.contains("line"), "{text}");
}

/// A config rendered for a cluster (by `helm template` or `kubezone migrate`) checks on a laptop:
/// nothing of the `kubernetes:` section is loaded, and the output says so.
#[test]
fn check_is_offline_and_says_the_cluster_was_not_contacted() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("m")).expect("mkdir");
    std::fs::write(
        dir.path().join("m/web.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {type: LoadBalancer}\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("xfr.key"),
        "ytgbPL4Nc61BdQix0OsEpV2tMsqYpk/sMyWaQYxknhg=\n",
    )
    .expect("write");
    let config = dir.path().join("kubezone.yaml");
    let config = config.to_str().expect("utf-8");
    let write = |key_file: &str| {
        std::fs::write(
            config,
            format!(
                "zones: [{{zone: example.com}}]\nmanifests: [m]\n\
                 tsigKeys: [{{name: xfr, secretFile: {key_file}}}]\n\
                 kubernetes: {{kubeconfig: missing.kubeconfig, namespaces: [shop]}}\n"
            ),
        )
        .expect("write");
    };
    write("xfr.key");
    let (ok, text) = kubezone(&["check", "--config", config]);
    assert!(ok, "{text}");
    assert!(text.contains("1 object(s) in manifests"), "{text}");
    assert!(
        text.contains("the cluster was not contacted") && text.contains("--probe"),
        "{text}"
    );
    assert!(!text.contains("missing.kubeconfig"), "{text}");
    // The flags that turn the cluster on are not followed either.
    let (ok, text) = kubezone(&["check", "--config", config, "--in-cluster"]);
    assert!(ok && text.contains("not contacted"), "{text}");

    // Everything that is read from disk when the server loads is still checked.
    write("missing.key");
    let (ok, text) = kubezone(&["check", "--config", config]);
    assert!(!ok, "{text}");
    assert!(
        text.contains("tsigKeys[0].secretFile") && text.contains("missing.key"),
        "{text}"
    );
}

#[test]
fn check_probe_needs_a_cluster_to_probe() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("kubezone.yaml");
    std::fs::write(&config, "zones: [{zone: example.com}]\n").expect("write");
    let (ok, text) = kubezone(&[
        "check",
        "--probe",
        "--config",
        config.to_str().expect("utf-8"),
    ]);
    assert!(!ok, "{text}");
    assert!(
        text.contains("--probe") && text.contains("kubernetes:"),
        "{text}"
    );
}

#[test]
fn serving_fails_clearly_on_a_missing_config() {
    let (ok, text) = kubezone(&["--config", "/nonexistent/kubezone.yaml"]);
    assert!(!ok);
    assert!(text.contains("/nonexistent/kubezone.yaml"), "{text}");
}

#[test]
fn serving_fails_clearly_on_an_unusable_kubeconfig() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("kubezone.yaml");
    std::fs::write(
        &config,
        "listen: [\"127.0.0.1:0\"]\nzones: [{zone: example.com}]\nkubernetes: {kubeconfig: missing.kubeconfig}\n",
    )
    .expect("write");
    for command in [&["check", "--probe"][..], &[]] {
        let mut args = command.to_vec();
        args.extend(["--config", config.to_str().expect("utf-8")]);
        let (ok, text) = kubezone(&args);
        assert!(!ok, "{args:?}: {text}");
        assert!(text.contains("missing.kubeconfig"), "{args:?}: {text}");
    }

    // A kubeconfig that exists, without the context asked for on the command line.
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: \"https://127.0.0.1:1\"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: a, context: {cluster: c, user: u}}]\ncurrent-context: a\n",
    )
    .expect("write");
    let (ok, text) = kubezone(&[
        "--config",
        config.to_str().expect("utf-8"),
        "--kubeconfig",
        kubeconfig.to_str().expect("utf-8"),
        "--context",
        "prod",
    ]);
    assert!(!ok, "{text}");
    assert!(text.contains("prod"), "{text}");
}

#[test]
fn check_names_a_bad_identity_from_the_file_or_the_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kubezone.yaml");
    let path = path.to_str().expect("utf-8");
    std::fs::write(
        path,
        "zones: [{zone: example.com}]\nidentity: {name: \"pod 0\\u00e9\"}\n",
    )
    .expect("write");
    let (ok, text) = kubezone(&["check", "--config", path]);
    assert!(!ok, "{text}");
    assert!(
        text.contains("kubezone.yaml") && text.contains("identity.name"),
        "{text}"
    );
    assert!(
        text.contains("pod 0é") && text.contains("printable ASCII"),
        "{text}"
    );
    // The flag replaces the name from the file, and is checked the same way.
    std::fs::write(
        path,
        "zones: [{zone: example.com}]\nidentity: {name: file}\n",
    )
    .expect("write");
    let (ok, text) = kubezone(&["check", "--config", path, "--identity", "kubezone-0"]);
    assert!(ok, "{text}");
    let long = "n".repeat(256);
    let (ok, text) = kubezone(&["check", "--config", path, "--identity", &long]);
    assert!(!ok, "{text}");
    assert!(
        text.contains("--identity") && text.contains(&long) && text.contains("256 bytes"),
        "{text}"
    );
}
