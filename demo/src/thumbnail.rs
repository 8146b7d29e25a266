//! Video thumbnails: one frame, extracted by the system ffmpeg.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::DemoError;

/// Side of the square thumbnails, in pixels (the synthetic videos are 112 px: doubled for
/// high-density screens).
pub const THUMB_SIDE: u32 = 224;

/// Writes the frame of `video` at `at_s` seconds to `out` as a JPEG, atomically.
pub fn extract_frame(video: &Path, at_s: f64, out: &Path) -> Result<(), DemoError> {
    let tmp = out.with_extension("part.jpg");
    let result = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
        .arg("-ss")
        .arg(format!("{:.3}", at_s.max(0.0)))
        .arg("-i")
        .arg(video)
        .args(["-frames:v", "1", "-q:v", "3", "-vf"])
        .arg(format!(
            "scale={THUMB_SIDE}:{THUMB_SIDE}:force_original_aspect_ratio=decrease:flags=lanczos"
        ))
        .arg(&tmp)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| DemoError::Thumbnail {
            video: video.to_path_buf(),
            reason: format!("cannot run ffmpeg (is it installed?): {e}"),
        })?;
    if !result.status.success() || !tmp.is_file() {
        let _ = std::fs::remove_file(&tmp);
        return Err(DemoError::Thumbnail {
            video: video.to_path_buf(),
            reason: String::from_utf8_lossy(&result.stderr).trim().to_string(),
        });
    }
    std::fs::rename(&tmp, out).map_err(|e| DemoError::io(out, "writing", e))
}
