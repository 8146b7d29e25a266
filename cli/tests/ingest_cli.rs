//! `wave ingest` as users run it: the real binary, media made with ffmpeg, the tiny golden
//! model. Covers the JSON report, exit codes, dry runs, and resuming after a SIGKILL.

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use wave_index::{Store, StoreOptions};

/// The tiny golden model: `$WAVE_GOLDEN_DIR`, else the shared set beside the checkout.
fn model_dir() -> PathBuf {
    match std::env::var_os("WAVE_GOLDEN_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/golden/wave-tiny-ref"),
    }
}

fn wave(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wave"));
    cmd.args(args).stdin(Stdio::null());
    cmd
}

/// `wave ingest <input> --db <db> --model <golden> <extra...>`.
fn ingest(input: &Path, db: &Path, extra: &[&str]) -> Command {
    let model = model_dir();
    let mut args = vec![
        "ingest",
        input.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let mut cmd = wave(&args);
    cmd.env_remove("WAVE_DB").env_remove("WAVE_MODEL");
    cmd
}

fn run(mut cmd: Command) -> Output {
    cmd.output().expect("the wave binary runs")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON report ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg must be installed to run these tests");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A sine of `secs` seconds at 16 kHz as a WAV file.
fn wav(path: &Path, secs: f64, freq: u32) {
    let src = format!("sine=frequency={freq}:sample_rate=16000:duration={secs}");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &src,
        "-c:a",
        "pcm_s16le",
        path.to_str().unwrap(),
    ]);
}

fn store_ids(db: &Path) -> BTreeSet<String> {
    Store::open(db, StoreOptions::default())
        .unwrap()
        .item_ids()
        .unwrap()
        .into_iter()
        .collect()
}

