//! A TCP proxy between the switch and PostgreSQL that loses one commit's acknowledgement:
//! the transaction that wrote a marker commits on the server, and the connection is reset
//! before the client reads that it did, as when a database failover closes connections
//! between a commit and its answer. Everything else passes through.
//!
//! It reads the server's side as PostgreSQL protocol messages (a type byte and a length),
//! so the switch must connect with `sslmode=disable`: the answer to an SSL request is a
//! single byte with no length.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// `ReadyForQuery` with status idle: the server has finished a transaction.
const READY_FOR_QUERY: u8 = b'Z';
const IDLE: u8 = b'I';

pub struct CommitAckLoss {
    pub addr: SocketAddr,
    /// Acknowledgements lost so far.
    lost: Arc<AtomicUsize>,
    relays: Arc<Mutex<Vec<JoinHandle<()>>>>,
    task: JoinHandle<()>,
}

impl CommitAckLoss {
    /// Relays to `upstream`; the first transaction whose messages contain `marker` loses
    /// its acknowledgement, later ones pass.
    pub async fn start(upstream: SocketAddr, marker: &'static [u8]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let armed = Arc::new(AtomicBool::new(true));
        let lost = Arc::new(AtomicUsize::new(0));
        let relays = Arc::new(Mutex::new(Vec::new()));
        let (shared, counted, tasks) = (Arc::clone(&armed), Arc::clone(&lost), Arc::clone(&relays));
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let fault = Watch {
                    marker,
                    armed: Arc::clone(&shared),
                    lost: Arc::clone(&counted),
                };
                tasks
                    .lock()
                    .unwrap()
                    .push(tokio::spawn(relay(client, upstream, fault)));
            }
        });
        Self {
            addr,
            lost,
            relays,
            task,
        }
    }

    pub fn lost(&self) -> usize {
        self.lost.load(Ordering::SeqCst)
    }
}

impl Drop for CommitAckLoss {
    fn drop(&mut self) {
        self.task.abort();
        for relay in self.relays.lock().unwrap().drain(..) {
            relay.abort();
        }
    }
}

#[derive(Clone)]
struct Watch {
    marker: &'static [u8],
    /// Until one connection has carried the marker.
    armed: Arc<AtomicBool>,
    lost: Arc<AtomicUsize>,
}

async fn relay(client: TcpStream, upstream: SocketAddr, watch: Watch) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    // A zero linger makes the close a reset, as a failover's severed connection is.
    // (Deprecated because a non-zero linger blocks on drop; a zero one returns at once.)
    #[allow(deprecated)]
    let _ = client.set_linger(Some(Duration::ZERO));
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let marked = Arc::new(AtomicBool::new(false));
    let forward = tokio::spawn(to_server(
        client_read,
        server_write,
        watch.clone(),
        Arc::clone(&marked),
    ));
    to_client(server_read, client_write, &watch, &marked).await;
    forward.abort();
}

/// Passes the client's bytes on; the first connection to send the marker is marked.
async fn to_server(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    watch: Watch,
    marked: Arc<AtomicBool>,
) {
    let mut buffer = vec![0_u8; 64 * 1024];
    // The end of the previous read, so that a marker split across two reads is seen.
    let mut tail: Vec<u8> = Vec::new();
    while let Ok(n) = from.read(&mut buffer).await {
        if n == 0 {
            return;
        }
        tail.extend_from_slice(&buffer[..n]);
        let seen = tail.windows(watch.marker.len()).any(|w| w == watch.marker);
        if seen && watch.armed.swap(false, Ordering::SeqCst) {
            marked.store(true, Ordering::SeqCst);
        }
        let keep = tail.len().saturating_sub(watch.marker.len());
        tail.drain(..keep);
        if to.write_all(&buffer[..n]).await.is_err() {
            return;
        }
    }
}

/// Passes the server's messages back, until a marked connection's transaction ends: that
/// `ReadyForQuery` (and all after it) is never delivered, and the connection is reset.
async fn to_client(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    watch: &Watch,
    marked: &AtomicBool,
) {
    loop {
        let mut header = [0_u8; 5];
        if from.read_exact(&mut header).await.is_err() {
            return;
        }
        let length = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
        let mut body = vec![0_u8; length.saturating_sub(4)];
        if from.read_exact(&mut body).await.is_err() {
            return;
        }
        let ends_transaction = header[0] == READY_FOR_QUERY && body.first() == Some(&IDLE);
        if ends_transaction && marked.load(Ordering::SeqCst) {
            watch.lost.fetch_add(1, Ordering::SeqCst);
            return; // dropping both halves resets the client's connection
        }
        if to.write_all(&header).await.is_err() || to.write_all(&body).await.is_err() {
            return;
        }
    }
}
