//! Which sockets a `listen` list means, and binding them. `[::]:P` is both families, as two
//! sockets (`0.0.0.0:P` and a V6ONLY `[::]:P`), so that an IPv4 client is always seen as IPv4
//! and never as an IPv4-mapped IPv6 address by the access list, the rate limiter or the log.

use std::{
    io,
    net::{Ipv4Addr, SocketAddr},
};

use socket2::{Domain, Protocol, Socket, Type};
use tracing::warn;

/// How often addresses with port 0 are tried again on a fresh port when one of them finds it
/// taken.
const PORT_ATTEMPTS: usize = 16;
/// The listen backlog std's `TcpListener::bind` asks for.
const TCP_BACKLOG: i32 = 128;

/// An address that could not be bound.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {proto} {addr}: {error}")]
pub struct BindError {
    pub proto: &'static str,
    /// As `listen` gives it, after expansion (the port may be 0).
    pub addr: SocketAddr,
    pub error: io::Error,
}

impl BindError {
    /// `error` while binding `proto` on `addr`.
    pub fn new(proto: &'static str, addr: SocketAddr) -> impl FnOnce(io::Error) -> BindError {
        move |error| BindError { proto, addr, error }
    }
}

/// The socket addresses `listen` asks for, in order, each once: `[::]:P` becomes `0.0.0.0:P`
/// and `[::]:P`.
pub fn expand(listen: &[SocketAddr]) -> Vec<SocketAddr> {
    let mut addrs = Vec::with_capacity(listen.len() + 1);
    for &addr in listen {
        if is_ipv6_wildcard(addr) {
            push_new(
                &mut addrs,
                SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), addr.port()),
            );
        }
        push_new(&mut addrs, addr);
    }
    addrs
}

fn push_new(addrs: &mut Vec<SocketAddr>, addr: SocketAddr) {
    if !addrs.contains(&addr) {
        addrs.push(addr);
    }
}

fn is_ipv6_wildcard(addr: SocketAddr) -> bool {
    matches!(addr, SocketAddr::V6(v6) if v6.ip().is_unspecified())
}

/// The errors of a host without IPv6: no IPv6 sockets at all, or no IPv6 address to bind.
fn is_ipv6_missing(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EAFNOSUPPORT | libc::EADDRNOTAVAIL)
    )
}

/// Binds every address of [`expand`]`(listen)` with `bind`, which returns what it bound and
/// the address it got. Addresses with port 0 all get the port the first of them got; when
/// another finds it taken, everything is let go and tried again. The IPv6 half of `[::]:P`
/// is left out, with a warning, on a host without IPv6; any other failure is the error.
pub fn bind_all<T>(
    listen: &[SocketAddr],
    mut bind: impl FnMut(SocketAddr) -> Result<(T, SocketAddr), BindError>,
) -> Result<Vec<(T, SocketAddr)>, BindError> {
    let addrs = expand(listen);
    let mut attempt = 1;
    loop {
        match bind_once(&addrs, &mut bind) {
            Ok((bound, missing)) => {
                for BindError { proto, addr, error } in missing {
                    warn!(
                        listen = %addr,
                        %proto,
                        %error,
                        "IPv6 is not available on this host: this address serves IPv4 only"
                    );
                }
                return Ok(bound);
            }
            Err(Failed { error, port_taken }) => {
                if !port_taken || attempt >= PORT_ATTEMPTS {
                    return Err(error);
                }
            }
        }
        attempt += 1;
    }
}

struct Failed {
    error: BindError,
    /// A port 0 address found the port chosen for it taken: another port may do.
    port_taken: bool,
}

/// What was bound, and the IPv6 wildcards left out.
type Bound<T> = (Vec<(T, SocketAddr)>, Vec<BindError>);

fn bind_once<T>(
    addrs: &[SocketAddr],
    bind: &mut impl FnMut(SocketAddr) -> Result<(T, SocketAddr), BindError>,
) -> Result<Bound<T>, Failed> {
    let mut chosen: Option<u16> = None;
    let mut bound = Vec::with_capacity(addrs.len());
    let mut missing = Vec::new();
    for &addr in addrs {
        let any_port = addr.port() == 0;
        let target = match chosen {
            Some(port) if any_port => SocketAddr::new(addr.ip(), port),
            _ => addr,
        };
        match bind(target) {
            Ok((socket, local)) => {
                if any_port {
                    chosen = Some(local.port());
                }
                bound.push((socket, local));
            }
            Err(e) if is_ipv6_wildcard(addr) && is_ipv6_missing(&e.error) => {
                missing.push(BindError { addr, ..e });
            }
            Err(e) => {
                let port_taken = any_port && e.error.kind() == io::ErrorKind::AddrInUse;
                return Err(Failed {
                    error: BindError { addr, ..e },
                    port_taken,
                });
            }
        }
    }
    Ok((bound, missing))
}

