//! The HTTP side, on its own address: `/healthz`, `/readyz` (`?verbose` for the detail),
//! `/metrics` and `/debug/explain?name=`.

use std::{
    convert::Infallible,
    net::{IpAddr, SocketAddr},
};

use http_body_util::Full;
use hyper::{
    Method, Request, Response, StatusCode, body::Bytes, server::conn::http1, service::service_fn,
};
use hyper_util::rt::TokioIo;
use kubezone_dns::listen::{self, BindError};
use kubezone_metrics::Metrics;
use percent_encoding::percent_decode_str;
use tokio::net::TcpListener;
use tracing::{debug, info};

use crate::health::Health;

#[derive(Clone)]
pub struct HttpState {
    pub health: Health,
    /// `None` when metrics are switched off.
    pub metrics: Option<Metrics>,
}

/// Binds `addr` (`[::]:P` is both families, as for DNS: [`listen::expand`]) and serves on
/// each bound address until the runtime stops. Returns the tasks.
pub async fn serve_http(
    addr: SocketAddr,
    state: HttpState,
) -> Result<Vec<tokio::task::JoinHandle<()>>, BindError> {
    let bound = listen::bind_all(&[addr], |addr| {
        let listener = listen::tcp_listener(addr).map_err(BindError::new("tcp", addr))?;
        let local = listener.local_addr().map_err(BindError::new("tcp", addr))?;
        Ok((listener, local))
    })?;
    let mut tasks = Vec::with_capacity(bound.len());
    for (listener, local) in bound {
        let listener = TcpListener::from_std(listener).map_err(BindError::new("tcp", local))?;
        info!(http = %local, "serving /healthz, /readyz, /metrics and /debug/explain");
        tasks.push(tokio::spawn(accept(listener, state.clone())));
    }
    Ok(tasks)
}

async fn accept(listener: TcpListener, state: HttpState) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                debug!("http accept: {e}");
                continue;
            }
        };
        let state = state.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(route(&state, &request)) }
            });
            if let Err(e) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                debug!(%peer, "http connection: {e}");
            }
        });
    }
}

fn route<B>(state: &HttpState, request: &Request<B>) -> Response<Full<Bytes>> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "GET only\n".into());
    }
    let query = request.uri().query().unwrap_or("");
    match request.uri().path() {
        "/healthz" | "/livez" => text(StatusCode::OK, "ok\n".into()),
        "/readyz" => {
            let code = if state.health.is_ready() {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            let verbose = query
                .split('&')
                .any(|p| p == "verbose" || p.starts_with("verbose="));
            let body = if verbose {
                state.health.detail()
            } else if code == StatusCode::OK {
                "ok\n".into()
            } else {
                "not ready\n".into()
            };
            text(code, body)
        }
        "/metrics" => match &state.metrics {
            Some(metrics) => text(StatusCode::OK, metrics.render()),
            None => text(StatusCode::NOT_FOUND, "metrics are switched off\n".into()),
        },
        "/debug/explain" => match query_value(query, "name") {
            Some(name) => {
                let client = match query_value(query, "client").map(|c| c.parse::<IpAddr>()) {
                    None => None,
                    Some(Ok(address)) => Some(address),
                    Some(Err(_)) => {
                        return text(
                            StatusCode::BAD_REQUEST,
                            "client= is not an IP address\n".into(),
                        );
                    }
                };
                let mut out = state.health.explain(&name, client);
                for conflict in state.health.push_conflicts(&name) {
                    out.push_str(&format!("push: left alone: {conflict}\n"));
                }
                text(StatusCode::OK, out)
            }
            None => text(
                StatusCode::BAD_REQUEST,
                "usage: /debug/explain?name=www.example.com[&client=10.1.2.3]\n".into(),
            ),
        },
        _ => text(StatusCode::NOT_FOUND, "not found\n".into()),
    }
}

fn text(code: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = code;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// The value of `key` in a query string, decoded as a form would encode it: `+` is a space,
/// `%XX` a byte, and bytes that are not UTF-8 become U+FFFD.
fn query_value(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key && !v.is_empty()).then(|| {
            percent_decode_str(&v.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_decoded() {
        assert_eq!(
            query_value("a=1&name=www.example.com", "name").as_deref(),
            Some("www.example.com")
        );
        assert_eq!(
            query_value("name=%2A.apps.example.com", "name").as_deref(),
            Some("*.apps.example.com")
        );
        assert_eq!(query_value("name=", "name"), None);
        assert_eq!(query_value("other=x", "name"), None);
        // What is not an escape stays as written.
        assert_eq!(query_value("name=%zz%4", "name").as_deref(), Some("%zz%4"));
        assert_eq!(
            query_value("name=a+b%2Bc%20d", "name").as_deref(),
            Some("a b+c d")
        );
        assert_eq!(
            query_value("name=caf%C3%A9.example.com", "name").as_deref(),
            Some("café.example.com")
        );
        assert_eq!(
            query_value("name=%FF.example.com", "name").as_deref(),
            Some("\u{fffd}.example.com")
        );
    }
}
