//! The hickory-server request handler: protocol checks, EDNS, size limits, then [`resolve`].

use std::{borrow::Cow, sync::Arc, time::Instant};

use arc_swap::ArcSwap;

use hickory_net::{runtime::Time, xfer::Protocol};
use hickory_proto::{
    op::{Edns, Header, HeaderCounts, Message, Metadata, OpCode, ResponseCode},
    rr::{DNSClass, Record, RecordType},
};
use hickory_server::{
    server::{Request, RequestHandler, ResponseHandler, ResponseInfo},
    zone_handler::MessageResponseBuilder,
};
use kubezone_index::IndexReader;
use kubezone_metrics::QueryCounters;
use tracing::{debug, info, warn};

use crate::{Answer, FallthroughPolicy, Forwarder, Resolution, fit::fit, resolve_in_zone};

/// The UDP payload kubezone uses at most: DNS Flag Day 2020's recommendation.
pub const MAX_UDP_PAYLOAD: u16 = 1232;
/// The UDP limit for a client without EDNS (RFC 1035 §4.2.1).
const PLAIN_UDP_PAYLOAD: u16 = 512;

/// What answers queries: the index, fallthrough and the counters. Swapped as a whole when the
/// configuration is reloaded.
#[derive(Clone)]
pub struct Answerer {
    index: IndexReader,
    fallthrough: Arc<FallthroughPolicy>,
    forwarder: Option<Forwarder>,
    counters: Option<Arc<QueryCounters>>,
    query_log: bool,
}

impl Answerer {
    pub fn new(
        index: IndexReader,
        fallthrough: FallthroughPolicy,
        forwarder: Option<Forwarder>,
    ) -> Answerer {
        Answerer {
            index,
            fallthrough: Arc::new(fallthrough),
            forwarder,
            counters: None,
            query_log: false,
        }
    }

    /// Counts every query (by zone, type and rcode) and its latency.
    pub fn with_counters(mut self, counters: Arc<QueryCounters>) -> Answerer {
        self.counters = Some(counters);
        self
    }

    /// Logs a line per query, at info.
    pub fn with_query_log(mut self, on: bool) -> Answerer {
        self.query_log = on;
        self
    }
}

/// Answers queries from the current index snapshot.
#[derive(Clone)]
pub struct DnsHandler {
    current: Arc<ArcSwap<Answerer>>,
}

impl DnsHandler {
    pub fn new(
        index: IndexReader,
        fallthrough: FallthroughPolicy,
        forwarder: Option<Forwarder>,
    ) -> DnsHandler {
        DnsHandler::from(Answerer::new(index, fallthrough, forwarder))
    }

    /// Answers with `answerer` from now on; queries in flight finish with the old one.
    pub fn replace(&self, answerer: Answerer) {
        self.current.store(Arc::new(answerer));
    }
}

impl From<Answerer> for DnsHandler {
    fn from(answerer: Answerer) -> DnsHandler {
        DnsHandler {
            current: Arc::new(ArcSwap::from_pointee(answerer)),
        }
    }
}

#[async_trait::async_trait]
impl RequestHandler for DnsHandler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        response: R,
    ) -> ResponseInfo {
        let start = Instant::now();
        let mut zone = None;
        let answerer = self.current.load_full();
        let info = match answerer.respond(request, response, &mut zone).await {
            Ok(info) => info,
            Err(error) => {
                debug!(%error, src = %request.src(), "could not send a response");
                let mut metadata = Metadata::response_from_request(&request.metadata);
                metadata.response_code = ResponseCode::ServFail;
                ResponseInfo::from(Header {
                    metadata,
                    counts: HeaderCounts::default(),
                })
            }
        };
        if answerer.counters.is_some() || answerer.query_log {
            let query = request.queries.queries().first();
            let qtype = query.map_or(RecordType::NULL, |q| q.query_type());
            let rcode = info.response_code;
            let elapsed = start.elapsed();
            if let Some(counters) = &answerer.counters {
                counters.answered(zone, qtype, rcode, elapsed);
            }
            if answerer.query_log {
                let name = query
                    .map(|q| q.original().name().to_string())
                    .unwrap_or_default();
                info!(
                    target: "kubezone::query",
                    src = %request.src(),
                    protocol = %request.protocol(),
                    %name,
                    %qtype,
                    %rcode,
                    micros = elapsed.as_micros() as u64,
                    "query"
                );
            }
        }
        info
    }
}

