//! Test support for wave-query's integration tests: a RocksDB store in a temporary folder and
//! the real gRPC server on a real socket.
#![allow(dead_code)] // each test binary uses its own part of it

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use wave_index::{Store, StoreOptions};
use wave_query::{QueryError, Searcher, ServeOptions};

/// A store at `dir` that does not sync every write (tests need no crash durability).
pub fn open_store(dir: &Path) -> Arc<Store> {
    Arc::new(
        Store::open(
            dir,
            StoreOptions {
                sync_writes: false,
                ..Default::default()
            },
        )
        .unwrap(),
    )
}

/// `wave_query::serve` on a free local port, until [`TestServer::stop`].
pub struct TestServer {
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), QueryError>>,
}

impl TestServer {
    pub async fn start(searcher: Arc<Searcher>) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(wave_query::serve(
            searcher,
            listener,
            None,
            ServeOptions::default(),
            async {
                let _ = stopped.await;
            },
        ));
        TestServer { addr, stop, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Shuts the server down and checks it stopped cleanly.
    pub async fn stop(self) {
        self.stop.send(()).unwrap();
        self.task.await.unwrap().unwrap();
    }
}
