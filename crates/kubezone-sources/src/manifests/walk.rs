//! Which files on disk are manifests: the configured paths, the folders walked, and a cheap
//! identity per file to tell whether it changed without reading it.

use std::{
    ffi::OsStr,
    fs, io,
    path::{Component, Path, PathBuf},
    time::SystemTime,
};

use tracing::debug;
use walkdir::WalkDir;

/// One configured path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Root {
    /// Read whatever its name, since it was named explicitly.
    File(PathBuf),
    /// Walked recursively for `*.yaml`, `*.yml` and `*.json`, hidden names skipped.
    Dir(PathBuf),
}

impl Root {
    /// Looks at what `path` is now. A path that does not exist is an error: it is a
    /// configuration mistake, better reported at start-up than served as nothing.
    pub fn classify(path: PathBuf) -> io::Result<Root> {
        let metadata = fs::metadata(&path)?;
        Ok(if metadata.is_dir() {
            Root::Dir(path)
        } else {
            Root::File(path)
        })
    }

    pub fn path(&self) -> &Path {
        match self {
            Root::File(path) | Root::Dir(path) => path,
        }
    }

    /// Whether `path` is a manifest file of this root (whether or not it exists).
    pub fn covers(&self, path: &Path) -> bool {
        match self {
            Root::File(file) => file == path,
            Root::Dir(dir) => path.strip_prefix(dir).is_ok_and(|rel| {
                rel.components().next().is_some()
                    && first_hidden(rel).is_none()
                    && is_manifest_name(path)
            }),
        }
    }
}

/// Names starting with `.` are skipped: editor swap files, `.git`, and the `..data` machinery of
/// a mounted ConfigMap (whose visible files are symlinks into it).
pub(crate) fn is_hidden(name: &OsStr) -> bool {
    name.as_encoded_bytes().starts_with(b".")
}

/// How many leading components of `rel` are visible, when one of them is hidden.
pub(crate) fn first_hidden(rel: &Path) -> Option<usize> {
    rel.components()
        .position(|c| matches!(c, Component::Normal(name) if is_hidden(name)))
}

pub(crate) fn is_manifest_name(path: &Path) -> bool {
    path.extension().is_some_and(|ext| {
        ["yaml", "yml", "json"]
            .iter()
            .any(|wanted| ext.eq_ignore_ascii_case(wanted))
    })
}

/// The manifest files the manifests source reads for one configured path, sorted: the file
/// itself, or every `*.yaml`, `*.yml` and `*.json` below a folder, hidden names skipped and
/// symlinks followed. For `kubezone check`, so that it reads exactly what the server would.
pub fn manifest_files(path: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    match Root::classify(path.to_path_buf())? {
        Root::File(file) => files.push(file),
        Root::Dir(dir) => walk_dir(&dir, &mut files),
    }
    files.sort();
    Ok(files)
}

/// Every manifest file below `dir`, following symlinks (a ConfigMap volume is symlinks) but not
/// around a loop, which walkdir reports as an error. Unreadable entries are skipped; the caller
/// re-walks on the next change.
pub(crate) fn walk_dir(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = WalkDir::new(dir)
        .follow_links(true)
        .into_iter()
        // The folder itself was named in the config, whatever its name.
        .filter_entry(|entry| entry.depth() == 0 || !is_hidden(entry.file_name()));
    for entry in entries {
        match entry {
            // The type of what a symlink points to: a link to a file is a file.
            Ok(entry) if entry.file_type().is_file() && is_manifest_name(entry.path()) => {
                out.push(entry.into_path());
            }
            Ok(_) => {}
            Err(error) => debug!(%error, "skipping (dangling symlink, loop or unreadable)"),
        }
    }
}

/// What a file looked like when it was last read. Following symlinks, so that a ConfigMap
/// update (the same visible path, now a link to a new file) counts as a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Identity {
    len: u64,
    modified: Option<SystemTime>,
    #[cfg(unix)]
    inode: (u64, u64),
}

