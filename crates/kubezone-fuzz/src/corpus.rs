//! Finding the committed inputs of a target: `fuzz/corpus/<target>/` (seeds and what fuzzing
//! kept) and `fuzz/regressions/<target>/` (minimized crashes).

use std::path::{Path, PathBuf};

/// Why a target's inputs cannot be listed. A missing or empty corpus is an error, so that a
/// replay never passes by running nothing.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error("cannot read folder {}: {source}", path.display())]
    Folder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("folder {} holds no inputs", path.display())]
    Empty { path: PathBuf },
    #[error("cannot read input {}: {source}", path.display())]
    Input {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The `fuzz/` folder of this repository.
pub fn fuzz_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// Every input file in `folder`, sorted, with its bytes. Hidden files (`.gitkeep`) and
/// sub-folders are not inputs. `allow_empty` is for regression folders, which hold nothing
/// until fuzzing finds a crash.
pub fn inputs(folder: &Path, allow_empty: bool) -> Result<Vec<(PathBuf, Vec<u8>)>, CorpusError> {
    let entries = std::fs::read_dir(folder).map_err(|source| CorpusError::Folder {
        path: folder.to_path_buf(),
        source,
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| CorpusError::Folder {
            path: folder.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if !hidden && path.is_file() {
            paths.push(path);
        }
    }
    if paths.is_empty() && !allow_empty {
        return Err(CorpusError::Empty {
            path: folder.to_path_buf(),
        });
    }
    paths.sort();
    paths
        .into_iter()
        .map(|path| match std::fs::read(&path) {
            Ok(bytes) => Ok((path, bytes)),
            Err(source) => Err(CorpusError::Input { path, source }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_empty_folder_is_an_error() {
        let missing = fuzz_root().join("corpus/no-such-target");
        assert!(matches!(
            inputs(&missing, true),
            Err(CorpusError::Folder { .. })
        ));
        let dir = tempfile::tempdir().expect("temp folder");
        let empty = dir.path();
        std::fs::create_dir_all(empty.join("sub")).expect("temp folder");
        std::fs::write(empty.join(".gitkeep"), b"").expect("temp file");
        let err = inputs(empty, false).expect_err("no inputs");
        assert!(err.to_string().contains("holds no inputs"), "{err}");
        assert!(inputs(empty, true).expect("allowed").is_empty());
        std::fs::write(empty.join("b"), b"2").expect("temp file");
        std::fs::write(empty.join("a"), b"1").expect("temp file");
        let found = inputs(empty, false).expect("two inputs");
        let names: Vec<_> = found
            .iter()
            .map(|(p, bytes)| {
                (
                    p.file_name().map(|n| n.to_string_lossy().into_owned()),
                    bytes.clone(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                (Some("a".into()), b"1".to_vec()),
                (Some("b".into()), b"2".to_vec())
            ]
        );
    }
}
