//! `kubezone check --config FILE`: the config and every manifest it names, without serving.

use std::{path::Path, process::ExitCode};

use kubezone_sources::{manifest_files, parse_manifest};

use crate::config::Config;

pub fn run(path: &Path) -> ExitCode {
    let config = match Config::load(path) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("kubezone: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut broken = 0;
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
