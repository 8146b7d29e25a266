//! Recordings as the page sends them, made by the system ffmpeg in the formats browsers and
//! users produce (webm/opus like Chromium's MediaRecorder, ogg/opus, mp3, wav), through the
//! real decoders: what is accepted, and the error a user sees for each bad recording.

use std::path::Path;
use std::process::Command;

use wave_demo::recording::{Recording, RecordingError, MAX_UPLOAD_BYTES};

/// Encodes `seconds` of an ffmpeg lavfi source into `format` and returns the bytes.
fn encode(source: &str, seconds: f64, format: &str, dir: &Path) -> Vec<u8> {
    let out = dir.join(format!("clip.{format}"));
    let codec: &[&str] = match format {
        "webm" | "ogg" => &["-c:a", "libopus", "-b:a", "48k"],
        "mp3" => &["-c:a", "libmp3lame"],
        _ => &[],
    };
    let status = Command::new("ffmpeg")
        .args([
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
        ])
        .arg("-i")
        .arg(format!("{source}:d={seconds}"))
        .args(["-ar", "48000", "-ac", "1"])
        .args(codec)
        .arg(&out)
        .status()
        .expect("ffmpeg must be installed (scripts/setup.sh)");
    assert!(status.success(), "ffmpeg could not make a {format} file");
    std::fs::read(out).unwrap()
}

/// A hum-like steady tone at 220 Hz.
const HUM: &str = "sine=frequency=220:sample_rate=48000";
const SILENCE: &str = "anullsrc=r=48000:cl=mono";

#[test]
fn webm_opus_from_a_browser_decodes_to_16k_mono() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = encode(HUM, 2.5, "webm", dir.path());
    let rec = Recording::decode(&bytes, "audio/webm;codecs=opus", "the recording").unwrap();
    assert!(
        (rec.duration_s - 2.5).abs() < 0.1,
        "duration {}",
        rec.duration_s
    );
    // lavfi's sine has amplitude 1/8: -21 dBFS RMS.
    assert!(
        (rec.peak_level_dbfs + 21.0).abs() < 2.0,
        "level {}",
        rec.peak_level_dbfs
    );
    // What the engine receives: a 16 kHz mono 16-bit WAV of the same length.
    let wav = rec.to_wav();
    assert_eq!(&wav[..4], b"RIFF");
    assert_eq!(u32::from_le_bytes(wav[24..28].try_into().unwrap()), 16_000);
    assert_eq!(wav.len(), 44 + rec.pcm_16k.len() * 2);
}

#[test]
fn other_upload_formats_decode() {
    let dir = tempfile::tempdir().unwrap();
    for (format, mime) in [
        ("ogg", "audio/ogg"),
        ("mp3", "audio/mpeg"),
        ("wav", "hum.wav"),
    ] {
        let bytes = encode(HUM, 2.0, format, dir.path());
        let rec =
            Recording::decode(&bytes, mime, "upload").unwrap_or_else(|e| panic!("{format}: {e}"));
        assert!(
            (rec.duration_s - 2.0).abs() < 0.1,
            "{format}: {}",
            rec.duration_s
        );
    }
}

#[test]
fn silence_is_refused_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = encode(SILENCE, 3.0, "webm", dir.path());
    let err = Recording::decode(&bytes, "webm", "the recording").unwrap_err();
    assert!(matches!(err, RecordingError::Silent { .. }), "{err}");
    assert_eq!(err.code(), "silent");
    assert!(err.to_string().contains("microphone"), "{err}");
}

#[test]
fn too_short_and_too_long_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let short = encode(HUM, 0.5, "webm", dir.path());
    let err = Recording::decode(&short, "webm", "the recording").unwrap_err();
    assert_eq!(err.code(), "too_short", "{err}");
    assert!(err.to_string().contains("at least 1 s"), "{err}");

    let long = encode(HUM, 31.0, "ogg", dir.path());
    let err = Recording::decode(&long, "ogg", "long.ogg").unwrap_err();
    assert_eq!(err.code(), "too_long", "{err}");
    assert!(
        err.to_string().starts_with("long.ogg is 31.0 s long"),
        "{err}"
    );
}

#[test]
fn undecodable_empty_and_oversized_uploads_are_named() {
    let err = Recording::decode(b"", "webm", "the recording").unwrap_err();
    assert_eq!(err.code(), "empty");

    let junk: Vec<u8> = (0..4000u32).map(|i| (i * 7919 % 251) as u8).collect();
    let err = Recording::decode(&junk, "audio/webm", "notes.webm").unwrap_err();
    assert_eq!(err.code(), "undecodable", "{err}");
    let msg = err.to_string();
    assert!(msg.starts_with("notes.webm could not be decoded"), "{msg}");
    // The server's temp file is not the user's business.
    assert!(!msg.contains("wave-demo-query-"), "{msg}");

    let text = b"this is a text file, not a recording\n".repeat(20);
    let err = Recording::decode(&text, "wav", "notes.wav").unwrap_err();
    assert_eq!(err.code(), "undecodable", "{err}");

    let huge = vec![1u8; MAX_UPLOAD_BYTES + 1];
    let err = Recording::decode(&huge, "wav", "huge.wav").unwrap_err();
    assert_eq!(err.code(), "too_large", "{err}");
}
