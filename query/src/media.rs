//! Media bytes or files → model inputs. Bytes from the network go to a temp file so the ingest
//! decoders (symphonia, ffmpeg) read them exactly as they read files from disk.

use std::io::Write as _;
use std::path::Path;

use wave_engine::embedder::{FrameTiming, Input, VideoFrames};
use wave_index::Modality;
use wave_ingest::{decode_audio, decode_video, VideoKind, VideoOptions, TARGET_RATE};

use crate::error::QueryError;

/// What a media input is decoded as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Audio,
    /// Video; its soundtrack is used when it has one.
    Video,
    /// Video, frames only (a stored silent-video item).
    SilentVideo,
}

impl MediaKind {
    /// The decoding of a stored item's media; `None` for text items.
    pub fn of_modality(m: Modality) -> Option<MediaKind> {
        match m {
            Modality::Text => None,
            Modality::Audio => Some(MediaKind::Audio),
            Modality::Video => Some(MediaKind::SilentVideo),
            Modality::AudioVideo => Some(MediaKind::Video),
        }
    }

    fn default_format(self) -> &'static str {
        match self {
            MediaKind::Audio => "wav",
            MediaKind::Video | MediaKind::SilentVideo => "mp4",
        }
    }
}

/// A file extension the decoders can be told about: 1-8 ASCII letters or digits.
pub fn checked_format(kind: MediaKind, format: &str) -> Result<String, QueryError> {
    let f = format.trim().trim_start_matches('.').to_ascii_lowercase();
    if f.is_empty() {
        return Ok(kind.default_format().to_string());
    }
    if f.len() > 8 || !f.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(QueryError::invalid(format!(
            "media format {format:?}: give the file extension, e.g. \"wav\" or \"mp4\""
        )));
    }
    Ok(f)
}

/// Decodes media bytes into a model input; video is sampled at `video_fps` (the model's, see
/// [`Model::video_fps`](crate::Model::video_fps)).
pub fn input_from_bytes(
    kind: MediaKind,
    data: &[u8],
    format: &str,
    span: Option<(f64, f64)>,
    prompt: Option<String>,
    video_fps: f64,
) -> Result<(Input, Modality), QueryError> {
    if data.is_empty() {
        return Err(QueryError::invalid("media bytes are empty"));
    }
    let format = checked_format(kind, format)?;
    let mut file = tempfile::Builder::new()
        .prefix("wave-media-")
        .suffix(&format!(".{format}"))
        .tempfile()
        .map_err(|e| QueryError::Io {
            context: "creating a temp file for media".into(),
            source: e,
        })?;
    file.write_all(data).map_err(|e| QueryError::Io {
        context: "writing media to a temp file".into(),
        source: e,
    })?;
    input_from_path(kind, file.path(), span, prompt, video_fps)
}

/// Decodes a media file (or its [start, end] clip) into a model input, and tells which modality
/// it turned out to be (a video without sound is `Video`, with sound `AudioVideo`). Video is
/// sampled at `video_fps`.
pub fn input_from_path(
    kind: MediaKind,
    path: &Path,
    span: Option<(f64, f64)>,
    prompt: Option<String>,
    video_fps: f64,
) -> Result<(Input, Modality), QueryError> {
    if let Some((start, end)) = span {
        if !(start.is_finite() && end.is_finite() && start >= 0.0 && end > start) {
            return Err(QueryError::invalid(format!(
                "time span [{start}, {end}] must satisfy 0 <= start < end"
            )));
        }
    }
    match kind {
        MediaKind::Audio => {
            let audio = decode_audio(path)?;
            let pcm = match span {
                Some((s, e)) => audio.between(s, e).to_vec(),
                None => audio.pcm_16k,
            };
            if pcm.is_empty() {
                return Err(QueryError::invalid(format!(
                    "{}: no audio samples in the requested span",
                    path.display()
                )));
            }
            let input = Input::Audio {
                pcm,
                sample_rate: TARGET_RATE,
                prompt,
            };
            Ok((input, Modality::Audio))
        }
        MediaKind::Video | MediaKind::SilentVideo => {
            let opts = VideoOptions {
                fps: video_fps,
                start_s: span.map_or(0.0, |s| s.0),
                duration_s: span.map(|(s, e)| e - s),
                ..VideoOptions::default()
            };
            let video = decode_video(path, &opts)?;
            if video.num_frames() == 0 {
                return Err(QueryError::invalid(format!(
                    "{}: no video frames in the requested span",
                    path.display()
                )));
            }
            let sampled = video.num_frames() as f64 / opts.fps;
            let duration_s = match span {
                Some((s, e)) => e - s,
                None => video.info.duration.unwrap_or(sampled),
            };
            let frames = VideoFrames {
                num_frames: video.num_frames(),
                height: video.height,
                width: video.width,
                data: video.frames,
                timing: FrameTiming::Sampled {
                    duration_s: if duration_s > 0.0 {
                        duration_s
                    } else {
                        sampled
                    },
                },
            };
            match (kind, video.kind, video.audio) {
                (MediaKind::Video, VideoKind::AudioVideo, Some(audio)) => Ok((
                    Input::AudioVideo {
                        pcm: audio.pcm_16k,
                        sample_rate: TARGET_RATE,
                        frames,
                        prompt,
                    },
                    Modality::AudioVideo,
                )),
                _ => Ok((Input::Video { frames, prompt }, Modality::Video)),
            }
        }
    }
}
