//! Writing videos with the system ffmpeg: raw RGB frames on stdin, the soundtrack (if any) from
//! a WAV next to the output, H.264 + AAC in MP4. Every flag that would embed a version string,
//! a timestamp or thread-dependent choices is turned off, so the same frames give the same bytes.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::{Result, SynthError};
use crate::render::Frame;
use crate::wav::encode_wav;

/// Checks that ffmpeg can be run.
pub fn check_ffmpeg() -> Result<()> {
    match Command::new("ffmpeg").arg("-version").output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(SynthError::Tool {
            tool: "ffmpeg",
            path: None,
            reason: String::from_utf8_lossy(&o.stderr).trim().to_string(),
        }),
        Err(e) => Err(SynthError::Tool {
            tool: "ffmpeg",
            path: None,
            reason: format!("cannot run ffmpeg (is it installed?): {e}"),
        }),
    }
}

/// Encodes `frames` at `fps` into the MP4 `path`, with `audio` (mono at `rate`) as an AAC
/// track, or with no audio stream at all when `audio` is `None`.
pub fn write_mp4(
    path: &Path,
    frames: &[Frame],
    fps: u32,
    audio: Option<(&[f32], u32)>,
) -> Result<()> {
    let fail = |reason: String| SynthError::Tool {
        tool: "ffmpeg",
        path: Some(path.to_path_buf()),
        reason,
    };
    let first = frames
        .first()
        .ok_or_else(|| fail("no frames to encode".into()))?;
    let wav_path = path.with_extension("soundtrack.wav");
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24"])
        .args(["-s", &format!("{}x{}", first.width, first.height)])
        .args(["-r", &fps.to_string(), "-i", "pipe:0"]);
    if let Some((samples, rate)) = audio {
        std::fs::write(&wav_path, encode_wav(samples, rate))
            .map_err(|e| SynthError::io(&wav_path, e))?;
        cmd.args(["-f", "wav", "-i"]).arg(&wav_path);
        cmd.args([
            "-map", "0:v", "-map", "1:a", "-c:a", "aac", "-b:a", "64k", "-ac", "1",
        ]);
    } else {
        cmd.args(["-map", "0:v", "-an"]);
    }
    cmd.args([
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
    ])
    .args(["-threads", "1", "-g", &(2 * fps).to_string()])
    .args([
        "-fflags",
        "+bitexact",
        "-flags:v",
        "+bitexact",
        "-flags:a",
        "+bitexact",
    ])
    .args([
        "-map_metadata",
        "-1",
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
    ])
    .arg(path)
    .stdin(Stdio::piped())
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    let result = (|| {
        let mut child = cmd
            .spawn()
            .map_err(|e| fail(format!("cannot run ffmpeg (is it installed?): {e}")))?;
        // Frames go in from this thread; a write failure usually means ffmpeg stopped early,
        // and its own message (read below) says why.
        let mut write_error = None;
        if let Some(mut stdin) = child.stdin.take() {
            for f in frames {
                if f.width != first.width || f.height != first.height {
                    write_error = Some("frames of different sizes".to_string());
                    break;
                }
                if let Err(e) = stdin.write_all(&f.rgb) {
                    write_error = Some(format!("writing frames: {e}"));
                    break;
                }
            }
        }
        let out = child
            .wait_with_output()
            .map_err(|e| fail(format!("waiting for ffmpeg: {e}")))?;
        if !out.status.success() {
            return Err(fail(
                String::from_utf8_lossy(&out.stderr).trim().to_string(),
            ));
        }
        if let Some(why) = write_error {
            return Err(fail(why));
        }
        Ok(())
    })();
    if audio.is_some() {
        let _ = std::fs::remove_file(&wav_path);
    }
    result
}
