//! The chart README's install commands, run as written.

use super::*;

const CHART_README: &str = include_str!("../../../charts/kubezone/README.md");

/// The `helm install` commands of the chart README's "Two nameservers" section, as argument
/// lists (after `helm`), `\` continuations joined.
fn readme_install_commands() -> Vec<Vec<String>> {
    let section = CHART_README
        .split("## Two nameservers")
        .nth(1)
        .expect("the chart README has a \"Two nameservers\" section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let joined = section.replace("\\\n", " ");
    joined
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("helm install "))
        .map(|line| line.split_whitespace().skip(1).map(str::to_owned).collect())
        .collect()
}

#[test]
fn the_readmes_dual_nameserver_install_names_each_release_the_others_secondary() {
    let commands = readme_install_commands();
    assert_eq!(commands.len(), 2, "two helm install commands: {commands:?}");
    let cluster = ControlPlane::shared();
    let mut apexes = Vec::new();
    let mut configs = Vec::new();
    for command in &commands {
        // install <release> charts/kubezone --namespace <ns> ... as template, from the root.
        let namespace = command
            .iter()
            .position(|a| a == "--namespace")
            .map(|i| command[i + 1].clone())
            .expect("--namespace");
        cluster.create_namespace(&namespace);
        let args: Vec<&str> = command
            .iter()
            .map(String::as_str)
            .filter(|a| *a != "--create-namespace")
            .collect();
        assert_eq!(args[0], "install");
        assert_eq!(args[2], "charts/kubezone");
        let output = run(helm()
            .arg("template")
            .args(&args[1..])
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")));
        assert!(
            output.status.success(),
            "helm template {args:?}: {}",
            text(&output.stderr)
        );
        let yaml = text(&output.stdout);
        let rendered = Rendered {
            objects: parse_documents(&yaml),
            yaml,
            namespace: namespace.clone(),
        };
        kubezone_check(rendered.config_text());
        dry_run(&rendered);
        let service = rendered.one("Service")["metadata"]["name"]
            .as_str()
            .expect("Service name")
            .to_owned();
        let config = rendered.config();
        assert_eq!(config["zones"][0]["apex"], format!("{service}.{namespace}"));
        apexes.push(format!("{service}.{namespace}"));

        // NOTES.txt: the delegation records and a dig to try.
        let notes = run(helm()
            .args(["install", "--dry-run=client", "--kubeconfig"])
            .arg(cluster.admin_kubeconfig())
            .args(&args[1..])
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")));
        assert!(notes.status.success(), "{}", text(&notes.stderr));
        let notes = text(&notes.stdout);
        let notes = notes.split("NOTES:").nth(1).expect("NOTES printed");
        let secondary = config["zones"][0]["secondary"].as_str().expect("secondary");
        for line in [
            format!("example.com.  3600  IN  NS  {service}.{namespace}.example.com."),
            format!("example.com.  3600  IN  NS  {secondary}.example.com."),
            format!("{service}.{namespace}.example.com.  3600  IN  A  <KUBEZONE_IP>"),
            "dig @$KUBEZONE_IP +norec example.com SOA".to_owned(),
        ] {
            assert!(notes.contains(&line), "NOTES lack {line:?}:\n{notes}");
        }
        configs.push(config);
    }
    assert_ne!(apexes[0], apexes[1]);
    assert_eq!(configs[0]["zones"][0]["secondary"], apexes[1]);
    assert_eq!(configs[1]["zones"][0]["secondary"], apexes[0]);
    for config in &configs {
        assert_eq!(
            config["zones"][0]["secondaryGlue"].as_array().map(Vec::len),
            Some(1)
        );
    }
}
