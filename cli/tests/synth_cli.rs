//! `wave synth`: writes a corpus and reports it; bad options fail with clear messages.

use std::path::PathBuf;
use std::process::{Command, Output};

fn wave(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wave"))
        .args(args)
        .output()
        .expect("run wave")
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("synth_cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn synth_writes_a_corpus_and_refuses_to_overwrite_it() {
    let out = scratch("ok");
    let o = wave(&[
        "synth",
        "--seed",
        "4",
        "--count",
        "6",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let report = text(&o);
    for word in ["train", "val", "test", "scenes", "questions"] {
        assert!(report.contains(word), "{report}");
    }
    for split in ["train", "val", "test"] {
        assert!(out.join(split).join("manifest.jsonl").is_file());
        assert!(out.join(split).join("corpus.jsonl").is_file());
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("corpus.json")).expect("corpus.json"))
            .expect("json");
    assert_eq!(summary["seed"], 4);
    assert!(summary["melodies"].as_array().expect("melodies").len() >= 30);

    let again = wave(&[
        "synth",
        "--seed",
        "4",
        "--count",
        "6",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert!(!again.status.success());
    assert!(text(&again).contains("not empty"), "{}", text(&again));

    let forced = wave(&[
        "synth",
        "--seed",
        "4",
        "--count",
        "6",
        "--force",
        "--json",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert!(forced.status.success(), "{}", text(&forced));
    let printed: serde_json::Value =
        serde_json::from_slice(&forced.stdout).expect("--json prints JSON");
    assert_eq!(printed["splits"][0]["scenes"], 2);
    std::fs::remove_dir_all(&out).expect("clean up");
}

#[test]
fn bad_options_fail_clearly() {
    let out = scratch("bad");
    let path = out.to_str().expect("utf-8");
    let o = wave(&["synth", "--size", "huge", "--out", path]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("unknown corpus size \"huge\""),
        "{}",
        text(&o)
    );

    let o = wave(&["synth", "--count", "0", "--out", path]);
    assert!(!o.status.success());
    assert!(text(&o).contains("at least 6"), "{}", text(&o));
    assert!(!out.exists(), "nothing is written for bad options");

    std::fs::create_dir_all(&out).expect("mkdir");
    let file = out.join("plain-file");
    std::fs::write(&file, b"x").expect("write");
    let under_file = file.join("corpus");
    let o = wave(&[
        "synth",
        "--count",
        "6",
        "--out",
        under_file.to_str().expect("utf-8"),
    ]);
    assert!(!o.status.success());
    assert!(text(&o).contains("plain-file"), "{}", text(&o));
    std::fs::remove_dir_all(&out).expect("clean up");
}
