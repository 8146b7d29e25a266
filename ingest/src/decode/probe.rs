//! What a media file contains, as reported by `ffprobe`.

use std::path::Path;
use std::process::Command;

use serde::Deserialize;

use crate::decode::ffmpeg::{file_url, summarize_log};
use crate::error::{IngestError, Result};

/// The first video and audio streams of a file and its duration.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaInfo {
    /// ffmpeg's demuxer name(s), e.g. `"mov,mp4,m4a,3gp,3g2,mj2"`.
    pub format_name: String,
    /// Container duration in seconds (else the longest stream's), if known.
    pub duration: Option<f64>,
    /// The first video stream that is not cover art.
    pub video: Option<VideoStreamInfo>,
    /// The first audio stream.
    pub audio: Option<AudioStreamInfo>,
}

/// A video stream's codec and geometry.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoStreamInfo {
    /// ffmpeg codec name; `None` when ffmpeg has no decoder for it.
    pub codec: Option<String>,
    /// The four-character tag from the container (e.g. `avc1`), useful when `codec` is `None`.
    pub codec_tag: String,
    /// Coded frame size in pixels.
    pub width: u64,
    pub height: u64,
    /// Size as displayed: sample aspect ratio applied and a ±90° rotation swapped in.
    pub display_width: u64,
    pub display_height: u64,
    /// Average frame rate, if known.
    pub fps: Option<f64>,
    pub duration: Option<f64>,
}

/// An audio stream's codec and format.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioStreamInfo {
    pub codec: Option<String>,
    pub codec_tag: String,
    pub sample_rate: u32,
    pub channels: u16,
    pub duration: Option<f64>,
}

/// Probes `path` with `ffprobe`. A file ffprobe cannot open is [`IngestError::Corrupt`] (with
/// ffprobe's reason); a missing ffprobe is [`IngestError::Ffmpeg`].
pub fn probe_media(path: &Path) -> Result<MediaInfo> {
    let output = Command::new(ffmpeg_sidecar::ffprobe::ffprobe_path())
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
        ])
        .arg(file_url(path))
        .output()
        .map_err(|e| IngestError::Ffmpeg {
            path: path.to_path_buf(),
            reason: format!("cannot run ffprobe: {e}"),
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(IngestError::Corrupt {
            path: path.to_path_buf(),
            reason: summarize_log(&stderr, path, false)
                .unwrap_or_else(|| "ffprobe cannot read the file".into()),
        });
    }
    let raw: RawProbe =
        serde_json::from_slice(&output.stdout).map_err(|e| IngestError::Ffmpeg {
            path: path.to_path_buf(),
            reason: format!("unexpected ffprobe output: {e}"),
        })?;
    Ok(raw.into_info())
}

#[derive(Deserialize)]
struct RawProbe {
    #[serde(default)]
    streams: Vec<RawStream>,
    format: Option<RawFormat>,
}

#[derive(Deserialize)]
struct RawFormat {
    format_name: Option<String>,
    duration: Option<String>,
}

#[derive(Deserialize)]
struct RawStream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    #[serde(default)]
    codec_tag_string: String,
    width: Option<u64>,
    height: Option<u64>,
    sample_aspect_ratio: Option<String>,
    avg_frame_rate: Option<String>,
    sample_rate: Option<String>,
    channels: Option<u16>,
    duration: Option<String>,
    disposition: Option<RawDisposition>,
    tags: Option<RawTags>,
    #[serde(default)]
    side_data_list: Vec<RawSideData>,
}

#[derive(Deserialize)]
struct RawDisposition {
    #[serde(default)]
    attached_pic: u8,
}

#[derive(Deserialize)]
struct RawTags {
    rotate: Option<String>,
}

#[derive(Deserialize)]
struct RawSideData {
    rotation: Option<f64>,
}

impl RawProbe {
    fn into_info(self) -> MediaInfo {
        let format = self.format;
        let video = self
            .streams
            .iter()
            .filter(|s| s.codec_type.as_deref() == Some("video"))
            .find(|s| s.disposition.as_ref().is_none_or(|d| d.attached_pic == 0))
            .map(RawStream::video_info);
        let audio = self
            .streams
            .iter()
            .find(|s| s.codec_type.as_deref() == Some("audio"))
            .map(RawStream::audio_info);
        let stream_duration = video
            .as_ref()
            .and_then(|v| v.duration)
            .into_iter()
            .chain(audio.as_ref().and_then(|a| a.duration))
            .reduce(f64::max);
        MediaInfo {
            format_name: format
                .as_ref()
                .and_then(|f| f.format_name.clone())
                .unwrap_or_default(),
            duration: format
                .and_then(|f| parse_seconds(f.duration.as_deref()))
                .or(stream_duration),
            video,
            audio,
        }
    }
}

impl RawStream {
    fn codec(&self) -> Option<String> {
        // ffprobe leaves codec_name out, or says "none"/"unknown", when it has no decoder.
        self.codec_name
            .clone()
            .filter(|c| !matches!(c.as_str(), "none" | "unknown" | ""))
    }

    fn video_info(&self) -> VideoStreamInfo {
        let width = self.width.unwrap_or(0);
        let height = self.height.unwrap_or(0);
        let sar = parse_ratio(self.sample_aspect_ratio.as_deref()).filter(|r| *r > 0.0);
        let mut display_width = match sar {
            Some(r) => ((width as f64 * r).round() as u64).max(1),
            None => width,
        };
        let mut display_height = height;
        if self.rotation().rem_euclid(180.0) == 90.0 {
            std::mem::swap(&mut display_width, &mut display_height);
        }
        VideoStreamInfo {
            codec: self.codec(),
            codec_tag: self.codec_tag_string.clone(),
            width,
            height,
            display_width,
            display_height,
            fps: parse_ratio(self.avg_frame_rate.as_deref()).filter(|f| *f > 0.0),
            duration: parse_seconds(self.duration.as_deref()),
        }
    }

    fn audio_info(&self) -> AudioStreamInfo {
        AudioStreamInfo {
            codec: self.codec(),
            codec_tag: self.codec_tag_string.clone(),
            sample_rate: self
                .sample_rate
                .as_deref()
                .and_then(|r| r.parse().ok())
                .unwrap_or(0),
            channels: self.channels.unwrap_or(0),
            duration: parse_seconds(self.duration.as_deref()),
        }
    }

    /// Display rotation in degrees, from the display matrix or the legacy `rotate` tag.
    fn rotation(&self) -> f64 {
        self.side_data_list
            .iter()
            .find_map(|s| s.rotation)
            .or_else(|| self.tags.as_ref()?.rotate.as_deref()?.parse().ok())
            .unwrap_or(0.0)
            .round()
    }
}

fn parse_seconds(s: Option<&str>) -> Option<f64> {
    s?.parse::<f64>()
        .ok()
        .filter(|d| d.is_finite() && *d >= 0.0)
}

/// `"16:9"` or `"30000/1001"` → the quotient.
fn parse_ratio(s: Option<&str>) -> Option<f64> {
    let (a, b) = s?.split_once([':', '/'])?;
    let (a, b) = (a.parse::<f64>().ok()?, b.parse::<f64>().ok()?);
    (b != 0.0).then_some(a / b)
}
