//! The parts of the kubezone binary that other crates reach: the config parser, which the
//! binary itself uses from here and the fuzzers drive.

pub mod config;
