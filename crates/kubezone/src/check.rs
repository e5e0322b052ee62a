//! `kubezone check --config FILE`: the config, every manifest it names and the kubeconfig it
//! would use, without serving or sending a request.

use std::{path::Path, process::ExitCode};

use kubezone_sources::{connect, manifest_files, parse_manifest};

use crate::config::Config;

/// `config` is the file as loaded, with the command line's overrides.
pub fn run(path: &Path, config: Result<Config, String>) -> ExitCode {
    let config = match config {
        Ok(config) => config,
        Err(e) => {
            eprintln!("kubezone: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut broken = 0;
    if let Some(cluster) = &config.kubernetes {
        let loaded = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
            .and_then(|runtime| {
                runtime
                    .block_on(connect(cluster))
                    .map(drop)
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = loaded {
            eprintln!("kubezone: {e}");
            broken += 1;
        }
    }
    let mut objects = 0;
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
    ExitCode::SUCCESS
}
