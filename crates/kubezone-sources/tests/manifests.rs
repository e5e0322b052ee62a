//! The manifests source against real files and the real file watcher.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
    time::Duration,
};

use kubezone_sources::{Change, ManifestsSource, SourceError, SourceEvent, parse_manifest};
use kubezone_translate::KubeObject;
use tokio::{sync::mpsc, task::JoinHandle, time::timeout};

/// A failure bound, not a performance target: shared machines are slow at times.
const PATIENCE: Duration = Duration::from_secs(5);

fn node(name: &str, ip: &str) -> String {
    format!(
        "apiVersion: v1
kind: Node
metadata:
  name: {name}
status:
  addresses:
  - type: InternalIP
    address: {ip}
---
"
    )
}

fn service(namespace: &str, name: &str, ip: &str) -> String {
    format!(
        "apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {namespace}
spec:
  type: LoadBalancer
status:
  loadBalancer:
    ingress:
    - ip: {ip}
---
"
    )
}

/// The address an object carries in these tests, to tell versions apart.
fn address(object: &KubeObject) -> String {
    match object {
        KubeObject::Node(node) => node
            .status
            .as_ref()
            .and_then(|s| s.addresses.as_ref())
            .and_then(|a| a.first())
            .map(|a| a.address.clone()),
        KubeObject::Service(service) => service
            .status
            .as_ref()
            .and_then(|s| s.load_balancer.as_ref())
            .and_then(|lb| lb.ingress.as_ref())
            .and_then(|i| i.first())
            .and_then(|i| i.ip.clone()),
        _ => None,
    }
    .unwrap_or_default()
}

fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("create folder");
    }
    fs::write(path, text).expect("write file");
}

/// Writes a file the way editors do: a temporary file renamed over the old one.
fn replace(path: &Path, text: &str) {
    let tmp = path.with_file_name(format!(
        ".{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("x")
    ));
    fs::write(&tmp, text).expect("write temporary file");
    fs::rename(&tmp, path).expect("rename over");
}

/// A running source and what it serves, as the index writer would see it.
struct Running {
    events: mpsc::Receiver<SourceEvent>,
    task: JoinHandle<Result<(), SourceError>>,
    /// ObjectRef → address, after every change received so far.
    served: BTreeMap<String, String>,
    /// Every change received, as "apply <ref> <address>" or "delete <ref>".
    log: Vec<String>,
}

impl Running {
    /// Starts the source and waits for its initial state and `Synced`.
    async fn start(paths: Vec<PathBuf>) -> Running {
        let (tx, events) = mpsc::channel(16);
        let task = tokio::spawn(ManifestsSource::new(paths).run(tx));
        let mut running = Running {
            events,
            task,
            served: BTreeMap::new(),
            log: Vec::new(),
        };
        // The initial state comes as one or more `Changes` (as files are read), then `Synced`.
        let mut initial = 0;
        loop {
            match running.next().await {
                SourceEvent::Changes { source, changes } => {
                    assert_eq!(source.to_string(), "manifests");
                    running.record(changes);
                    initial += 1;
                }
                SourceEvent::Synced { .. } => break,
                other => panic!("expected the initial Changes, got {other:?}"),
            }
        }
        assert!(initial >= 1, "no initial Changes before Synced");
        // The log is for what comes after the initial state.
        running.log.clear();
        running
    }

    async fn next(&mut self) -> SourceEvent {
        match timeout(PATIENCE, self.events.recv()).await {
            Ok(Some(event)) => event,
            Ok(None) => panic!("source ended: {:?}", (&mut self.task).await),
            Err(_) => panic!("no event within {PATIENCE:?}; served: {:?}", self.served),
        }
    }

    fn record(&mut self, changes: Vec<Change>) {
        for change in changes {
            match change {
                Change::Apply { object, .. } => {
                    let key = object.object_ref().to_string();
                    self.log.push(format!("apply {key} {}", address(&object)));
                    self.served.insert(key, address(&object));
                }
                Change::Delete(object_ref) => {
                    self.log.push(format!("delete {object_ref}"));
                    self.served.remove(&object_ref.to_string());
                }
            }
        }
    }

