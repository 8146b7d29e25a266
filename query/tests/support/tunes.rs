//! Test support shared by the melody tests of wave-query and wave-cli (the CLI's tests include
//! it by path): tunes played on a synthetic voice, WAV bytes, MP4s with them as soundtrack, and
//! the golden model's folder.
#![allow(dead_code)] // each test binary uses its own part of it

use std::f32::consts::TAU;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const RATE: u32 = 16_000;

/// The tiny golden model: `$WAVE_GOLDEN_DIR`, else the shared set beside the checkout.
pub fn model_dir() -> PathBuf {
    match std::env::var_os("WAVE_GOLDEN_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/golden/wave-tiny-ref"),
    }
}

/// A tune: (semitones above the tonic, beats).
pub type Tune = &'static [(i32, f32)];

pub const RISING: Tune = &[(0, 1.0), (2, 1.0), (4, 1.0), (7, 2.0), (4, 1.0), (2, 1.0)];
pub const FALLING: Tune = &[(12, 0.5), (9, 0.5), (7, 1.0), (5, 1.0), (0, 2.0), (0, 1.0)];
pub const ZIGZAG: Tune = &[(0, 1.0), (7, 1.0), (2, 1.0), (9, 1.0), (4, 1.0), (11, 2.0)];
pub const REPEATS: Tune = &[(5, 1.0), (5, 1.0), (5, 1.0), (1, 2.0), (3, 1.0), (3, 1.0)];
pub const LEAPS: Tune = &[(0, 1.0), (12, 1.0), (0, 1.0), (10, 1.0), (3, 1.0), (8, 2.0)];

/// Deterministic noise in [-1, 1].
pub fn noise(seed: u64) -> impl FnMut() -> f32 {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
}

/// `tune` on a harmonic voice from `tonic_hz` at `bpm`; `bright` is an instrument, else a
/// hum (softer harmonics, vibrato, breath).
pub fn play(tune: Tune, tonic_hz: f32, bpm: f32, bright: bool, seed: u64) -> Vec<f32> {
    let r = RATE as f32;
    let mut rand = noise(seed);
    let (tilt, vibrato, breath) = if bright {
        (0.9, 0.0, 0.0)
    } else {
        (1.7, 0.25, 0.02)
    };
    let mut out: Vec<f32> = (0..(0.25 * r) as usize).map(|_| 0.003 * rand()).collect();
    let mut phase = 0f32;
    for &(semi, beats) in tune {
        let hz = tonic_hz * 2f32.powf(semi as f32 / 12.0);
        let len = (beats * 60.0 / bpm * r) as usize;
        let on = len * 88 / 100;
        for i in 0..len {
            if i >= on {
                out.push(0.003 * rand());
                continue;
            }
            let t = out.len() as f32 / r;
            phase += TAU * hz * 2f32.powf(vibrato / 12.0 * (TAU * 5.0 * t).sin()) / r;
            let tone: f32 = (1..=5)
                .map(|h| (h as f32).powf(-tilt) * (h as f32 * phase).sin())
                .sum();
            let fade = (i.min(on - i) as f32 / (0.01 * r)).min(1.0);
            out.push(fade * 0.3 * tone + breath * rand());
        }
    }
    out.extend((0..(0.25 * r) as usize).map(|_| 0.003 * rand()));
    out
}
/// `samples` as a 16-bit mono WAV file at [`RATE`].
pub fn wav(samples: &[f32]) -> Vec<u8> {
    let bytes = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + bytes as usize);
    for part in [
        &b"RIFF"[..],
        &(36 + bytes).to_le_bytes(),
        b"WAVEfmt ",
        &16u32.to_le_bytes(),
        &1u16.to_le_bytes(),
        &1u16.to_le_bytes(),
        &RATE.to_le_bytes(),
        &(RATE * 2).to_le_bytes(),
        &2u16.to_le_bytes(),
        &16u16.to_le_bytes(),
        b"data",
        &bytes.to_le_bytes(),
    ] {
        out.extend_from_slice(part);
    }
    for s in samples {
        out.extend_from_slice(&((s.clamp(-1.0, 1.0) * 32767.0) as i16).to_le_bytes());
    }
    out
}

/// A hum search for `samples` (as WAV), melody space alone (weight 1), top 5.
pub fn hum_request(samples: &[f32]) -> wave_query::pb::SearchRequest {
    weighted_hum_request(samples, Some(1.0))
}

/// A hum search for `samples` (as WAV) with this melody weight (`None`: the server's), top 5.
pub fn weighted_hum_request(samples: &[f32], weight: Option<f32>) -> wave_query::pb::SearchRequest {
    wave_query::pb::SearchRequest {
        query: Some(wave_query::pb::Query {
            input: Some(wave_query::pb::query::Input::Audio(wave_query::pb::Media {
                data: wav(samples),
                format: "wav".into(),
            })),
            prompt: String::new(),
        }),
        top_k: 5,
        hum: Some(wave_query::pb::HumSettings {
            enable: true,
            melody_weight: weight,
        }),
        ..Default::default()
    }
}

/// An MP4 of a moving test pattern with `audio` as its soundtrack (system ffmpeg).
pub fn mp4(path: &Path, audio: &[f32]) {
    let tmp = path.with_extension("tmp.wav");
    std::fs::write(&tmp, wav(audio)).unwrap();
    let status = Command::new("ffmpeg")
        .args(["-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc=s=64x64:r=10")
        .arg("-i")
        .arg(&tmp)
        // The sound's length exactly (`-shortest` overshoots by the encoders' buffering).
        .args(["-t", &format!("{:.3}", audio.len() as f64 / RATE as f64)])
        .args(["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        .args(["-c:a", "aac"])
        .arg(path)
        .status()
        .expect("ffmpeg runs (scripts/setup.sh installs it)");
    assert!(status.success(), "ffmpeg made {}", path.display());
    std::fs::remove_file(tmp).unwrap();
}