impl Answerer {
    async fn respond<R: ResponseHandler>(
        &self,
        request: &Request,
        mut response: R,
        zone: &mut Option<usize>,
    ) -> Result<ResponseInfo, hickory_net::NetError> {
        let udp = request.protocol() == Protocol::Udp;
        let limit = match (&request.edns, udp) {
            (_, false) => u16::MAX,
            (None, true) => PLAIN_UDP_PAYLOAD,
            (Some(edns), true) => edns.max_payload().clamp(PLAIN_UDP_PAYLOAD, MAX_UDP_PAYLOAD),
        };
        // The reply has an OPT exactly when the query had one (RFC 6891 §7).
        let edns = request.edns.as_ref().map(|_| {
            let mut edns = Edns::new();
            edns.set_max_payload(limit.clamp(PLAIN_UDP_PAYLOAD, MAX_UDP_PAYLOAD));
            edns.set_version(0);
            edns
        });
        let builder = || MessageResponseBuilder::new(&request.queries, edns.as_ref());
        let refuse = |code| builder().error_msg(&request.metadata, code);
        if request.edns.as_ref().is_some_and(|e| e.version() > 0) {
            return response.send_response(refuse(ResponseCode::BADVERS)).await;
        }
        if request.metadata.op_code != OpCode::Query {
            return response.send_response(refuse(ResponseCode::NotImp)).await;
        }
        let [query] = request.queries.queries() else {
            return response.send_response(refuse(ResponseCode::FormErr)).await;
        };
        if query.query_class() != DNSClass::IN {
            return response.send_response(refuse(ResponseCode::Refused)).await;
        }
        let qtype = query.query_type();
        if matches!(qtype, RecordType::AXFR | RecordType::IXFR) {
            // Zone transfer is not offered; secondaries are kubezone instances of their own.
            return response.send_response(refuse(ResponseCode::Refused)).await;
        }

        let catalog = self.index.load();
        let qname = query.original().name();
        let mut metadata = Metadata::response_from_request(&request.metadata);
        let (in_zone, resolution) = resolve_in_zone(&catalog, qname, qtype, &self.fallthrough);
        *zone = in_zone;
        let mut answer = match resolution {
            Resolution::Answer(answer) => answer,
            Resolution::Refused => {
                return response.send_response(refuse(ResponseCode::Refused)).await;
            }
            Resolution::NotReady => {
                return response.send_response(refuse(ResponseCode::ServFail)).await;
            }
            Resolution::Fallthrough => {
                let Some(reply) = self.forward(request, !udp).await else {
                    return response.send_response(refuse(ResponseCode::ServFail)).await;
                };
                Answer {
                    rcode: reply.metadata.response_code,
                    authoritative: reply.metadata.authoritative,
                    answers: vec![reply.answers.into()],
                    authorities: vec![reply.authorities.into()],
                    additionals: vec![reply.additionals.into()],
                }
            }
        };
        metadata.response_code = answer.rcode;
        metadata.authoritative = answer.authoritative;
        metadata.truncation = fit(
            &mut answer,
            &metadata,
            request.queries.as_bytes(),
            edns.as_ref(),
            usize::from(limit),
        );
        send(&mut response, builder(), metadata, &answer).await
    }

    async fn forward(&self, request: &Request, tcp: bool) -> Option<Message> {
        let forwarder = self.forwarder.as_ref()?;
        if let Some(counters) = &self.counters {
            counters.forwarded();
        }
        match forwarder.forward(request.as_slice(), tcp).await {
            Ok(reply) => Some(reply),
            Err(error) => {
                if let Some(counters) = &self.counters {
                    counters.forward_failed();
                }
                warn!(%error, "fallthrough failed");
                None
            }
        }
    }
}

async fn send<R: ResponseHandler>(
    response: &mut R,
    builder: MessageResponseBuilder<'_>,
    metadata: Metadata,
    answer: &Answer<'_>,
) -> Result<ResponseInfo, hickory_net::NetError> {
    let message = builder.build(
        metadata,
        flat(&answer.answers),
        flat(&answer.authorities),
        std::iter::empty(),
        flat(&answer.additionals),
    );
    response.send_response(message).await
}

fn flat<'a>(section: &'a [Cow<'_, [Record]>]) -> impl Iterator<Item = &'a Record> + Send + 'a {
    section.iter().flat_map(|rrset| rrset.iter())
}