/// A non-blocking TCP listener on `addr`, IPv6-only when `addr` is IPv6. SO_REUSEADDR as std
/// sets it, so that a restart can bind while old connections linger in TIME_WAIT.
pub fn tcp_listener(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(TCP_BACKLOG)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|a| a.parse().expect("address")).collect()
    }

    #[test]
    fn the_ipv6_wildcard_means_both_families() {
        assert_eq!(
            expand(&addrs(&["[::]:53"])),
            addrs(&["0.0.0.0:53", "[::]:53"])
        );
        assert_eq!(
            expand(&addrs(&["[::]:0", "127.0.0.1:53"])),
            addrs(&["0.0.0.0:0", "[::]:0", "127.0.0.1:53"])
        );
    }

    #[test]
    fn duplicates_are_bound_once() {
        for list in [
            &["0.0.0.0:53", "[::]:53"][..],
            &["[::]:53", "0.0.0.0:53"],
            &["[::]:53", "[::]:53"],
            &["[::]:53", "0.0.0.0:53", "[::]:53"],
        ] {
            assert_eq!(
                expand(&addrs(list)),
                addrs(&["0.0.0.0:53", "[::]:53"]),
                "{list:?}"
            );
        }
        assert_eq!(
            expand(&addrs(&["127.0.0.1:53", "127.0.0.1:53", "[::1]:53"])),
            addrs(&["127.0.0.1:53", "[::1]:53"])
        );
    }

    #[test]
    fn other_addresses_stay_as_they_are() {
        let list = addrs(&["127.0.0.1:53", "[::1]:53", "0.0.0.0:54", "[2001:db8::1]:53"]);
        assert_eq!(expand(&list), list);
    }

    /// A host as `bind_all` sees it: the ports taken, the families missing, the binds made.
    struct Host {
        taken: HashSet<SocketAddr>,
        ipv6: bool,
        next_port: u16,
        tried: Vec<SocketAddr>,
    }

    impl Host {
        fn new(ipv6: bool) -> Host {
            Host {
                taken: HashSet::new(),
                ipv6,
                next_port: 40000,
                tried: Vec::new(),
            }
        }

        fn bind(&mut self, addr: SocketAddr) -> Result<((), SocketAddr), BindError> {
            self.tried.push(addr);
            let fail = BindError::new("udp", addr);
            if addr.is_ipv6() && !self.ipv6 {
                return Err(fail(io::Error::from_raw_os_error(libc::EAFNOSUPPORT)));
            }
            let local = if addr.port() == 0 {
                self.next_port += 1;
                SocketAddr::new(addr.ip(), self.next_port)
            } else {
                addr
            };
            if !self.taken.insert(local) {
                return Err(fail(io::ErrorKind::AddrInUse.into()));
            }
            Ok(((), local))
        }
    }

    fn bind(host: &mut Host, list: &[&str]) -> Result<Vec<SocketAddr>, BindError> {
        bind_all(&addrs(list), |a| host.bind(a))
            .map(|bound| bound.into_iter().map(|(_, local)| local).collect())
    }

    #[test]
    fn port_0_gives_every_address_one_port() {
        let mut host = Host::new(true);
        assert_eq!(
            bind(&mut host, &["[::]:0", "127.0.0.2:0"]).expect("bound"),
            addrs(&["0.0.0.0:40001", "[::]:40001", "127.0.0.2:40001"])
        );
    }

    #[test]
    fn port_0_moves_on_when_one_address_has_the_port_taken() {
        let mut host = Host::new(true);
        host.taken.insert("[::]:40001".parse().expect("address"));
        assert_eq!(
            bind(&mut host, &["[::]:0"]).expect("bound"),
            addrs(&["0.0.0.0:40002", "[::]:40002"])
        );
    }

    #[test]
    fn a_taken_fixed_port_is_an_error_at_once() {
        let mut host = Host::new(true);
        host.taken.insert("[::]:53".parse().expect("address"));
        let err = bind(&mut host, &["[::]:53"]).expect_err("taken");
        assert_eq!(
            err.to_string(),
            "cannot listen on udp [::]:53: address in use"
        );
        assert_eq!(host.tried, addrs(&["0.0.0.0:53", "[::]:53"]));
    }

    #[test]
    fn port_0_gives_up_after_a_few_ports() {
        let mut host = Host::new(true);
        host.taken = (40001..=40100)
            .map(|p| SocketAddr::from(([127, 0, 0, 2], p)))
            .collect();
        let err = bind(&mut host, &["127.0.0.1:0", "127.0.0.2:0"]).expect_err("all taken");
        assert_eq!(err.addr, "127.0.0.2:0".parse().expect("address"));
        assert_eq!(host.tried.len(), 2 * PORT_ATTEMPTS);
    }

    #[test]
    fn the_ipv6_wildcard_serves_ipv4_on_a_host_without_ipv6() {
        let mut host = Host::new(false);
        assert_eq!(
            bind(&mut host, &["[::]:53"]).expect("bound"),
            addrs(&["0.0.0.0:53"])
        );
        let mut host = Host::new(false);
        assert_eq!(
            bind(&mut host, &["0.0.0.0:0", "[::]:0"]).expect("bound"),
            addrs(&["0.0.0.0:40001"])
        );
    }

    #[test]
    fn an_explicit_ipv6_address_without_ipv6_is_an_error_naming_it() {
        let mut host = Host::new(false);
        let err = bind(&mut host, &["127.0.0.1:53", "[::1]:53"]).expect_err("no IPv6");
        assert_eq!(err.addr, "[::1]:53".parse().expect("address"));
        assert!(
            err.to_string()
                .starts_with("cannot listen on udp [::1]:53: "),
            "{err}"
        );
    }

    #[test]
    fn tcp_listeners_of_both_families_share_a_port() {
        let v4 = tcp_listener("127.0.0.1:0".parse().expect("address")).expect("IPv4");
        let port = v4.local_addr().expect("local").port();
        let v6 = tcp_listener(SocketAddr::new("::1".parse().expect("ip"), port))
            .expect("IPv6 beside IPv4 on one port: the IPv6 listener is IPv6-only");
        assert_eq!(v6.local_addr().expect("local").port(), port);
        let wildcard =
            tcp_listener(SocketAddr::new("::".parse().expect("ip"), 0)).expect("IPv6 wildcard");
        let port = wildcard.local_addr().expect("local").port();
        tcp_listener(SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), port))
            .expect("IPv4 wildcard beside the IPv6 one");
    }
}
