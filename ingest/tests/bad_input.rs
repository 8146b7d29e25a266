//! Bad input of every kind gives a typed error naming the path, never a panic.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{ffmpeg, tone, video, Track};
use wave_ingest::{
    decode_audio, decode_audio_with, decode_video, load_text, AudioOptions, IngestError, Limits,
    VideoOptions,
};

/// Checks that `err` names `path` (in `path()` and in its message) and returns it.
fn names(err: IngestError, path: &Path) -> IngestError {
    println!("{err}");
    assert_eq!(err.path(), Some(path), "{err}");
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        err.to_string().contains(&name),
        "message lacks the path: {err}"
    );
    err
}

fn audio_err(path: &Path) -> IngestError {
    match decode_audio(path) {
        Ok(a) => panic!("{path:?} decoded to {} s of audio", a.duration),
        Err(e) => names(e, path),
    }
}

fn video_err(path: &Path) -> IngestError {
    video_err_with(path, &VideoOptions::default())
}

fn video_err_with(path: &Path, opts: &VideoOptions) -> IngestError {
    match decode_video(path, opts) {
        Ok(v) => panic!("{path:?} decoded to {} frames", v.num_frames()),
        Err(e) => names(e, path),
    }
}

/// Deterministic pseudo-random bytes (no text-like runs: NUL and high bytes appear).
fn noise_bytes(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 56) as u8
        })
        .collect()
}

fn truncate(src: &Path, dst: &Path, fraction: f64) -> PathBuf {
    let bytes = fs::read(src).unwrap();
    fs::write(dst, &bytes[..(bytes.len() as f64 * fraction) as usize]).unwrap();
    dst.to_path_buf()
}

#[test]
fn zero_length_files() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["e.wav", "e.mp3", "e.m4a"] {
        let p = dir.path().join(name);
        fs::write(&p, b"").unwrap();
        assert!(matches!(audio_err(&p), IngestError::Empty { .. }));
    }
    for name in ["e.mp4", "e.webm"] {
        let p = dir.path().join(name);
        fs::write(&p, b"").unwrap();
        assert!(matches!(video_err(&p), IngestError::Empty { .. }));
    }
    let t = dir.path().join("e.txt");
    fs::write(&t, b"").unwrap();
    assert!(matches!(
        names(load_text(&t).unwrap_err(), &t),
        IngestError::Empty { .. }
    ));
}

#[test]
fn unreadable_paths() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.flac");
    assert!(matches!(audio_err(&missing), IngestError::Io { .. }));
    assert!(matches!(
        video_err(&dir.path().join("missing.mkv")),
        IngestError::Io { .. }
    ));
    let t = dir.path().join("missing.md");
    assert!(matches!(
        names(load_text(&t).unwrap_err(), &t),
        IngestError::Io { .. }
    ));
    // A directory with a media name.
    let d = dir.path().join("folder.wav");
    fs::create_dir(&d).unwrap();
    assert!(matches!(audio_err(&d), IngestError::Io { .. }));

    // Without read permission (meaningless when the tests run as root, who reads anyway).
    let locked = tone(dir.path(), "locked.wav", 16_000, 0.5, &[]);
    let mut perms = fs::metadata(&locked).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o000);
    fs::set_permissions(&locked, perms).unwrap();
    if fs::File::open(&locked).is_err() {
        assert!(matches!(audio_err(&locked), IngestError::Io { .. }));
    }
}

#[test]
fn wrong_extension_is_detected_by_content() {
    let dir = tempfile::tempdir().unwrap();
    let text = "This is a plain text file, not a song.\nSecond line: ünïcödé.\n";
    for name in ["notes.mp3", "notes.wav", "notes.ogg"] {
        let p = dir.path().join(name);
        fs::write(&p, text).unwrap();
        match audio_err(&p) {
            IngestError::WrongContent { ext, found, .. } => {
                assert_eq!(ext, name.rsplit('.').next().unwrap());
                assert!(found.contains("text"));
            }
            other => panic!("{other}"),
        }
    }
    for name in ["notes.mp4", "notes.mkv"] {
        let p = dir.path().join(name);
        fs::write(&p, text).unwrap();
        assert!(matches!(video_err(&p), IngestError::WrongContent { .. }));
    }
    // Audio content under a video extension: there is no picture to decode.
    let wav = tone(dir.path(), "sound.wav", 16_000, 1.0, &[]);
    let as_mp4 = dir.path().join("sound.mp4");
    fs::copy(&wav, &as_mp4).unwrap();
    assert!(matches!(
        video_err(&as_mp4),
        IngestError::MissingStream { what: "video", .. }
    ));
    // Binary data named .txt.
    let bin = dir.path().join("blob.txt");
    fs::write(&bin, noise_bytes(500, 7)).unwrap();
    assert!(matches!(
        names(load_text(&bin).unwrap_err(), &bin),
        IngestError::WrongContent { .. }
    ));
    // Real audio under another audio extension is decoded by its content, not its name.
    let m4a = tone(dir.path(), "real.m4a", 44_100, 1.0, &["-c:a", "aac"]);
    let as_mp3 = dir.path().join("real.mp3");
    fs::copy(&m4a, &as_mp3).unwrap();
    assert!((decode_audio(&as_mp3).unwrap().duration - 1.0).abs() < 0.1);
}

