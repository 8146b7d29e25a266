//! `wave demo`'s one server on a real socket, over a real RocksDB store: tonic's generated
//! clients (Wave, health, reflection) and plain HTTP/1.1 requests for the page reach the same
//! port; the page's gateway answers through the gRPC API on that port (the API's own metrics
//! count its call); the API keeps its size limit; a stop drains and returns.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use wave_demo::library::DemoLibrary;
use wave_demo::DemoServerConfig;
use wave_index::{SpaceParams, Store, StoreOptions};
use wave_proto::v1 as pb;
use wave_proto::v1::wave_client::WaveClient;
use wave_query::{Searcher, SearcherConfig};

/// One HTTP/1.1 request; the status and the body.
async fn http1(addr: &str, method: &str, path: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    s.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut raw))
        .await
        .expect("an answer within 30 s")
        .unwrap();
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP answer");
    assert!(head.starts_with("HTTP/1.1 "), "{head}");
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, body.to_string())
}

/// The Prometheus counter of `method` calls that ended with `code`.
fn requests(metrics: &str, method: &str, code: &str) -> u64 {
    let key = format!("wave_requests_total{{method=\"{method}\",code=\"{code}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&key))
        .map_or(0, |n| n.trim().parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_clients_and_the_page_share_one_port() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("store"), StoreOptions::default()).unwrap());
    // No model: Stats and the size limit need none; the space a model would have made.
    store
        .create_space(wave_query::DEFAULT_SPACE, SpaceParams::new(64))
        .unwrap();
    let searcher = Arc::new(
        Searcher::new(store, None, SearcherConfig::new(&dir.path().join("store"))).unwrap(),
    );
    let library = Arc::new(DemoLibrary {
        root: dir.path().join("library"),
        videos: vec![],
        hums: vec![],
    });
    let limit = 1 << 20;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(wave_demo::server::serve(
        listener,
        searcher,
        library,
        DemoServerConfig {
            max_message_bytes: limit,
            ..DemoServerConfig::default()
        },
        async {
            let _ = stopped.await;
        },
    ));
    let url = format!("http://{addr}");

    // The page, over HTTP/1.1.
    let (status, page) = http1(&addr, "GET", "/").await;
    assert_eq!(status, 200);
    assert!(page.contains("hum to find a video"), "{page}");

    // wave.v1.Wave with the generated client, over HTTP/2 on the same port.
    let channel = tonic::transport::Endpoint::from_shared(url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut wave = WaveClient::new(channel.clone());
    let stats = wave.stats(pb::StatsRequest {}).await.unwrap().into_inner();
    assert_eq!(stats.items, 0);
    assert_eq!(stats.space, wave_query::DEFAULT_SPACE);

    // The gateway's /api/info is a gRPC Stats call through that port: the API counts it.
    let (status, info) = http1(&addr, "GET", "/api/info").await;
    assert_eq!(status, 200, "{info}");
    let info: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert_eq!(info["items"], 0);
    assert_eq!(info["space"], wave_query::DEFAULT_SPACE);
    let (status, metrics) = http1(&addr, "GET", "/metrics").await;
    assert_eq!(status, 200);
    assert_eq!(
        requests(&metrics, "Stats", "Ok"),
        2,
        "the client's and the gateway's Stats:\n{metrics}"
    );

    // Health and reflection.
    let mut health = HealthClient::new(channel.clone());
    for service in ["", "wave.v1.Wave"] {
        let answer = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(answer.status(), ServingStatus::Serving, "{service:?}");
    }
    let mut reflection = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = reflection
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let answer = answers
        .message()
        .await
        .unwrap()
        .expect("a reflection answer");
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        panic!("not a service list: {answer:?}");
    };
    let names: Vec<&str> = list.service.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&"wave.v1.Wave"), "{names:?}");
    assert!(names.contains(&"grpc.health.v1.Health"), "{names:?}");

    // The size limit: a 2 MiB query against a 1 MiB limit.
    let big = pb::SearchRequest {
        query: Some(pb::Query {
            input: Some(pb::query::Input::Audio(pb::Media {
                data: vec![1; 2 << 20],
                format: "wav".into(),
            })),
            prompt: String::new(),
        }),
        top_k: 1,
        ..Default::default()
    };
    let refused = wave.search(big).await.unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(
        refused.message().contains("larger than the server's limit"),
        "{refused:?}"
    );

    // A browser's GET of a gRPC path is not a gRPC call: the page side answers.
    let (status, _) = http1(&addr, "GET", "/wave.v1.Wave/Stats").await;
    assert_eq!(status, 404);

    // Stop: the server returns although clients (the gateway's own included) hold
    // connections.
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .expect("the server stops within 30 s")
        .unwrap()
        .unwrap();
    assert!(tokio::net::TcpStream::connect(&addr).await.is_err());
}
