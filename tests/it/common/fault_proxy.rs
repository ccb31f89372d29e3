//! A TCP proxy between the switch and a partner that misbehaves on demand: it passes bytes
//! through, adds latency, cuts the partner's answer off mid-response, or accepts and never
//! answers. The fault is read when a connection is accepted. [`FaultProxy::stall_all`]
//! turns every open connection half-open: it stays open, and nothing more crosses it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// How many bytes of the partner's answer get through before the cut: part of the status
/// line, so the switch cannot tell what the partner said.
const BYTES_BEFORE_CUT: usize = 12;

#[derive(Debug, Clone, Copy)]
pub enum Fault {
    PassThrough,
    /// Waits this long before connecting to the partner.
    Latency(Duration),
    /// Forwards the request, waits for the partner's answer to start, passes a few bytes of
    /// it and closes the connection with a reset.
    CutMidResponse,
    /// Accepts and reads, never connects onwards, never answers.
    BlackHole,
    /// Accepts and closes at once: the other side is down.
    Refuse,
}

pub struct FaultProxy {
    pub addr: SocketAddr,
    fault: Arc<Mutex<Fault>>,
    /// Every connection relayed so far, to sever them all at once.
    relays: Arc<Mutex<Vec<JoinHandle<()>>>>,
    /// Raised to stall the connections open now; each relay holds its sockets, unread.
    stall: Arc<tokio::sync::watch::Sender<u64>>,
    task: JoinHandle<()>,
}

impl FaultProxy {
    pub async fn start(upstream: SocketAddr, fault: Fault) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let fault = Arc::new(Mutex::new(fault));
        let relays = Arc::new(Mutex::new(Vec::new()));
        let stall = Arc::new(tokio::sync::watch::channel(0_u64).0);
        let (shared, tasks, stalls) = (Arc::clone(&fault), Arc::clone(&relays), Arc::clone(&stall));
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let fault = *shared.lock().unwrap();
                let relay = tokio::spawn(relay(client, upstream, fault, stalls.subscribe()));
                tasks.lock().unwrap().push(relay);
            }
        });
        Self {
            addr,
            fault,
            relays,
            stall,
            task,
        }
    }

    /// Severs every connection relayed so far, as a crash or a cable pulled would.
    pub fn cut_all(&self) {
        for relay in self.relays.lock().unwrap().drain(..) {
            relay.abort();
        }
    }

    /// Makes every connection open now half-open, as a peer that vanished without a word
    /// would: the sockets stay open, nothing more is passed either way.
    pub fn stall_all(&self) {
        self.stall.send_modify(|generation| *generation += 1);
    }

    pub fn set(&self, fault: Fault) {
        *self.fault.lock().unwrap() = fault;
    }

    /// The partner's base URL as the switch should see it.
    pub fn base_url(&self) -> String {
        format!("http://{}/qr/v1", self.addr)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
        self.cut_all();
    }
}

async fn relay(
    mut client: TcpStream,
    upstream: SocketAddr,
    fault: Fault,
    mut stall: tokio::sync::watch::Receiver<u64>,
) {
    match fault {
        Fault::BlackHole => {
            let mut sink = [0_u8; 4096];
            while let Ok(n) = client.read(&mut sink).await {
                if n == 0 {
                    return;
                }
            }
        }
        Fault::PassThrough | Fault::Latency(_) => {
            if let Fault::Latency(wait) = fault {
                tokio::time::sleep(wait).await;
            }
            let Ok(mut server) = TcpStream::connect(upstream).await else {
                return;
            };
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                _ = stall.changed() => {
                    // Half-open: hold both sockets, read nothing, until the proxy goes.
                    std::future::pending::<()>().await;
                }
            }
        }
        Fault::CutMidResponse => cut_mid_response(client, upstream).await,
        Fault::Refuse => drop(client),
    }
}

async fn cut_mid_response(client: TcpStream, upstream: SocketAddr) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    // Closing with a zero linger sends a reset, not an orderly end of stream. (Deprecated
    // because a non-zero linger blocks the thread on drop; a zero one returns at once.)
    #[allow(deprecated)]
    let _ = client.set_linger(Some(Duration::ZERO));
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let forward = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
        client_read
    });
    // The partner has decided once its answer starts to arrive.
    let mut answer = vec![0_u8; BYTES_BEFORE_CUT];
    if server_read.read_exact(&mut answer).await.is_ok() {
        let _ = client_write.write_all(&answer).await;
    }
    forward.abort();
    drop(client_write);
}
