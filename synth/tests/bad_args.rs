//! Bad options get clear errors, and nothing is overwritten without `force`.

use wave_synth::{generate, CorpusSize, SynthError, SynthOptions};

fn opts(out: &std::path::Path) -> SynthOptions {
    SynthOptions {
        count: Some(6),
        ..SynthOptions::new(1, out)
    }
}

#[test]
fn unknown_size_and_zero_count_are_refused() {
    let err = "huge".parse::<CorpusSize>().expect_err("unknown size");
    assert!(
        err.to_string().contains("unknown corpus size \"huge\""),
        "{err}"
    );
    assert_eq!(
        "full".parse::<CorpusSize>().expect("full"),
        CorpusSize::Full
    );

    let dir = tempfile::tempdir().expect("tmp");
    for count in [0, 5] {
        let o = SynthOptions {
            count: Some(count),
            ..opts(&dir.path().join("c"))
        };
        let err = generate(&o, &|_, _| {}).expect_err("count too small");
        assert!(matches!(err, SynthError::InvalidArgument(_)), "{err}");
        assert!(err.to_string().contains("at least 6"), "{err}");
    }
    let o = SynthOptions {
        fps: 7,
        ..opts(&dir.path().join("c"))
    };
    assert!(generate(&o, &|_, _| {})
        .expect_err("fps")
        .to_string()
        .contains("fps"));
    assert!(
        !dir.path().join("c").exists(),
        "nothing written for bad options"
    );
}

#[test]
fn unwritable_output_is_an_io_error_naming_the_path() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").expect("write");
    // A folder cannot be created under a regular file (even as root).
    let err = generate(&opts(&file.join("corpus")), &|_, _| {}).expect_err("unwritable");
    assert!(matches!(err, SynthError::Io { .. }), "{err}");
    assert!(err.to_string().contains("a-file"), "{err}");
    let err = generate(&opts(&file), &|_, _| {}).expect_err("a file as --out");
    assert!(err.to_string().contains("not a folder"), "{err}");
}

#[test]
fn non_empty_output_needs_force_which_keeps_other_files() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("corpus");
    std::fs::create_dir(&out).expect("mkdir");
    std::fs::write(out.join("notes.txt"), b"mine").expect("write");
    let err = generate(&opts(&out), &|_, _| {}).expect_err("not empty");
    assert!(matches!(err, SynthError::OutputNotEmpty { .. }), "{err}");
    assert!(err.to_string().contains("--force"), "{err}");
    assert_eq!(
        std::fs::read_dir(&out).expect("ls").count(),
        1,
        "nothing written"
    );

    let forced = SynthOptions {
        force: true,
        ..opts(&out)
    };
    generate(&forced, &|_, _| {}).expect("forced");
    std::fs::write(out.join("train/media/stale.wav"), b"old").expect("write");
    generate(&forced, &|_, _| {}).expect("forced again");
    assert_eq!(std::fs::read(out.join("notes.txt")).expect("kept"), b"mine");
    assert!(
        !out.join("train/media/stale.wav").exists(),
        "an old corpus is replaced, not merged"
    );
    assert!(out.join("corpus.json").is_file());
}