    /// Receives changes until `want` holds for what is served.
    async fn until(&mut self, want: impl Fn(&BTreeMap<String, String>) -> bool) {
        while !want(&self.served) {
            match self.next().await {
                SourceEvent::Changes { changes, .. } => self.record(changes),
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    fn served(&self) -> Vec<(String, String)> {
        self.served
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn initial_load_reads_documents_lists_and_json_and_skips_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        &root.join("a.yaml"),
        &format!(
            "{}{}apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: skipped\n---\n",
            node("n1", "192.0.2.1"),
            service("shop", "web", "192.0.2.10")
        ),
    );
    write(
        &root.join("sub/deeper/list.yml"),
        &format!(
            "apiVersion: v1\nkind: List\nitems:\n- {}",
            node("n2", "192.0.2.2")
                .trim_end_matches("---\n")
                .replace('\n', "\n  ")
        ),
    );
    write(
        &root.join("c.json"),
        r#"{"apiVersion":"v1","kind":"Node","metadata":{"name":"n3"},
            "status":{"addresses":[{"type":"InternalIP","address":"192.0.2.3"}]}}"#,
    );
    write(&root.join("empty.yaml"), "");
    write(&root.join(".hidden.yaml"), &node("hidden", "192.0.2.99"));
    write(&root.join(".git/x.yaml"), &node("git", "192.0.2.98"));
    write(&root.join("notes.txt"), &node("txt", "192.0.2.97"));

    let running = Running::start(vec![root.to_path_buf()]).await;
    assert_eq!(
        running.served(),
        pairs(&[
            ("Node/n1", "192.0.2.1"),
            ("Node/n2", "192.0.2.2"),
            ("Node/n3", "192.0.2.3"),
            ("Service/shop/web", "192.0.2.10"),
        ])
    );
}

#[tokio::test]
async fn an_empty_folder_syncs_with_no_objects() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = Running::start(vec![dir.path().to_path_buf()]).await;
    assert!(running.served.is_empty());
}

#[tokio::test]
async fn edits_are_sent_as_differences() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("a.yaml");
    write(&a, &(node("n1", "192.0.2.1") + &node("n2", "192.0.2.2")));
    let mut running = Running::start(vec![dir.path().to_path_buf()]).await;

    // Modify one object: only it is sent again.
    write(&a, &(node("n1", "192.0.2.1") + &node("n2", "192.0.2.22")));
    running
        .until(|s| s.get("Node/n2").is_some_and(|ip| ip == "192.0.2.22"))
        .await;
    assert_eq!(running.log, ["apply Node/n2 192.0.2.22"]);

    // Remove an object from the file: a Delete.
    running.log.clear();
    replace(&a, &node("n1", "192.0.2.1"));
    running.until(|s| !s.contains_key("Node/n2")).await;
    assert_eq!(running.log, ["delete Node/n2"]);

    // A new file, in a new sub-folder.
    running.log.clear();
    write(
        &dir.path().join("new/b.yml"),
        &service("x", "svc", "198.51.100.1"),
    );
    running.until(|s| s.contains_key("Service/x/svc")).await;
    assert_eq!(running.log, ["apply Service/x/svc 198.51.100.1"]);

    // Delete a file: its objects go.
    running.log.clear();
    fs::remove_file(&a).expect("remove");
    running.until(|s| !s.contains_key("Node/n1")).await;
    assert_eq!(running.log, ["delete Node/n1"]);

    // Remove a whole folder.
    running.log.clear();
    fs::remove_dir_all(dir.path().join("new")).expect("remove folder");
    running.until(|s| s.is_empty()).await;
    assert_eq!(running.log, ["delete Service/x/svc"]);
}