#[test]
fn json_report_rerun_and_dry_run() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    fs::create_dir_all(&input).unwrap();
    fs::write(input.join("a.txt"), "a document about cats").unwrap();
    wav(&input.join("b.wav"), 1.0, 440);
    let video = input.join("c.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=160x120:rate=25:duration=2",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=300:duration=2",
        "-c:v",
        "libx264",
        "-c:a",
        "aac",
        "-shortest",
        video.to_str().unwrap(),
    ]);
    fs::write(
        input.join("bad.mp4"),
        "plain text wearing a video extension\n",
    )
    .unwrap();
    let db = tmp.path().join("db");

    // A dry run lists the plan and creates no store.
    let out = run(ingest(&input, &db, &["--dry-run"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing.contains("ingest") && listing.contains("a.txt"),
        "{listing}"
    );
    assert!(listing.contains("3 to ingest"), "{listing}");
    assert!(!db.exists(), "a dry run must not create the store");

    let out = run(ingest(&input, &db, &["--json"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    assert_eq!(report["ingested"], 3);
    assert_eq!(report["skipped"], 0);
    let failed = report["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{report}");
    assert!(failed[0]["path"].as_str().unwrap().ends_with("bad.mp4"));
    let error = failed[0]["error"].as_str().unwrap();
    assert!(error.contains("bad.mp4: corrupt media"), "{error}");
    // Progress goes to stderr, one line per item when it is not a terminal.
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("ingested") && log.contains("failed"), "{log}");

    let out = run(ingest(&input, &db, &["--json"]));
    assert!(out.status.success());
    let report = json(&out);
    assert_eq!(
        (report["ingested"].as_u64(), report["skipped"].as_u64()),
        (Some(0), Some(3))
    );

    let out = run(ingest(&input, &db, &["--dry-run", "--json"]));
    let plan = json(&out);
    let actions: Vec<&str> = plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["skip", "skip", "fail", "skip"], "{plan}");
    assert_eq!(
        store_ids(&db),
        ["a.txt", "b.wav", "c.mp4"].map(String::from).into()
    );
}

#[test]
fn exit_status_is_an_error_only_when_nothing_could_be_ingested() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    fs::create_dir_all(&input).unwrap();
    fs::write(input.join("empty.wav"), b"").unwrap();
    fs::write(input.join("text.mkv"), "words").unwrap();
    let db = tmp.path().join("db");
    let out = run(ingest(&input, &db, &["--json"]));
    assert!(!out.status.success());
    let report = json(&out);
    assert_eq!(report["ingested"], 0);
    assert_eq!(report["failed"].as_array().unwrap().len(), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing could be ingested"));

    // One good file among bad ones: success.
    fs::write(input.join("ok.md"), "# fine").unwrap();
    let out = run(ingest(&input, &db, &["--json"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out)["ingested"], 1);

    // A model directory that is not one fails before touching anything.
    let out = run({
        let mut c = wave(&[
            "ingest",
            input.to_str().unwrap(),
            "--db",
            tmp.path().join("db2").to_str().unwrap(),
            "--model",
            tmp.path().to_str().unwrap(),
        ]);
        c.env_remove("WAVE_MODEL");
        c
    });
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("config.json"));
    assert!(!tmp.path().join("db2").exists());
}

#[test]
fn a_run_killed_mid_way_resumes_without_duplicates_or_losses() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    fs::create_dir_all(&input).unwrap();
    let mut expected = BTreeSet::new();
    for i in 0..10 {
        let name = format!("doc{i:02}.txt");
        fs::write(
            input.join(&name),
            format!("document {i} about topic {}", i * 7),
        )
        .unwrap();
        expected.insert(name);
    }
    // Audio cut into clips (4 s at a 2 s window, no overlap: two clips each) so that items
    // with several store rows are in flight when the kill comes.
    for i in 0..8 {
        let name = format!("tone{i:02}.wav");
        wav(&input.join(&name), 4.0, 200 + 50 * i);
        expected.insert(format!("{name}#0"));
        expected.insert(format!("{name}#1"));
        expected.insert(name);
    }
    let db = tmp.path().join("db");
    let seg = [
        "--window",
        "2",
        "--overlap",
        "0",
        "--min-clip",
        "1",
        "--batch",
        "1",
    ];

    let mut child = ingest(&input, &db, &seg)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut done = 0;
    while done < 3 {
        let line = lines
            .next()
            .expect("the run ended before three items were stored")
            .unwrap();
        if line.starts_with("ingested") {
            done += 1;
        }
    }
    child.kill().unwrap(); // SIGKILL: no chance to clean up.
    let status = child.wait().unwrap();
    assert!(!status.success());

    let out = run(ingest(&input, &db, &[&seg[..], &["--json"]].concat()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    let (ingested, skipped) = (
        report["ingested"].as_u64().unwrap(),
        report["skipped"].as_u64().unwrap(),
    );
    assert!(report["failed"].as_array().unwrap().is_empty(), "{report}");
    assert_eq!(ingested + skipped, 18, "{report}");
    assert!(skipped >= 3, "what the killed run stored is kept: {report}");
    assert!(ingested >= 1, "the kill came before the end: {report}");

    // Exactly the expected items, each vector once.
    let store = Store::open(&db, StoreOptions::default()).unwrap();
    let ids: BTreeSet<String> = store.item_ids().unwrap().into_iter().collect();
    assert_eq!(ids, expected);
    let stats = store.stats().unwrap();
    let live = |name: &str| stats.spaces.iter().find(|s| s.name == name).unwrap().live;
    assert_eq!(live("wave"), 10 + 16, "one vector per text and per clip");
    assert_eq!(live("wave-file"), 8, "one vector per cut file");
    for i in 0..8 {
        let clip = store.get(&format!("tone{i:02}.wav#1")).unwrap().unwrap();
        assert_eq!(
            clip.parent.as_deref(),
            Some(format!("tone{i:02}.wav").as_str())
        );
        assert_eq!(clip.span, Some((2.0, 4.0)));
    }
    drop(store);

    // And a third run has nothing left to do.
    let out = run(ingest(&input, &db, &[&seg[..], &["--json"]].concat()));
    assert_eq!(json(&out)["skipped"], 18);
}

#[test]
fn a_reader_that_closes_the_pipe_early_ends_a_command_quietly() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    fs::create_dir_all(&input).unwrap();
    for i in 0..5 {
        fs::write(
            input.join(format!("doc{i}.txt")),
            format!("note number {i}"),
        )
        .unwrap();
    }
    let db = tmp.path().join("db");
    let out = run(ingest(&input, &db, &[]));
    assert!(out.status.success(), "{out:?}");

    // `wave search … | head -0`: the reader is gone before wave writes its results.
    let model = model_dir();
    let mut cmd = wave(&[
        "search",
        "--db",
        db.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--text",
        "a note",
    ]);
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
}
