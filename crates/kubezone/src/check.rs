//! `kubezone check --config FILE`: the config (with the TSIG secret files it names) and every
//! manifest it names, read as the server reads them, without contacting the cluster, so that a
//! config rendered for a cluster checks anywhere. With `--probe`, also the cluster: whether its
//! API server serves what the zones need and lets kubezone read it.

use std::{path::Path, process::ExitCode, time::Duration};

use kubezone_sources::{ClusterConfig, ServiceName, manifest_files, parse_manifest, probe};

use crate::config::Config;

/// How long the probe may wait for the API server, in all.
const PROBE_PATIENCE: Duration = Duration::from_secs(30);

/// `config` is the file as loaded, with the command line's overrides.
pub fn run(path: &Path, config: Result<Config, String>, probe_cluster: bool) -> ExitCode {
    let config = match config {
        Ok(config) => config,
        Err(e) => {
            eprintln!("kubezone: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (objects, mut broken) = read_manifests(&config);
    let mut cluster_said = None;
    let targets = probe_targets(&config);
    match (targets.is_empty(), probe_cluster) {
        (true, false) => {}
        (false, false) => {
            cluster_said = Some(
                "the cluster was not contacted; `kubezone check --probe` asks its API server \
                 whether it serves what the zones need and lets kubezone read it",
            );
        }
        (true, true) => {
            eprintln!(
                "kubezone: --probe: {} has no `kubernetes:` or `clusters:` section (nor does the \
                 command line give --kubeconfig, --context, --namespace or --in-cluster): no \
                 cluster to probe",
                path.display()
            );
            broken += 1;
        }
        (false, true) => {
            let mut problems = 0;
            for (label, cluster, glue) in &targets {
                problems += probe_with_patience(label, cluster, glue, &config);
            }
            if problems == 0 {
                cluster_said = Some(if targets.len() == 1 {
                    "the cluster's API server serves every resource the zones need, and lets \
                     kubezone get, list and watch them"
                } else {
                    "every cluster's API server serves every resource the zones need, and lets \
                     kubezone get, list and watch them"
                });
            }
            broken += problems;
        }
    }
    if broken > 0 {
        eprintln!(
            "kubezone: {} is not usable: {broken} problem(s)",
            path.display()
        );
        return ExitCode::FAILURE;
    }
    println!(
        "{}: ok ({} zone(s), {objects} object(s) in manifests)",
        path.display(),
        config.zones.len()
    );
    if let Some(fake) = &config.fake {
        println!(
            "{}: fake: {} made-up object(s) in {}, then {} change(s) a second",
            path.display(),
            fake.objects,
            fake.zone,
            fake.changes_per_second
        );
    }
    if let Some(said) = cluster_said {
        println!("{}: {said}", path.display());
    }
    ExitCode::SUCCESS
}

/// Parses every manifest file as the manifests source would; the number of objects and of
/// broken files or paths, each said on stderr.
fn read_manifests(config: &Config) -> (usize, usize) {
    let (mut objects, mut broken) = (0, 0);
    for root in &config.manifests {
        let files = match manifest_files(root) {
            Ok(files) => files,
            Err(e) => {
                eprintln!("kubezone: manifests path {}: {e}", root.display());
                broken += 1;
                continue;
            }
        };
        for file in files {
            match std::fs::read_to_string(&file)
                .map_err(|e| format!("{}: {e}", file.display()))
                .and_then(|text| parse_manifest(&file, &text).map_err(|e| e.to_string()))
            {
                Ok(parsed) => objects += parsed.len(),
                Err(e) => {
                    eprintln!("kubezone: {e}");
                    broken += 1;
                }
            }
        }
    }
    (objects, broken)
}

/// Each cluster to probe, with the label its lines carry and the glue Services it would watch
/// (those live in the cluster kubezone runs in).
fn probe_targets(config: &Config) -> Vec<(String, ClusterConfig, Vec<ServiceName>)> {
    let mut glue: Vec<ServiceName> = config
        .zones
        .iter()
        .flat_map(|z| z.glue_services.iter().cloned())
        .collect();
    glue.sort();
    glue.dedup();
    match &config.kubernetes {
        Some(cluster) => vec![("cluster".to_string(), cluster.clone(), glue)],
        None => config
            .clusters
            .iter()
            .map(|c| {
                let local = config.local_cluster == Some(c.id.index());
                let glue = if local { glue.clone() } else { Vec::new() };
                (format!("cluster {}", c.id), c.kube.clone(), glue)
            })
            .collect(),
    }
}

/// Connects as the server would and probes what its watches need; says each usable resource on
/// stdout and each problem on stderr, and returns the number of problems.
fn probe_with_patience(
    label: &str,
    cluster: &ClusterConfig,
    glue: &[ServiceName],
    config: &Config,
) -> usize {
    let kinds = config.cluster_kinds();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("kubezone: cannot start the probe: {e}");
            return 1;
        }
    };
    // The timer needs the runtime: the timeout is made inside it.
    let report = runtime.block_on(async {
        tokio::time::timeout(PROBE_PATIENCE, probe(cluster, kinds, glue)).await
    });
    let report = match report {
        Ok(report) => report.map_err(|e| e.to_string()),
        Err(_) => Err(format!(
            "the API server did not answer within {} s",
            PROBE_PATIENCE.as_secs()
        )),
    };
    match report {
        Err(e) => {
            eprintln!("kubezone: {label}: {e}");
            1
        }
        Ok(report) => {
            for usable in &report.usable {
                println!("{label}: {usable}");
            }
            for problem in &report.problems {
                eprintln!("kubezone: {label}: {problem}");
            }
            report.problems.len()
        }
    }
}
