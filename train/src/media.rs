//! Decoding corpus media the way `wave ingest` does (audio at 16 kHz mono; video sampled at
//! the model's frame rate with its soundtrack), and encoding it once with the frozen encoders.

use std::collections::BTreeMap;
use std::path::Path;

use rayon::prelude::*;
use wave_engine::embedder::{Embedder, FrameTiming, Input, VideoFrames};
use wave_engine::encoded::{HostMedia, VisionCut};
use wave_ingest::{decode_audio, decode_video, VideoKind, VideoOptions, TARGET_RATE};

use crate::error::TrainError;

/// The embedder input for a media file. `.wav` is audio; video files are audio-video when
/// they carry a soundtrack, silent video otherwise, sampled at `video_fps`.
pub fn load_input(path: &Path, video_fps: f64) -> Result<Input, TrainError> {
    let decode_err = |e: wave_ingest::IngestError| TrainError::Decode {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let is_audio = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e, "wav" | "flac" | "mp3" | "ogg"));
    if is_audio {
        let audio = decode_audio(path).map_err(decode_err)?;
        return Ok(Input::Audio {
            pcm: audio.pcm_16k,
            sample_rate: TARGET_RATE,
            prompt: None,
        });
    }
    let opts = VideoOptions {
        fps: video_fps,
        ..VideoOptions::default()
    };
    let video = decode_video(path, &opts).map_err(decode_err)?;
    let duration_s = video
        .info
        .duration
        .filter(|d| *d > 0.0)
        .unwrap_or(video.num_frames() as f64 / video_fps);
    let frames = VideoFrames {
        num_frames: video.num_frames(),
        height: video.height,
        width: video.width,
        data: video.frames,
        timing: FrameTiming::Sampled { duration_s },
    };
    Ok(match (video.audio, video.kind) {
        (Some(audio), VideoKind::AudioVideo) => Input::AudioVideo {
            pcm: audio.pcm_16k,
            sample_rate: TARGET_RATE,
            frames,
            prompt: None,
        },
        _ => Input::Video {
            frames,
            prompt: None,
        },
    })
}

/// Decodes and encodes every `(id, path)` with the frozen encoders of `embedder`, the vision
/// side up to `cut`. Decoding runs in parallel (ffmpeg processes); encoding follows in order.
pub fn encode_all<B: burn::tensor::backend::Backend>(
    embedder: &Embedder<B>,
    media: &BTreeMap<String, std::path::PathBuf>,
    cut: VisionCut,
) -> Result<BTreeMap<String, HostMedia>, TrainError> {
    let ids: Vec<(&String, &std::path::PathBuf)> = media.iter().collect();
    let fps = embedder.preprocess_config().sampling.fps();
    let mut out = BTreeMap::new();
    // Chunks bound the decoded frames held at once.
    for chunk in ids.chunks(64) {
        let inputs: Vec<Result<Input, TrainError>> = chunk
            .par_iter()
            .map(|(_, path)| load_input(path, fps))
            .collect();
        for ((id, path), input) in chunk.iter().zip(inputs) {
            let encoded = embedder
                .encode_media_to(&input?, cut)
                .map_err(|e| TrainError::embed(path.display().to_string(), e))?;
            out.insert((*id).clone(), encoded.to_host());
        }
    }
    Ok(out)
}