#[test]
fn corrupt_files() {
    let dir = tempfile::tempdir().unwrap();
    for (i, name) in [
        "junk.wav",
        "junk.flac",
        "junk.mp3",
        "junk.ogg",
        "junk.m4a",
        "junk.aac",
    ]
    .iter()
    .enumerate()
    {
        let p = dir.path().join(name);
        fs::write(&p, noise_bytes(20_000, i as u64)).unwrap();
        let e = audio_err(&p);
        assert!(matches!(e, IngestError::Corrupt { .. }), "{name}: {e}");
    }
    for (i, name) in ["junk.mp4", "junk.mkv", "junk.webm", "junk.mov"]
        .iter()
        .enumerate()
    {
        let p = dir.path().join(name);
        fs::write(&p, noise_bytes(20_000, 100 + i as u64)).unwrap();
        let e = video_err(&p);
        assert!(matches!(e, IngestError::Corrupt { .. }), "{name}: {e}");
    }
    // A valid FLAC whose stream header is overwritten.
    let flac = tone(dir.path(), "hdr.flac", 44_100, 1.0, &["-c:a", "flac"]);
    let mut bytes = fs::read(&flac).unwrap();
    bytes[4..60].iter_mut().for_each(|b| *b = 0xAB);
    fs::write(&flac, bytes).unwrap();
    let e = audio_err(&flac);
    assert!(matches!(e, IngestError::Corrupt { .. }), "{e}");
}

#[test]
fn truncated_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Containers that declare their length (or streams cut inside a packet): half a file is
    // caught. (A raw ADTS stream declares nothing, so a cut at a frame boundary is invisible.)
    for (name, args) in [
        ("t.wav", &["-c:a", "pcm_s16le"][..]),
        ("t.flac", &["-c:a", "flac"]),
        ("t.mp3", &["-c:a", "libmp3lame"]),
        ("t.ogg", &["-c:a", "libvorbis"]),
        ("t.webm", &["-c:a", "libvorbis"]),
    ] {
        let full = tone(d, name, 44_100, 4.0, args);
        let cut = truncate(&full, &d.join(format!("cut_{name}")), 0.5);
        let e = audio_err(&cut);
        assert!(matches!(e, IngestError::Truncated { .. }), "{name}: {e}");
    }
    // An M4A (index at the end) loses its index: unreadable.
    let m4a = tone(d, "t.m4a", 44_100, 4.0, &["-c:a", "aac"]);
    let cut = truncate(&m4a, &d.join("cut_t.m4a"), 0.5);
    assert!(matches!(audio_err(&cut), IngestError::Corrupt { .. }));
    // MP4 with the index up front: frames stop early.
    let mp4 = video(
        d,
        "fs.mp4",
        320,
        240,
        6.0,
        Track::Tone,
        &["-c:v", "libx264", "-c:a", "aac", "-movflags", "+faststart"],
    );
    let cut = truncate(&mp4, &d.join("cut_fs.mp4"), 0.5);
    assert!(matches!(video_err(&cut), IngestError::Truncated { .. }));
    // MKV: the header declares 6 s.
    let mkv = video(
        d,
        "t.mkv",
        320,
        240,
        6.0,
        Track::Tone,
        &["-c:v", "libx264", "-c:a", "flac"],
    );
    let cut = truncate(&mkv, &d.join("cut.mkv"), 0.5);
    assert!(matches!(video_err(&cut), IngestError::Truncated { .. }));
    // MP4 with the index at the end: the index is gone, the file cannot be read at all.
    let mp4 = video(
        d,
        "end.mp4",
        320,
        240,
        6.0,
        Track::Tone,
        &["-c:v", "libx264", "-c:a", "aac"],
    );
    let cut = truncate(&mp4, &d.join("cut_end.mp4"), 0.5);
    match video_err(&cut) {
        IngestError::Corrupt { reason, .. } => assert!(reason.contains("moov"), "{reason}"),
        other => panic!("{other}"),
    }
}

