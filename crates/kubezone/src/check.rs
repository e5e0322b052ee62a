//! `kubezone check --config FILE`: the config and every manifest it names, without serving.

use std::{path::Path, process::ExitCode};

use kubezone_sources::parse_manifest;

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
        if !root.exists() {
            eprintln!("kubezone: manifests path {} does not exist", root.display());
            broken += 1;
            continue;
        }
        for file in manifest_files(root) {
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

/// YAML and JSON files at or below `root`, as the manifests source reads them.
fn manifest_files(root: &Path) -> Vec<std::path::PathBuf> {
    if root.is_file() {
        return vec![root.to_path_buf()];
    }
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if hidden {
                continue;
            }
            if path.is_dir() {
                dirs.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            ) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}
