//! Video files → RGB frames at 2 fps (with their timestamps) plus the 16 kHz audio track,
//! decoded by the system ffmpeg.

use std::path::Path;

use crate::decode::audio::{check_complete, check_duration, ffmpeg_audio_track, Audio, ChannelMix};
use crate::decode::ffmpeg::run_ffmpeg;
use crate::decode::probe::{probe_media, MediaInfo, VideoStreamInfo};
use crate::decode::sniff::check_binary_media;
use crate::decode::Limits;
use crate::error::{IngestError, Result};

/// Options of [`decode_video`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoOptions {
    /// Frames per second to sample. Default 2, WAVE's rate (one frame per 0.5 s).
    pub fps: f64,
    /// Frames are scaled down (never up, aspect kept) to at most this many pixels. Default
    /// 176 400 (420×420), WAVE's per-frame pixel budget: more resolution would be thrown away
    /// by the engine's own resize.
    pub max_pixels: u64,
    /// ...and to at most this many pixels on the long side. Default 640.
    pub max_frame_side: u64,
    /// How the audio track's channels are mixed to mono.
    pub mix: ChannelMix,
    /// Rejection limits (absurd resolution, absurd duration).
    pub limits: Limits,
    /// Decode from this time (seconds). Default 0.
    pub start_s: f64,
    /// Decode only this many seconds (default: to the end). Long videos should be decoded clip
    /// by clip with `start_s`/`duration_s`: a whole hour at 2 fps is 7200 frames in memory.
    pub duration_s: Option<f64>,
}

impl Default for VideoOptions {
    fn default() -> Self {
        VideoOptions {
            fps: 2.0,
            max_pixels: 176_400,
            max_frame_side: 640,
            mix: ChannelMix::default(),
            limits: Limits::default(),
            start_s: 0.0,
            duration_s: None,
        }
    }
}

/// Whether a video carries sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoKind {
    /// No audio stream, or one that is digital silence (peak ≤ -90 dBFS).
    Silent,
    /// An audio stream with actual signal.
    AudioVideo,
}

/// Decoded video.
#[derive(Debug, Clone, PartialEq)]
pub struct Video {
    /// Frame size after scaling.
    pub width: usize,
    pub height: usize,
    /// RGB u8 pixels, shape (F, H, W, 3), row-major, frames back to back.
    pub frames: Vec<u8>,
    /// Presentation time in seconds of each frame, in the source's timeline.
    pub frame_times: Vec<f64>,
    /// The audio track at 16 kHz mono; `None` exactly when `kind` is [`VideoKind::Silent`].
    pub audio: Option<Audio>,
    pub kind: VideoKind,
    /// What ffprobe reported about the file (full duration, codecs, source resolution).
    pub info: MediaInfo,
}

impl Video {
    /// Number of frames F.
    pub fn num_frames(&self) -> usize {
        self.frame_times.len()
    }

    /// The (F, H, W, 3) shape of [`Video::frames`].
    pub fn shape(&self) -> [usize; 4] {
        [self.num_frames(), self.height, self.width, 3]
    }

    /// Indices of the frames whose time lies in `[start, end]` seconds (e.g. a
    /// [`ClipSpan`](crate::ClipSpan)'s range).
    pub fn frames_between(&self, start: f64, end: f64) -> std::ops::Range<usize> {
        let first = self.frame_times.partition_point(|&t| t < start);
        let last = self.frame_times.partition_point(|&t| t <= end);
        first..last.max(first)
    }

    /// Frame `i` as H·W·3 bytes.
    pub fn frame(&self, i: usize) -> Option<&[u8]> {
        let size = self.width * self.height * 3;
        self.frames.get(i * size..(i + 1) * size)
    }
}

