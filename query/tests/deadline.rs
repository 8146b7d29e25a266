//! A client deadline the server cannot meet gets DEADLINE_EXCEEDED from the server itself,
//! never a generic CANCELLED: tonic runs its own `grpc-timeout` timer around our service and
//! answers with CANCELLED ("Timeout expired") when that timer wins. A real server on a real
//! socket, tonic's client, a real RocksDB store and the tiny golden model.

#[path = "support/server.rs"]
mod server;
#[path = "support/tunes.rs"]
mod tunes;

use std::sync::Arc;
use std::time::Duration;

use tonic::Code;
use wave_query::pb::wave_client::WaveClient;
use wave_query::{pb, Model, Searcher, SearcherConfig};

use server::{open_store, TestServer};

fn text_search(timeout: Option<Duration>) -> tonic::Request<pb::SearchRequest> {
    let mut request = tonic::Request::new(pb::SearchRequest {
        query: Some(pb::Query {
            input: Some(pb::query::Input::Text("a low hum and a red square".into())),
            ..Default::default()
        }),
        top_k: 5,
        ..Default::default()
    });
    if let Some(t) = timeout {
        request.set_timeout(t);
    }
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_client_deadlines_get_deadline_exceeded_from_the_server() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    let store = open_store(&db);
    let model = Arc::new(Model::load(&tunes::model_dir()).unwrap());
    let searcher = Arc::new(Searcher::new(store, Some(model), SearcherConfig::new(&db)).unwrap());
    let server = TestServer::start(searcher).await;
    let mut client = WaveClient::connect(server.url()).await.unwrap();

    // A deadline that leaves room answers normally.
    client
        .search(text_search(Some(Duration::from_secs(30))))
        .await
        .expect("a search with a 30 s deadline succeeds");

    // Deadlines of a few milliseconds, within the slack the server keeps before a client's
    // deadline: each one is the server's own DEADLINE_EXCEEDED. Not under 4 ms: tonic's client
    // keeps the same timer on its side and answers CANCELLED itself when it fires before the
    // server's answer has crossed the socket.
    let mut answers = Vec::new();
    for round in 0..40u64 {
        let timeout = Duration::from_micros(4000 + 500 * (round % 12));
        let answer = match client.search(text_search(Some(timeout))).await {
            Ok(_) => (Code::Ok, String::new()),
            Err(status) => (status.code(), status.message().to_string()),
        };
        answers.push((timeout, answer.0, answer.1));
    }
    let wrong: Vec<_> = answers
        .iter()
        .filter(|(_, code, message)| {
            *code != Code::DeadlineExceeded || !message.contains("deadline passed")
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {} short deadlines got another answer: {wrong:?}",
        wrong.len(),
        answers.len()
    );

    // The server is still fine afterwards.
    client
        .search(text_search(None))
        .await
        .expect("a search without a deadline succeeds");
    server.stop().await;
}
