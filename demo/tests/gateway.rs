//! The demo's HTTP gateway on a real socket, with a real video and thumbnail made by ffmpeg,
//! and the engine's gRPC address pointing at a port where nothing listens: the page and media
//! are served, byte ranges are honoured, recordings are checked before the engine is asked,
//! and an engine that is down gets a clear JSON error instead of a hang.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use wave_demo::library::{DemoLibrary, LibraryVideo};
use wave_demo::wav::wav_pcm16;
use wave_demo::{router, GatewayConfig};

/// A 2 s test-pattern video with a tone, and its thumbnail.
fn library(dir: &Path) -> DemoLibrary {
    let video = dir.join("clip.av.mp4");
    let status = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
        .args([
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=112x112:rate=8:duration=2",
        ])
        .args(["-f", "lavfi", "-i", "sine=frequency=330:duration=2"])
        .args([
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
        ])
        .arg(&video)
        .status()
        .expect("ffmpeg must be installed (scripts/setup.sh)");
    assert!(status.success());
    let lib = DemoLibrary {
        root: dir.to_path_buf(),
        videos: vec![LibraryVideo {
            id: "clip.av".into(),
            path: video.clone(),
            title: "test pattern".into(),
            caption: "a test pattern with a tone".into(),
            duration_s: 2.0,
            melody: None,
            tags: vec![],
        }],
        hums: vec![],
    };
    std::fs::create_dir_all(lib.thumbs_dir()).unwrap();
    wave_demo::thumbnail::extract_frame(&video, 1.0, &lib.thumbnail_path("clip.av")).unwrap();
    lib
}

/// A port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Answer {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn header(&self, name: &str) -> Option<String> {
        self.headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
}

/// One HTTP/1.1 request over a plain socket.
fn request(addr: &str, method: &str, path: &str, extra: &str, body: &[u8]) -> Answer {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n{extra}\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP answer");
    let headers = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = headers
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap();
    Answer {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

#[test]
fn gateway_serves_the_page_media_and_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let lib = Arc::new(library(dir.path()));
    let video_bytes = std::fs::read(&lib.videos[0].path).unwrap();
    let engine = format!("http://127.0.0.1:{}", closed_port());
    let rt = tokio::runtime::Runtime::new().unwrap();
    // The gRPC channel is created inside the runtime.
    let _in_runtime = rt.enter();
    let app = router(
        lib,
        GatewayConfig {
            grpc_url: engine.clone(),
            top_k: 10,
            timeout: Duration::from_secs(10),
        },
    )
    .unwrap();

    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(wave_demo::gateway::serve(listener, app, async {
        let _ = stopped.await;
    }));

    // The page and its assets.
    let page = request(&addr, "GET", "/", "", b"");
    assert_eq!(page.status, 200);
    assert!(String::from_utf8_lossy(&page.body).contains("hum to find a video"));
    let js = request(&addr, "GET", "/app.js", "", b"");
    assert_eq!(js.status, 200);
    assert!(js
        .header("content-type")
        .unwrap()
        .starts_with("text/javascript"));

    // Media: whole, ranged (what a <video> seeking to #t= asks for), and refused ranges.
    let whole = request(&addr, "GET", "/api/videos/clip.av", "", b"");
    assert_eq!(whole.status, 200);
    assert_eq!(whole.body, video_bytes);
    assert_eq!(whole.header("accept-ranges").as_deref(), Some("bytes"));
    let part = request(
        &addr,
        "GET",
        "/api/videos/clip.av",
        "Range: bytes=100-299\r\n",
        b"",
    );
    assert_eq!(part.status, 206);
    assert_eq!(part.body, &video_bytes[100..300]);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 100-299/{}", video_bytes.len()))
    );
    let past = format!("Range: bytes={}-\r\n", video_bytes.len());
    assert_eq!(
        request(&addr, "GET", "/api/videos/clip.av", &past, b"").status,
        416
    );
    let thumb = request(&addr, "GET", "/api/thumbs/clip.av", "", b"");
    assert_eq!(thumb.status, 200);
    assert!(thumb.body.starts_with(&[0xFF, 0xD8]), "a JPEG");
    let missing = request(&addr, "GET", "/api/thumbs/..%2Fclip.av.mp4", "", b"");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"]["code"], "not_found");

    // Recordings are checked before the engine is asked.
    let silence = wav_pcm16(&[0.0; 48_000], 16_000);
    let a = request(&addr, "POST", "/api/search?format=wav", "", &silence);
    assert_eq!(
        (a.status, a.json()["error"]["code"].as_str()),
        (422, Some("silent"))
    );
    let blip = wav_pcm16(&[0.3; 8_000], 16_000);
    let a = request(
        &addr,
        "POST",
        "/api/search?format=wav&name=blip.wav",
        "",
        &blip,
    );
    assert_eq!(a.status, 422);
    let msg = a.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(msg.starts_with("blip.wav is 0.5 s long"), "{msg}");
    let a = request(&addr, "POST", "/api/search?mode=loud", "", &blip);
    assert_eq!(a.status, 400);

    // A good recording, but the engine is down: 503 naming the engine, not a hang.
    let tone: Vec<f32> = (0..32_000)
        .map(|i| 0.3 * (i as f32 * 220.0 * std::f32::consts::TAU / 16_000.0).sin())
        .collect();
    let a = request(
        &addr,
        "POST",
        "/api/search?format=wav",
        "",
        &wav_pcm16(&tone, 16_000),
    );
    assert_eq!(a.status, 503, "{}", String::from_utf8_lossy(&a.body));
    let err = a.json();
    println!("engine down: {err}");
    assert_eq!(err["error"]["code"], "engine_unavailable");
    assert!(
        err["error"]["message"].as_str().unwrap().contains(&engine),
        "{err}"
    );
    let info = request(&addr, "GET", "/api/info", "", b"");
    assert_eq!(info.status, 503);

    let _ = stop.send(());
    rt.block_on(server).unwrap().unwrap();
}
