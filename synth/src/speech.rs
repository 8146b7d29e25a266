//! Spoken words, synthesised by the system espeak-ng and resampled to the corpus rate.

use std::process::Command;

use crate::error::{Result, SynthError};
use crate::scene::Speech;
use crate::wav::decode_wav;

/// espeak-ng voices the corpus speaks with (variants give several speakers).
pub const VOICES: [&str; 6] = ["en-us", "en", "en-us+f3", "en+m3", "en-us+f2", "en+m7"];

/// Checks that espeak-ng can be run.
pub fn check_espeak() -> Result<()> {
    match Command::new("espeak-ng").arg("--version").output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(SynthError::Tool {
            tool: "espeak-ng",
            path: None,
            reason: String::from_utf8_lossy(&o.stderr).trim().to_string(),
        }),
        Err(e) => Err(SynthError::Tool {
            tool: "espeak-ng",
            path: None,
            reason: format!("cannot run espeak-ng (is it installed?): {e}"),
        }),
    }
}

/// The spoken words as mono samples at `rate`.
pub fn speak(speech: &Speech, rate: u32) -> Result<Vec<f32>> {
    let fail = |reason: String| SynthError::Tool {
        tool: "espeak-ng",
        path: None,
        reason,
    };
    let out = Command::new("espeak-ng")
        .args(["--stdout", "-v", &speech.voice])
        .args([
            "-s",
            &speech.speed.to_string(),
            "-p",
            &speech.pitch.to_string(),
        ])
        .arg(&speech.text)
        .output()
        .map_err(|e| fail(format!("cannot run espeak-ng: {e}")))?;
    if !out.status.success() {
        return Err(fail(format!(
            "saying {:?}: {}",
            speech.text,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let pcm = decode_wav(&out.stdout)?;
    Ok(resample(&pcm.samples, pcm.rate, rate))
}

/// Band-limited resampling by a Hann-windowed sinc (cut-off at the lower Nyquist).
pub fn resample(input: &[f32], from: u32, to: u32) -> Vec<f32> {
    if from == to || input.is_empty() {
        return input.to_vec();
    }
    let ratio = f64::from(to) / f64::from(from);
    let cutoff = ratio.min(1.0);
    const HALF: isize = 16;
    let out_len = (input.len() as f64 * ratio).floor() as usize;
    let width = (HALF as f64 / cutoff).ceil() as isize;
    (0..out_len)
        .map(|j| {
            let centre = j as f64 / ratio;
            let c = centre.floor() as isize;
            let mut acc = 0.0f64;
            for i in (c - width + 1)..=(c + width) {
                if i < 0 || i as usize >= input.len() {
                    continue;
                }
                let x = (i as f64 - centre) * cutoff;
                let sinc = if x.abs() < 1e-9 {
                    1.0
                } else {
                    (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
                };
                let w = 0.5 + 0.5 * (std::f64::consts::PI * x / HALF as f64).cos();
                if x.abs() < HALF as f64 {
                    acc += f64::from(input[i as usize]) * sinc * w * cutoff;
                }
            }
            acc as f32
        })
        .collect()
}
