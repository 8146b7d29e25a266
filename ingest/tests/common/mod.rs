//! Shared helpers: test media generated on the fly with ffmpeg's lavfi sources.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `ffmpeg -v error -y <args>` and panics with its stderr if it fails (test setup only).
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg must be installed to run these tests");
    assert!(
        out.status.success(),
        "ffmpeg {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A 440 Hz stereo tone of `secs` seconds at `rate` Hz (amplitude 0.5 on both channels),
/// encoded with `codec_args` into `dir/name`.
pub fn tone(dir: &Path, name: &str, rate: u32, secs: f64, codec_args: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let src = format!("aevalsrc=0.5*sin(2*PI*440*t)|0.5*sin(2*PI*440*t):s={rate}:d={secs}");
    let mut args = vec!["-f", "lavfi", "-i", &src];
    args.extend_from_slice(codec_args);
    args.push(path.to_str().unwrap());
    ffmpeg(&args);
    path
}

/// How the audio track of a generated video is made.
#[derive(Clone, Copy, Debug)]
pub enum Track {
    /// No audio stream at all.
    None,
    /// A stream of exact zeros.
    DigitalSilence,
    /// Quiet white noise at the given amplitude.
    Noise(f64),
    /// A 440 Hz tone at amplitude 0.5.
    Tone,
}

/// A `secs`-second testsrc video of `w`x`h` at 25 fps with `track`, encoded with `codec_args`
/// (video and audio codecs) into `dir/name`.
pub fn video(
    dir: &Path,
    name: &str,
    w: u32,
    h: u32,
    secs: f64,
    track: Track,
    codec_args: &[&str],
) -> PathBuf {
    video_from(
        dir,
        name,
        &format!("testsrc=size={w}x{h}:rate=25:duration={secs}"),
        secs,
        track,
        codec_args,
    )
}

/// Like [`video`] with any lavfi video source.
pub fn video_from(
    dir: &Path,
    name: &str,
    vsrc: &str,
    secs: f64,
    track: Track,
    codec_args: &[&str],
) -> PathBuf {
    let path = dir.join(name);
    let asrc = match track {
        Track::None => None,
        Track::DigitalSilence => Some(format!("anullsrc=r=48000:cl=stereo:d={secs}")),
        Track::Noise(a) => Some(format!("anoisesrc=r=48000:a={a}:d={secs}:c=white")),
        Track::Tone => Some(format!(
            "sine=frequency=440:sample_rate=48000:duration={secs},volume=4"
        )),
    };
    let mut args: Vec<String> = vec!["-f".into(), "lavfi".into(), "-i".into(), vsrc.into()];
    if let Some(a) = &asrc {
        args.extend(["-f".into(), "lavfi".into(), "-i".into(), a.clone()]);
    }
    args.extend(codec_args.iter().map(|s| s.to_string()));
    if asrc.is_none() {
        args.push("-an".into());
    }
    args.extend([
        "-t".into(),
        secs.to_string(),
        path.to_str().unwrap().to_string(),
    ]);
    ffmpeg(&args.iter().map(String::as_str).collect::<Vec<_>>());
    path
}

/// Root-mean-square of a signal.
pub fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&v| v as f64 * v as f64).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

/// Amplitude of the `freq` Hz component of `x` sampled at `rate` (a single-bin DFT).
pub fn tone_amplitude(x: &[f32], rate: f64, freq: f64) -> f64 {
    let (mut re, mut im) = (0.0, 0.0);
    for (n, &v) in x.iter().enumerate() {
        let ph = 2.0 * std::f64::consts::PI * freq * n as f64 / rate;
        re += v as f64 * ph.cos();
        im += v as f64 * ph.sin();
    }
    2.0 * (re * re + im * im).sqrt() / x.len() as f64
}
