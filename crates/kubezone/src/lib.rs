//! The parts of the kubezone binary that other crates reach: the config parser, for fuzzing.
//! `main.rs` compiles its own copy of the module, so the binary does not change.

pub mod config;
