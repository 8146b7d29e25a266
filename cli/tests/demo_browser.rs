//! `wave demo` in a real browser: the real binary on a free port (a 20-scene library, generated
//! and ingested by the demo itself), driven by headless Chromium through playwright-core with
//! the microphone faked from a hummed WAV: demo/tests/browser/demo.test.mjs. It records, uploads,
//! hits the error paths, and — when the script asks — this test stops the server so the page
//! can report it. Screenshots land in `<target>/tmp/demo-browser/`.
//!
//! The page and wave's gRPC API share that one port: before the browser, tonic's generated
//! client searches with a library hum on it; after, the demo's log shows one `rpc` event per
//! Search, the client's and the page's gateway's alike.
//!
//! Needs Debian's `chromium` and `npm ci` in demo/tests/browser (scripts/setup.sh does both).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use wave_query::pb;
use wave_query::pb::wave_client::WaveClient;

const CHROMIUM: &str = "/usr/bin/chromium";
/// Scenes of the test library: 20 videos, 6 of them melody scenes whose hums are the queries.
const LIBRARY_SCENES: &str = "20";

fn checkout() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `--model` for the demo: nothing when the checkout has the default model (the demo then uses
/// it, as a user's run would), else the golden tiny model.
fn model_args() -> Vec<String> {
    if checkout().join("models/wave-tiny/config.json").is_file() {
        return vec![];
    }
    let golden = match std::env::var_os("WAVE_GOLDEN_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => checkout().join("../shared/golden/wave-tiny-ref"),
    };
    eprintln!(
        "models/wave-tiny is not in this checkout: the demo runs on {}",
        golden.display()
    );
    vec!["--model".into(), golden.display().to_string()]
}

/// Kills the child when the test ends, however it ends.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Lines of a child's stdout, read on a thread so waits can time out.
fn lines_of(stdout: ChildStdout) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// The body of an HTTP/1.1 GET of `path` on `addr` (the page side of the port).
fn http_get(addr: &str, path: &str) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP answer");
    let head = String::from_utf8_lossy(&raw[..split]);
    assert!(head.starts_with("HTTP/1.1 200"), "GET {path}: {head}");
    raw[split + 4..].to_vec()
}

/// A library hum whose tune one video alone plays, as the browser script picks it.
fn unique_tune_hum(addr: &str) -> Value {
    let samples: Value = serde_json::from_slice(&http_get(addr, "/api/samples")).unwrap();
    let samples = samples["samples"].as_array().unwrap().clone();
    let plays = |tune: &Value| samples.iter().filter(|s| s["melody_name"] == *tune).count();
    samples
        .iter()
        .find(|s| plays(&s["melody_name"]) == 1)
        .expect("a hum of a tune that one video plays")
        .clone()
}

/// gRPC on the page's port with tonic's generated client: Stats, and a hum search with a
/// library hum whose video must come back in the top 3 (the page's own criterion).
fn grpc_hum_search(addr: &str) {
    let hum = unique_tune_hum(addr);
    let wav = http_get(addr, hum["url"].as_str().unwrap());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut client = WaveClient::connect(format!("http://{addr}"))
            .await
            .expect("a gRPC connection to the demo's port");
        let stats = client
            .stats(pb::StatsRequest {})
            .await
            .unwrap()
            .into_inner();
        assert!(stats.items > 0, "the library is stored: {stats:?}");
        assert!(!stats.model.is_empty(), "{stats:?}");
        let request = pb::SearchRequest {
            query: Some(pb::Query {
                input: Some(pb::query::Input::Audio(pb::Media {
                    data: wav,
                    format: "wav".into(),
                })),
                prompt: String::new(),
            }),
            modalities: vec![pb::Modality::AudioVideo as i32],
            top_k: 10,
            hum: Some(pb::HumSettings {
                enable: true,
                melody_weight: None,
            }),
            ..Default::default()
        };
        let found = client.search(request).await.unwrap().into_inner();
        let ids: Vec<&str> = found.results.iter().map(|r| r.id.as_str()).collect();
        println!(
            "gRPC on the page's port: model {}, {} items; hum {} (video {}): top 5 {:?}",
            stats.model,
            stats.items,
            hum["id"],
            hum["video_id"],
            &ids[..ids.len().min(5)]
        );
        let video = hum["video_id"].as_str().unwrap();
        assert!(
            ids.iter().take(3).any(|id| *id == video),
            "the hummed video {video} is in the top 3 of the gRPC search: {ids:?}"
        );
    });
}

