//! `wave serve --log-format json`: the real binary on a real socket, called with tonic's client.
//! Every stderr line must be a JSON object; each call (answered, refused by a handler, refused by
//! the message-size limit before any handler runs) is one `rpc` event with method, status code,
//! duration and peer; startup and shutdown are logged too.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;
use wave_query::pb;
use wave_query::pb::wave_client::WaveClient;

/// The tiny golden model: `$WAVE_GOLDEN_DIR`, else the shared set beside the checkout.
fn model_dir() -> PathBuf {
    match std::env::var_os("WAVE_GOLDEN_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/golden/wave-tiny-ref"),
    }
}

const LIMIT: usize = 1 << 20;

/// The calls the test makes, with the codes it sees.
async fn calls(addr: &str) -> Vec<(&'static str, tonic::Code, String)> {
    let mut client = WaveClient::connect(format!("http://{addr}"))
        .await
        .expect("connecting to the server");
    let mut seen = vec![];
    let code = |r: Result<tonic::Code, tonic::Status>| match r {
        Ok(c) => (c, String::new()),
        Err(s) => (s.code(), s.message().to_string()),
    };

    let (c, m) = code(
        client
            .stats(pb::StatsRequest {})
            .await
            .map(|_| tonic::Code::Ok),
    );
    seen.push(("wave.v1.Wave/Stats", c, m));

    let (c, m) = code(
        client
            .get(pb::GetRequest {
                id: "no-such-item".into(),
                with_vector: false,
            })
            .await
            .map(|_| tonic::Code::Ok),
    );
    seen.push(("wave.v1.Wave/Get", c, m));

    // Twice the server's per-message limit: refused on the wire, before decoding.
    let huge = pb::SearchRequest {
        query: Some(pb::Query {
            input: Some(pb::query::Input::Text("x".repeat(2 * LIMIT))),
            ..Default::default()
        }),
        ..Default::default()
    };
    let (c, m) = code(client.search(huge).await.map(|_| tonic::Code::Ok));
    seen.push(("wave.v1.Wave/Search", c, m));

    // Still serving afterwards, on the same connection.
    let (c, m) = code(
        client
            .stats(pb::StatsRequest {})
            .await
            .map(|_| tonic::Code::Ok),
    );
    seen.push(("wave.v1.Wave/Stats", c, m));
    seen
}

#[test]
fn json_logs_one_event_per_call_and_only_json_on_stderr() {
    let work = tempfile::tempdir().unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_wave"))
        .args(["--log-format", "json", "serve", "--addr", "127.0.0.1:0"])
        .arg("--db")
        .arg(work.path().join("db"))
        .arg("--model")
        .arg(model_dir())
        .args(["--max-message-bytes", &LIMIT.to_string()])
        // The default filter of `serve` (info) is what is under test.
        .env_remove("WAVE_LOG")
        .env_remove("WAVE_LOG_FORMAT")
        .env_remove("WAVE_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting wave serve");
    let mut stdout = BufReader::new(server.stdout.take().unwrap());
    let mut stderr = server.stderr.take().unwrap();
    let stderr_reader = std::thread::spawn(move || {
        let mut all = String::new();
        stderr.read_to_string(&mut all).unwrap();
        all
    });
    let mut line = String::new();
    let addr = loop {
        line.clear();
        if stdout.read_line(&mut line).unwrap() == 0 {
            let _ = server.kill();
            panic!("server exited early: {}", stderr_reader.join().unwrap());
        }
        if let Some(a) = line.trim().strip_prefix("listening on ") {
            break a.to_string();
        }
    };

    let rt = tokio::runtime::Runtime::new().unwrap();
    let seen = rt.block_on(calls(&addr));
    let expected = [
        tonic::Code::Ok,
        tonic::Code::NotFound,
        tonic::Code::ResourceExhausted,
        tonic::Code::Ok,
    ];
    let codes: Vec<_> = seen.iter().map(|(_, c, _)| *c).collect();
    if codes != expected {
        let _ = server.kill();
        panic!("codes {seen:?}");
    }
    let oversized = &seen[2].2;
    assert!(
        oversized.contains(&format!("limit of {LIMIT} bytes")),
        "the refusal names the limit: {oversized}"
    );

    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let exit = server.wait().unwrap();
    let stderr = stderr_reader.join().unwrap();
    assert!(exit.success(), "exit {exit}: {stderr}");
    assert!(rest.contains("stopped"), "stdout after SIGTERM: {rest:?}");

    let events: Vec<Value> = stderr
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l)
                .unwrap_or_else(|e| panic!("stderr line is not JSON ({e}): {l:?}"))
        })
        .collect();
    for e in &events {
        for key in ["timestamp", "level", "message"] {
            assert!(e.get(key).is_some(), "{key} missing in {e}");
        }
    }
    let message_is = |e: &Value, m: &str| e["message"].as_str().is_some_and(|s| s.starts_with(m));
    let serving = events
        .iter()
        .find(|e| message_is(e, "serving"))
        .expect("a startup event");
    assert_eq!(serving["addr"].as_str(), Some(addr.as_str()), "{serving}");
    assert!(events.iter().any(|e| message_is(e, "shutting down")));
    assert!(events.iter().any(|e| message_is(e, "stopped")));

    let rpcs: Vec<&Value> = events
        .iter()
        .filter(|e| {
            e["message"] == "rpc"
                && e["method"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("wave.v1.Wave/"))
        })
        .collect();
    assert_eq!(rpcs.len(), seen.len(), "one event per Wave call: {rpcs:#?}");
    // Each event is written when its response ends, so match them by content, not order.
    let mut unmatched = rpcs.clone();
    for (method, code, message) in &seen {
        let code_name = format!("{code:?}");
        let at = unmatched
            .iter()
            .position(|e| e["method"] == *method && e["code"] == code_name.as_str())
            .unwrap_or_else(|| panic!("no event for {method} {code_name}: {rpcs:#?}"));
        let event = unmatched.remove(at);
        assert!(event["ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{event}");
        assert!(
            event["peer"]
                .as_str()
                .is_some_and(|p| p.starts_with("127.0.0.1:")),
            "{event}"
        );
        if *code == tonic::Code::Ok {
            assert!(event.get("error").is_none(), "{event}");
        } else {
            assert_eq!(event["error"].as_str(), Some(message.as_str()), "{event}");
        }
    }
}