#[tokio::test]
async fn a_broken_file_keeps_its_last_good_objects_until_fixed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("a.yaml");
    let marker = dir.path().join("marker.yaml");
    write(&a, &(node("n1", "192.0.2.1") + &node("n2", "192.0.2.2")));
    let mut running = Running::start(vec![dir.path().to_path_buf()]).await;

    // A syntax error on line 4, and a changed n1 that must not be served yet.
    let broken = "apiVersion: v1\nkind: Node\nmetadata:\n  name: [n1\n";
    write(&a, broken);
    let err = parse_manifest(&a, broken).expect_err("broken");
    let shown = err.to_string();
    assert!(shown.starts_with(&a.display().to_string()), "{shown}");
    assert!(matches!(err.line(), Some(4..=5)), "{shown}");
    // Another file's change shows that the broken one was looked at and sent nothing.
    write(&marker, &node("marker", "192.0.2.50"));
    running.until(|s| s.contains_key("Node/marker")).await;
    assert_eq!(running.log, ["apply Node/marker 192.0.2.50"]);

    // A document that is valid YAML but not a valid Node also keeps the old objects.
    running.log.clear();
    write(
        &a,
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\nspec: 7\n",
    );
    write(&marker, &node("marker", "192.0.2.51"));
    running
        .until(|s| s.get("Node/marker").is_some_and(|ip| ip == "192.0.2.51"))
        .await;
    assert_eq!(running.log, ["apply Node/marker 192.0.2.51"]);

    // Fixed: its new state is applied, relative to the last good one.
    running.log.clear();
    write(&a, &node("n1", "192.0.2.11"));
    running.until(|s| !s.contains_key("Node/n2")).await;
    let mut log = running.log.clone();
    log.sort();
    assert_eq!(log, ["apply Node/n1 192.0.2.11", "delete Node/n2"]);
}

#[tokio::test]
async fn a_file_broken_at_start_up_contributes_nothing_until_fixed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.yaml");
    write(&bad, "kind: Node\n  : : [\n");
    write(&dir.path().join("good.yaml"), &node("good", "192.0.2.1"));
    let mut running = Running::start(vec![dir.path().to_path_buf()]).await;
    assert_eq!(running.served(), pairs(&[("Node/good", "192.0.2.1")]));

    write(&bad, &node("fixed", "192.0.2.2"));
    running.until(|s| s.contains_key("Node/fixed")).await;
}

#[tokio::test]
async fn the_first_file_in_path_order_wins_a_duplicate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("a.yaml");
    let b = dir.path().join("b.yaml");
    write(&a, &node("dup", "192.0.2.1"));
    write(&b, &node("dup", "192.0.2.2"));
    let mut running = Running::start(vec![dir.path().to_path_buf()]).await;
    assert_eq!(running.served(), pairs(&[("Node/dup", "192.0.2.1")]));

    // The loser changing changes nothing that is served.
    write(
        &b,
        &(node("dup", "192.0.2.3") + &node("other", "192.0.2.4")),
    );
    running.until(|s| s.contains_key("Node/other")).await;
    assert_eq!(running.log, ["apply Node/other 192.0.2.4"]);

    // The winner goes: the other copy takes over.
    running.log.clear();
    fs::remove_file(&a).expect("remove");
    running
        .until(|s| s.get("Node/dup").is_some_and(|ip| ip == "192.0.2.3"))
        .await;
    assert_eq!(running.log, ["apply Node/dup 192.0.2.3"]);
}

#[tokio::test]
async fn a_single_file_path_follows_editor_saves() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("objects.yaml");
    write(&file, &node("n", "192.0.2.1"));
    // A sibling that is not configured is never read.
    write(&dir.path().join("other.yaml"), &node("other", "192.0.2.9"));
    let mut running = Running::start(vec![file.clone()]).await;
    assert_eq!(running.served(), pairs(&[("Node/n", "192.0.2.1")]));

    replace(&file, &node("n", "192.0.2.2"));
    running
        .until(|s| s.get("Node/n").is_some_and(|ip| ip == "192.0.2.2"))
        .await;

    fs::remove_file(&file).expect("remove");
    running.until(|s| s.is_empty()).await;
    write(&file, &node("n", "192.0.2.3"));
    running.until(|s| !s.is_empty()).await;
    assert_eq!(running.served(), pairs(&[("Node/n", "192.0.2.3")]));
}