impl Identity {
    /// The modification time in unix seconds (0 when the file system has none).
    pub fn written(&self) -> u32 {
        self.modified
            .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
            .and_then(|d| u32::try_from(d.as_secs()).ok())
            .unwrap_or(0)
    }

    pub fn of(path: &Path) -> io::Result<Identity> {
        let metadata = fs::metadata(path)?;
        Ok(Identity {
            len: metadata.len(),
            modified: metadata.modified().ok(),
            #[cfg(unix)]
            inode: {
                use std::os::unix::fs::MetadataExt;
                (metadata.dev(), metadata.ino())
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_visible_manifest_files_only() {
        let dir = Root::Dir(PathBuf::from("/m"));
        assert!(dir.covers(Path::new("/m/a.yaml")));
        assert!(dir.covers(Path::new("/m/sub/a.YML")));
        assert!(dir.covers(Path::new("/m/a.json")));
        assert!(!dir.covers(Path::new("/m/a.txt")));
        assert!(!dir.covers(Path::new("/m/.a.yaml")));
        assert!(!dir.covers(Path::new("/m/..data/a.yaml")));
        assert!(!dir.covers(Path::new("/m")));
        assert!(!dir.covers(Path::new("/other/a.yaml")));
        let file = Root::File(PathBuf::from("/m/objects.txt"));
        assert!(file.covers(Path::new("/m/objects.txt")));
        assert!(!file.covers(Path::new("/m/a.yaml")));
    }

    #[test]
    fn manifest_files_walks_like_the_source() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        for name in [
            "b.yaml",
            "a/c.yml",
            "a/d.json",
            "x.txt",
            ".h.yaml",
            ".git/e.yaml",
        ] {
            let path = root.join(name);
            fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            fs::write(&path, "").expect("write");
        }
        let files = manifest_files(root).expect("exists");
        let rel: Vec<_> = files
            .iter()
            .map(|f| f.strip_prefix(root).expect("below").to_path_buf())
            .collect();
        assert_eq!(
            rel,
            [
                PathBuf::from("a/c.yml"),
                PathBuf::from("a/d.json"),
                PathBuf::from("b.yaml")
            ]
        );
        let single = root.join("x.txt");
        assert_eq!(manifest_files(&single).expect("exists"), vec![single]);
        assert!(manifest_files(&root.join("missing")).is_err());
    }

    /// A ConfigMap volume is symlinks: links to files and folders are followed (and named by
    /// the path through the link), a link back up is not followed around, and a dangling one
    /// is skipped.
    #[cfg(unix)]
    #[test]
    fn manifest_files_follows_symlinks_but_not_around_a_loop() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().expect("tempdir");
        let outside = dir.path().join("outside");
        let root = dir.path().join("root");
        fs::create_dir_all(outside.join("deep")).expect("mkdir");
        fs::create_dir(&root).expect("mkdir");
        fs::write(outside.join("real.yaml"), "").expect("write");
        fs::write(outside.join("deep/more.json"), "").expect("write");
        symlink(outside.join("real.yaml"), root.join("linked.yaml")).expect("symlink");
        symlink(&outside, root.join("sub")).expect("symlink");
        symlink(&root, root.join("loop")).expect("symlink");
        symlink(root.join("missing.yaml"), root.join("dangling.yaml")).expect("symlink");
        let files = manifest_files(&root).expect("exists");
        let rel: Vec<_> = files
            .iter()
            .map(|f| f.strip_prefix(&root).expect("below").to_path_buf())
            .collect();
        assert_eq!(
            rel,
            [
                PathBuf::from("linked.yaml"),
                PathBuf::from("sub/deep/more.json"),
                PathBuf::from("sub/real.yaml"),
            ]
        );
    }

    #[test]
    fn first_hidden_counts_visible_components() {
        assert_eq!(first_hidden(Path::new("a/b.yaml")), None);
        assert_eq!(first_hidden(Path::new("..data/b.yaml")), Some(0));
        assert_eq!(first_hidden(Path::new("a/.git/x")), Some(1));
    }
}