#[test]
fn unsupported_codecs() {
    let dir = tempfile::tempdir().unwrap();
    // A WAV whose format tag no decoder knows.
    let wav = tone(dir.path(), "odd.wav", 16_000, 1.0, &["-c:a", "pcm_s16le"]);
    let mut bytes = fs::read(&wav).unwrap();
    let tag = bytes.windows(4).position(|w| w == b"fmt ").unwrap() + 8;
    bytes[tag..tag + 2].copy_from_slice(&[0x12, 0x34]);
    fs::write(&wav, bytes).unwrap();
    assert!(matches!(
        audio_err(&wav),
        IngestError::UnsupportedCodec { .. }
    ));
    // An MP4 whose video sample entry is an unknown four-character code.
    let mp4 = video(
        dir.path(),
        "odd.mp4",
        160,
        120,
        1.0,
        Track::None,
        &["-c:v", "libx264"],
    );
    let bytes = fs::read(&mp4).unwrap();
    let patched: Vec<u8> = {
        let mut out = bytes.clone();
        for i in 0..bytes.len().saturating_sub(4) {
            if &bytes[i..i + 4] == b"avc1" {
                out[i..i + 4].copy_from_slice(b"zzzz");
            }
        }
        out
    };
    fs::write(&mp4, patched).unwrap();
    match video_err(&mp4) {
        IngestError::UnsupportedCodec { codec, .. } => assert!(codec.contains("zzzz"), "{codec}"),
        other => panic!("{other}"),
    }
    // Opus is outside symphonia: the ffmpeg fallback decodes it instead of failing.
    let opus = tone(dir.path(), "voice.ogg", 48_000, 1.0, &["-c:a", "libopus"]);
    let audio = decode_audio(&opus).unwrap();
    assert!((audio.duration - 1.0).abs() < 0.05, "{}", audio.duration);
}

#[test]
fn absurd_resolution() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.mkv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=size=20000x16:rate=1:duration=1",
        "-c:v",
        "ffv1",
        path.to_str().unwrap(),
    ]);
    match video_err(&path) {
        IngestError::Resolution {
            width,
            height,
            max_side,
            ..
        } => {
            assert_eq!((width, height, max_side), (20000, 16, 16384))
        }
        other => panic!("{other}"),
    }
    // The limit is configurable.
    let small = video(
        dir.path(),
        "small.mp4",
        320,
        240,
        1.0,
        Track::None,
        &["-c:v", "libx264"],
    );
    let opts = VideoOptions {
        limits: Limits {
            max_side: 300,
            ..Default::default()
        },
        ..Default::default()
    };
    assert!(matches!(
        video_err_with(&small, &opts),
        IngestError::Resolution { .. }
    ));
}

#[test]
fn absurd_duration() {
    assert_eq!(Limits::default().max_duration_s, 86_400.0);
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_duration_s: 2.0,
        ..Default::default()
    };
    let audio_opts = AudioOptions {
        limits,
        ..Default::default()
    };
    // Declared length (wav), no declared length (ADTS AAC, found while decoding) and the
    // ffmpeg path (opus).
    for (name, args) in [
        ("long.wav", &["-c:a", "pcm_s16le"][..]),
        ("long.aac", &["-c:a", "aac", "-f", "adts"]),
        ("long.ogg", &["-c:a", "libopus"]),
    ] {
        let p = tone(dir.path(), name, 48_000, 3.0, args);
        match decode_audio_with(&p, &audio_opts).map_err(|e| names(e, &p)) {
            Err(IngestError::TooLong {
                duration_s, max_s, ..
            }) => {
                assert_eq!(max_s, 2.0);
                assert!(duration_s > 2.0, "{name}: {duration_s}");
            }
            other => panic!("{name}: {other:?}"),
        }
        assert!(
            decode_audio(&p).is_ok(),
            "{name} is fine under the default limit"
        );
    }
    let v = video(
        dir.path(),
        "long.mp4",
        160,
        120,
        3.0,
        Track::Tone,
        &["-c:v", "libx264", "-c:a", "aac"],
    );
    let opts = VideoOptions {
        limits,
        ..Default::default()
    };
    assert!(matches!(
        video_err_with(&v, &opts),
        IngestError::TooLong { .. }
    ));
}
