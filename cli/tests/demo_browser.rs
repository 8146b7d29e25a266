//! `wave demo` in a real browser: the real binary on free ports (a 20-scene library, generated
//! and ingested by the demo itself), driven by headless Chromium through playwright-core with
//! the microphone faked from a hummed WAV: demo/tests/browser/demo.test.mjs. It records, uploads,
//! hits the error paths, and — when the script asks — this test stops the server so the page
//! can report it. Screenshots land in `<target>/tmp/demo-browser/`.
//!
//! Needs Debian's `chromium` and `npm ci` in demo/tests/browser (scripts/setup.sh does both).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

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
            .args(["demo", "--count", LIBRARY_SCENES])
            .arg("--dir")
            .arg(work.path())
            .args(["--addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0"])
            .args(model_args())
            .env_remove("WAVE_MODEL")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&demo_log).unwrap())
            .spawn()
            .expect("starting wave demo"),
    );
    let demo_lines = lines_of(demo.0.stdout.take().unwrap());
    // Generating and embedding the library comes first: minutes on a loaded CI machine.
    let url = loop {
        match demo_lines.recv_timeout(Duration::from_secs(1200)) {
            Ok(line) => {
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