/// Decodes a video file: frames at `opts.fps`, scaled to fit the pixel budget, and the first
/// audio track; classifies it as silent or audio-video.
///
/// Errors (all naming `path`): unreadable, empty or text file, no video stream, a codec ffmpeg
/// cannot decode, a side over `opts.limits.max_side` ([`IngestError::Resolution`]), a duration
/// over `opts.limits.max_duration_s`, data ffmpeg cannot parse ([`IngestError::Corrupt`]), or
/// frames ending well before the declared duration ([`IngestError::Truncated`]). An audio
/// stream that cannot be decoded fails the whole video rather than silently losing the sound.
pub fn decode_video(path: &Path, opts: &VideoOptions) -> Result<Video> {
    let range_ok = opts.start_s.is_finite()
        && opts.start_s >= 0.0
        && opts.duration_s.is_none_or(|d| d.is_finite() && d > 0.0);
    if !(opts.fps > 0.0 && opts.fps.is_finite())
        || opts.max_pixels == 0
        || opts.max_frame_side == 0
        || !range_ok
    {
        return Err(IngestError::Config(format!(
            "video options need fps > 0, a non-zero pixel budget, start_s >= 0 and \
             duration_s > 0, got {opts:?}"
        )));
    }
    check_binary_media(path)?;
    let info = probe_media(path)?;
    let stream = info
        .video
        .as_ref()
        .ok_or_else(|| IngestError::MissingStream {
            path: path.to_path_buf(),
            what: "video",
        })?;
    check_geometry(path, stream, &opts.limits)?;
    if stream.codec.is_none() {
        return Err(IngestError::UnsupportedCodec {
            path: path.to_path_buf(),
            codec: format!("unknown video codec (tag {:?})", stream.codec_tag),
        });
    }
    let declared = info.duration.or(stream.duration);
    if let Some(d) = declared {
        check_duration(path, d, opts.limits.max_duration_s)?;
    }

    let mut pre_input = Vec::new();
    if opts.start_s > 0.0 {
        pre_input.extend(["-ss".to_string(), format!("{:.6}", opts.start_s)]);
    }
    if let Some(d) = opts.duration_s {
        pre_input.extend(["-t".to_string(), format!("{d:.6}")]);
    }

    let (width, height) = target_size(stream.display_width, stream.display_height, opts);
    let (frames, frame_times) = decode_frames(path, &pre_input, width, height, opts)?;
    let whole_file = opts.start_s <= 0.0 && opts.duration_s.is_none();
    if let (true, Some(d), Some(last)) = (whole_file, declared, frame_times.last()) {
        check_complete(path, last + 1.0 / opts.fps, d)?;
    }

    let audio = match &info.audio {
        None => None,
        Some(a) => Some(ffmpeg_audio_track(path, a, opts.mix, &pre_input)?.finish()),
    };
    let (kind, audio) = match audio {
        Some(a) if !a.is_silent() => (VideoKind::AudioVideo, Some(a)),
        _ => (VideoKind::Silent, None),
    };
    Ok(Video {
        width,
        height,
        frames,
        frame_times: frame_times.iter().map(|t| t + opts.start_s).collect(),
        audio,
        kind,
        info,
    })
}

fn check_geometry(path: &Path, s: &VideoStreamInfo, limits: &Limits) -> Result<()> {
    let longest = s
        .width
        .max(s.height)
        .max(s.display_width)
        .max(s.display_height);
    if longest > limits.max_side {
        return Err(IngestError::Resolution {
            path: path.to_path_buf(),
            width: s.width,
            height: s.height,
            max_side: limits.max_side,
        });
    }
    if s.width == 0 || s.height == 0 {
        return Err(IngestError::Corrupt {
            path: path.to_path_buf(),
            reason: format!("video stream with a {}x{} frame size", s.width, s.height),
        });
    }
    Ok(())
}

/// The largest size with the display aspect ratio that fits both `max_pixels` and
/// `max_frame_side`, never larger than the source; sides rounded down to even numbers
/// (friendlier to every pixel format on the way) and at least 2.
fn target_size(width: u64, height: u64, opts: &VideoOptions) -> (usize, usize) {
    let (w, h) = (width as f64, height as f64);
    let scale = 1.0f64
        .min((opts.max_pixels as f64 / (w * h)).sqrt())
        .min(opts.max_frame_side as f64 / w.max(h));
    let even = |x: f64| (((x * scale).floor() as usize) / 2 * 2).max(2);
    (even(w), even(h))
}

/// Runs ffmpeg for the frames and reads each one's time from the `showinfo` filter's log.
fn decode_frames(
    path: &Path,
    pre_input: &[String],
    width: usize,
    height: usize,
    opts: &VideoOptions,
) -> Result<(Vec<u8>, Vec<f64>)> {
    let filter = format!(
        "fps={},scale={width}:{height}:flags=bicubic,setsar=1,showinfo",
        opts.fps
    );
    let args: Vec<String> = [
        "-map", "0:v:0", "-an", "-sn", "-dn", "-vf", &filter, "-pix_fmt", "rgb24", "-f",
        "rawvideo", "-",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let run = run_ffmpeg(path, pre_input, &args)?;
    if !run.success {
        return Err(run.failure(path));
    }
    let times = frame_times(&run.log);
    let frame_bytes = width * height * 3;
    if times.is_empty() || run.stdout.is_empty() {
        return Err(IngestError::Corrupt {
            path: path.to_path_buf(),
            reason: run
                .error_summary(path)
                .unwrap_or_else(|| "no video frame could be decoded".into()),
        });
    }
    if run.stdout.len() != times.len() * frame_bytes {
        return Err(IngestError::Ffmpeg {
            path: path.to_path_buf(),
            reason: format!(
                "{} bytes of frames for {} timestamps of {width}x{height}",
                run.stdout.len(),
                times.len()
            ),
        });
    }
    Ok((run.stdout, times))
}

/// `pts_time` of every frame the `showinfo` filter logged, in order.
fn frame_times(log: &str) -> Vec<f64> {
    log.split(['\n', '\r'])
        .filter(|l| l.contains("Parsed_showinfo") && l.contains(" n:"))
        .filter_map(|l| {
            let rest = &l[l.find("pts_time:")? + "pts_time:".len()..];
            rest.split_whitespace().next()?.parse::<f64>().ok()
        })
        .collect()
}
