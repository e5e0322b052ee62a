//! A scripted primary on loopback, for the unit tests of `axfr` and `client`: it checks each
//! request's TSIG with kubezone-transfer's server side and answers what the test says,
//! signed or not, including what a real server never sends.

use std::{
    net::{Ipv4Addr, SocketAddr},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use hickory_proto::{
    op::{Message, MessageType, ResponseCode},
    rr::{Name, RData, Record, rdata::A, rdata::SOA},
};
use kubezone_transfer::{Algorithm, Key, KeyRing, ResponseSigner, Secret};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

pub(crate) const SECRET: &str = "ZmFrZS1wcmltYXJ5LXNlY3JldC1mb3ItdW5pdC10ZXN0cw==";

pub(crate) fn key() -> Key {
    Key::new(
        "push-key",
        Algorithm::HmacSha256,
        Secret::from_base64(SECRET).expect("base64"),
    )
    .expect("key")
}

pub(crate) fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("name")
}

pub(crate) fn soa(owner: &str, serial: u32) -> Record {
    Record::from_rdata(
        name(owner),
        300,
        RData::SOA(SOA::new(
            name("ns1.example.test."),
            name("hostmaster.example.test."),
            serial,
            3600,
            600,
            86400,
            300,
        )),
    )
}

pub(crate) fn a(owner: &str, last: u8) -> Record {
    Record::from_rdata(name(owner), 60, RData::A(A(Ipv4Addr::new(192, 0, 2, last))))
}

/// What the primary does with a request.
pub(crate) enum Action {
    /// Writes these messages and reads the next request.
    Reply(Vec<Vec<u8>>),
    /// Writes these messages and closes the connection.
    ReplyAndClose(Vec<Vec<u8>>),
    /// Never answers, and keeps the connection open.
    Silent,
}

/// One request as the primary read it.
pub(crate) struct Request {
    pub(crate) message: Message,
    /// Signs the replies, when the request verified with the key.
    signer: Option<ResponseSigner>,
}

impl Request {
    /// A reply with `rcode` and `answers`, signed when the request was.
    pub(crate) fn reply(&mut self, rcode: ResponseCode, answers: Vec<Record>) -> Vec<u8> {
        let bytes = self.unsigned(rcode, answers);
        self.sign(bytes)
    }

    /// A reply as `reply` makes it, left unsigned.
    pub(crate) fn unsigned(&self, rcode: ResponseCode, answers: Vec<Record>) -> Vec<u8> {
        let mut reply = Message::new(
            self.message.metadata.id,
            MessageType::Response,
            self.message.metadata.op_code,
        );
        reply.metadata.authoritative = true;
        reply.metadata.response_code = rcode;
        reply.queries = self.message.queries.clone();
        for record in answers {
            reply.add_answer(record);
        }
        reply.to_vec().expect("encode")
    }

    /// `bytes` signed as the next message of the reply, when the request was signed.
    pub(crate) fn sign(&mut self, bytes: Vec<u8>) -> Vec<u8> {
        match &mut self.signer {
            Some(signer) => signer.sign(bytes, crate::link::unix_now()).expect("sign"),
            None => bytes,
        }
    }
}

/// A primary on a loopback port until dropped.
pub(crate) struct FakePrimary {
    pub(crate) addr: SocketAddr,
    /// Connections accepted so far.
    pub(crate) accepted: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl FakePrimary {
    /// Serves one connection at a time, answering each request with `respond`.
    pub(crate) async fn start(
        mut respond: impl FnMut(&mut Request) -> Action + Send + 'static,
    ) -> FakePrimary {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        let ring = KeyRing::new([key()]).expect("ring");
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                serve(&mut stream, &ring, &mut respond).await;
            }
        });
        FakePrimary {
            addr,
            accepted,
            task,
        }
    }

    pub(crate) fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for FakePrimary {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    stream: &mut TcpStream,
    ring: &KeyRing,
    respond: &mut impl FnMut(&mut Request) -> Action,
) {
    loop {
        let mut len = [0u8; 2];
        if stream.read_exact(&mut len).await.is_err() {
            return;
        }
        let mut bytes = vec![0u8; usize::from(u16::from_be_bytes(len))];
        if stream.read_exact(&mut bytes).await.is_err() {
            return;
        }
        let signer = ring
            .verify_request(&bytes, crate::link::unix_now())
            .ok()
            .map(|verified| verified.response_signer());
        let mut request = Request {
            message: Message::from_vec(&bytes).expect("the request parses"),
            signer,
        };
        let (messages, close) = match respond(&mut request) {
            Action::Reply(messages) => (messages, false),
            Action::ReplyAndClose(messages) => (messages, true),
            Action::Silent => {
                std::future::pending::<()>().await;
                return;
            }
        };
        for message in messages {
            let len = u16::try_from(message.len()).expect("fits");
            let framed = [&len.to_be_bytes()[..], &message].concat();
            if stream.write_all(&framed).await.is_err() {
                return;
            }
        }
        if close {
            return;
        }
    }
}