#[test]
fn hum_search_page_in_headless_chromium() {
    let browser_dir = checkout().join("demo/tests/browser");
    assert!(
        browser_dir.join("node_modules/playwright-core").is_dir(),
        "playwright-core is not installed: run scripts/setup.sh (npm ci in {})",
        browser_dir.display()
    );
    assert!(
        Path::new(CHROMIUM).is_file(),
        "{CHROMIUM} is missing: run scripts/setup.sh (apt chromium)"
    );
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("demo-browser");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let work = tempfile::tempdir().unwrap();
    let demo_log = out.join("wave-demo.log");

    let mut demo = Reaped(
        Command::new(env!("CARGO_BIN_EXE_wave"))
            // JSON logs at info: one `rpc` event per gRPC call, as `wave serve` writes them.
            .args(["--log-format", "json", "--log", "info,hnsw_rs=warn"])
            .args(["demo", "--count", LIBRARY_SCENES])
            .arg("--dir")
            .arg(work.path())
            .args(["--addr", "127.0.0.1:0"])
            .args(model_args())
            .env_remove("WAVE_MODEL")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&demo_log).unwrap())
            .spawn()
            .expect("starting wave demo"),
    );
    let demo_lines = lines_of(demo.0.stdout.take().unwrap());
    // Generating and embedding the library comes first: minutes on a loaded CI machine.
    let mut grpc_addr = None;
    let url = loop {
        match demo_lines.recv_timeout(Duration::from_secs(1200)) {
            Ok(line) => {
                if let Some(addr) = line.strip_prefix("listening on ") {
                    grpc_addr = Some(addr.to_string());
                }
                if let Some(url) = line.strip_prefix("demo on ") {
                    break url.to_string();
                }
            }
            Err(_) => panic!(
                "wave demo did not come up ({:?}):\n{}",
                demo.0.try_wait(),
                log_tail(&demo_log)
            ),
        }
    };
    let grpc_addr = grpc_addr.expect("a `listening on` line before `demo on`");
    assert_eq!(
        url,
        format!("http://{grpc_addr}/"),
        "the page and the gRPC API share one address"
    );
    grpc_hum_search(&grpc_addr);

    let mut node = Reaped(
        Command::new("node")
            .arg(browser_dir.join("demo.test.mjs"))
            .args(["--url", &url, "--chromium", CHROMIUM])
            .arg("--out")
            .arg(&out)
            .current_dir(&browser_dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("node must be installed (scripts/setup.sh)"),
    );
    let mut node_stdin = node.0.stdin.take();
    let node_lines = lines_of(node.0.stdout.take().unwrap());
    let mut transcript = Vec::new();
    let mut server_stopped = false;
    // A line at least every few seconds; minutes of silence mean a hang.
    while let Ok(line) = node_lines.recv_timeout(Duration::from_secs(300)) {
        println!("{line}");
        if line == "READY_FOR_SERVER_STOP" {
            // A graceful stop, as Ctrl-C would do it.
            let pid = demo.0.id().to_string();
            let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
            assert!(killed.success(), "kill -TERM {pid}");
            let status = demo.0.wait().unwrap();
            assert!(
                status.success(),
                "wave demo exited with {status} on SIGTERM"
            );
            server_stopped = true;
            // Answered, then closed: the script needs nothing more.
            if let Some(mut stdin) = node_stdin.take() {
                writeln!(stdin, "stopped").unwrap();
            }
        }
        transcript.push(line);
    }
    // Its stdout closed (it exited) or it went quiet for too long (a hang: Reaped kills it).
    let mut status = None;
    for _ in 0..300 {
        status = node.0.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let status =
        status.unwrap_or_else(|| panic!("the browser test hung:\n{}", transcript.join("\n")));
    let transcript = transcript.join("\n");
    assert!(
        status.success() && transcript.contains("all browser checks passed"),
        "the browser test failed ({status}):\n{transcript}\n--- wave demo log ---\n{}",
        log_tail(&demo_log)
    );
    assert!(server_stopped, "the script never asked to stop the server");

    // One `rpc` event per Search on that port: the test's client and the gateway's record and
    // upload (the silent and too-short recordings are refused before the engine is asked).
    let log = std::fs::read_to_string(&demo_log).unwrap();
    let searches: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["message"] == "rpc" && e["method"] == "wave.v1.Wave/Search")
        .collect();
    assert_eq!(searches.len(), 3, "Search events: {searches:#?}");
    for event in &searches {
        assert_eq!(event["code"], "Ok", "{event}");
        assert!(
            event["peer"]
                .as_str()
                .is_some_and(|p| p.starts_with("127.0.0.1:")),
            "{event}"
        );
    }
    for shot in [
        "demo.png",
        "demo-record.png",
        "demo-upload.png",
        "demo-silent.png",
        "demo-mic-denied.png",
        "demo-server-down.png",
    ] {
        let bytes = std::fs::read(out.join(shot)).unwrap_or_default();
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
            "screenshot {shot} is missing or empty"
        );
    }
}
