//! kubezone over real sockets: the release-shaped binary, started per test on a loopback port.

mod answers;
mod cli;
mod control_plane;
mod dig;
mod fallthrough;
mod harness;
mod manifests;
mod objects;
mod protocol;