/// A ConfigMap volume: visible symlinks into `..data`, itself a symlink to a timestamped folder
/// that the kubelet swaps atomically on update.
#[cfg(unix)]
#[tokio::test]
async fn a_mounted_configmap_folder_follows_symlink_swaps() {
    use std::os::unix::fs::symlink;

    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        &root.join("..2024_01/objects.yaml"),
        &node("n", "192.0.2.1"),
    );
    symlink("..2024_01", root.join("..data")).expect("symlink");
    symlink("..data/objects.yaml", root.join("objects.yaml")).expect("symlink");
    let mut running = Running::start(vec![root.to_path_buf()]).await;
    assert_eq!(running.served(), pairs(&[("Node/n", "192.0.2.1")]));

    write(
        &root.join("..2024_02/objects.yaml"),
        &node("n", "192.0.2.2"),
    );
    symlink("..2024_02", root.join("..data_tmp")).expect("symlink");
    fs::rename(root.join("..data_tmp"), root.join("..data")).expect("swap");
    fs::remove_dir_all(root.join("..2024_01")).expect("remove old");
    running
        .until(|s| s.get("Node/n").is_some_and(|ip| ip == "192.0.2.2"))
        .await;
    assert_eq!(running.log, ["apply Node/n 192.0.2.2"]);
}

#[tokio::test]
async fn a_missing_path_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope");
    let (tx, _rx) = mpsc::channel(1);
    let err = ManifestsSource::new(vec![missing.clone()])
        .run(tx)
        .await
        .expect_err("missing path");
    assert!(
        err.to_string().contains(&missing.display().to_string()),
        "{err}"
    );
}

#[tokio::test]
async fn closing_the_channel_stops_the_source() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut running = Running::start(vec![dir.path().to_path_buf()]).await;
    running.events.close();
    let result = timeout(PATIENCE, &mut running.task)
        .await
        .expect("stops")
        .expect("no panic");
    assert!(result.is_ok(), "{result:?}");
}

/// `kubectl get -o yaml > file`: the shell truncates the file, and the content comes later.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_file_being_written_is_read_when_it_is_closed() {
    use std::io::Write;

    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("a.yaml");
    write(&a, &(node("n1", "192.0.2.1") + &node("n2", "192.0.2.2")));
    let mut running = Running::start(vec![dir.path().to_path_buf()]).await;

    let mut file = fs::File::create(&a).expect("truncate");
    // Much longer than the quiet period: the empty file must not be read as "no objects".
    tokio::time::sleep(Duration::from_millis(400)).await;
    file.write_all(node("n1", "192.0.2.1").as_bytes())
        .expect("write");
    tokio::time::sleep(Duration::from_millis(200)).await;
    file.write_all(node("n2", "192.0.2.20").as_bytes())
        .expect("write");
    drop(file);
    running
        .until(|s| s.get("Node/n2").is_some_and(|ip| ip == "192.0.2.20"))
        .await;
    assert_eq!(running.log, ["apply Node/n2 192.0.2.20"]);
}

#[tokio::test]
async fn a_watched_folder_that_is_replaced_is_watched_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("manifests");
    write(&root.join("a.yaml"), &node("n", "192.0.2.1"));
    let mut running = Running::start(vec![root.clone()]).await;

    fs::remove_dir_all(&root).expect("remove folder");
    running.until(|s| s.is_empty()).await;
    write(&root.join("b.yaml"), &node("n", "192.0.2.2"));
    running.until(|s| !s.is_empty()).await;
    // And it is watched again.
    write(&root.join("b.yaml"), &node("n", "192.0.2.3"));
    running
        .until(|s| s.get("Node/n").is_some_and(|ip| ip == "192.0.2.3"))
        .await;
}
