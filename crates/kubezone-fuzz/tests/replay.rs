//! Replays every committed fuzz input (`fuzz/corpus/<target>/` and `fuzz/regressions/<target>/`)
//! through the same functions the fuzzers run, so a crash once fixed stays fixed.

use std::path::Path;

use kubezone_fuzz::{TARGETS, corpus::fuzz_root, inputs, request};

fn replay(target: &str, run: fn(&[u8]), folder: &Path, allow_empty: bool) -> usize {
    let files = inputs(folder, allow_empty).unwrap_or_else(|e| panic!("{target}: {e}"));
    for (path, bytes) in &files {
        // Name the file if the target panics: that is the reproducer.
        eprintln!("{target}: {}", path.display());
        run(bytes);
    }
    files.len()
}

#[test]
fn every_corpus_and_regression_input_passes() {
    for (target, run) in TARGETS {
        let corpus = replay(target, run, &fuzz_root().join("corpus").join(target), false);
        assert!(corpus > 0, "{target}: empty corpus");
        replay(
            target,
            run,
            &fuzz_root().join("regressions").join(target),
            true,
        );
    }
}

/// The request corpus is generated: `KUBEZONE_FUZZ_BLESS=1 cargo test -p kubezone-fuzz --test
/// replay` writes it; without it, this checks that the files match the generator.
#[test]
fn the_request_seed_corpus_matches_its_generator() {
    let folder = fuzz_root().join("corpus/request");
    let bless = std::env::var_os("KUBEZONE_FUZZ_BLESS").is_some();
    if bless {
        std::fs::create_dir_all(&folder).expect("create the request corpus folder");
    }
    for seed in request::seeds() {
        let path = folder.join(format!("seed-{}", seed.name));
        if bless {
            std::fs::write(&path, &seed.bytes).expect("write a seed");
        }
        let on_disk = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (regenerate with KUBEZONE_FUZZ_BLESS=1)",
                path.display()
            )
        });
        assert_eq!(on_disk, seed.bytes, "{} is stale", path.display());
    }
    assert!(
        !inputs(&folder, false).expect("request corpus").is_empty(),
        "empty request corpus"
    );
}

/// Each seed is what its name says: well-formed seeds parse as DNS messages with the question
/// they were built with, broken ones do not parse.
#[test]
fn request_seeds_are_well_formed_exactly_when_marked() {
    use hickory_proto::op::Message;
    let seeds = request::seeds();
    assert!(seeds.len() >= 40, "{} seeds", seeds.len());
    for seed in &seeds {
        let parsed = Message::from_vec(&seed.bytes);
        assert_eq!(
            parsed.is_ok(),
            seed.well_formed,
            "seed {}: {:?}",
            seed.name,
            parsed.err()
        );
    }
    let by_name = |name: &str| {
        let seed = seeds
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no seed {name}"));
        Message::from_vec(&seed.bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let edns = by_name("edns-version-1");
    assert_eq!(edns.edns.as_ref().map(|e| e.version()), Some(1));
    let two = by_name("two-questions");
    let names: Vec<String> = two.queries.iter().map(|q| q.name().to_string()).collect();
    assert_eq!(names, ["www.example.com.", "docs.example.com."]);
    let pointer = by_name("compression-pointer");
    assert_eq!(
        pointer
            .queries
            .get(1)
            .map(|q| q.name().to_string())
            .as_deref(),
        Some("docs.example.com.")
    );
    assert!(by_name("tc-set").metadata.truncation);
}
