//! Resolutions ahead of the QR traffic. A payer waits on a proxy resolution, and Electrum
//! allows one second end to end; on a busy switch the shared runtime's threads are running
//! projector passes, dispatch and QR handlers, and a task (or a database socket's wake-up)
//! queued there waits its turn. Resolutions therefore read the registry and record their
//! answer on a runtime of their own, one thread that mostly sleeps, whose database
//! connections and append writer (`app::resolution_store`) live on it, so the kernel
//! runs it as soon as a resolution arrives.

use std::future::Future;

use tokio::runtime::{Builder, Handle, Runtime};

/// The resolutions' runtime; shut down (without waiting) when the instance is dropped.
pub struct PriorityRuntime(Option<Runtime>);

impl PriorityRuntime {
    pub fn start() -> std::io::Result<Self> {
        let runtime = Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("qrswitch-resolve")
            .enable_all()
            .build()?;
        Ok(Self(Some(runtime)))
    }

    /// A handle to spawn on; a task spawned after the shutdown is cancelled at once.
    pub fn handle(&self) -> Option<Handle> {
        self.0.as_ref().map(|runtime| runtime.handle().clone())
    }
}

impl Drop for PriorityRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            // Dropped inside an async context (tests, shutdown): never block there.
            runtime.shutdown_background();
        }
    }
}

/// Runs `work` on the resolutions' runtime where there is one, else where it was called;
/// `None` if that runtime shut down before the work finished.
pub async fn run<T: Send + 'static>(
    runtime: Option<&Handle>,
    work: impl Future<Output = T> + Send + 'static,
) -> Option<T> {
    use tracing::Instrument;
    let work = work.in_current_span();
    match runtime {
        Some(runtime) => runtime.spawn(work).await.ok(),
        None => Some(work.await),
    }
}
