//! Placeholder expansion (the processor's `replace_multimodal_special_tokens`) and BEATs doubling.

use super::tokens::{AUDIO, AUDIO_BOS, AUDIO_EOS, IMAGE, VIDEO, VISION_BOS, VISION_EOS};
use super::PromptError;

const AUDIO_PLACEHOLDER: &str = "<|audio_placeholder|>";
const IMAGE_PLACEHOLDER: &str = "<|image_placeholder|>";
const VIDEO_PLACEHOLDER: &str = "<|video_placeholder|>";

/// An audio-video chunk spans this many temporal grid steps (the reference's `2.0 * second_per_grid`).
const GRIDS_PER_CHUNK: f64 = 2.0;

/// How many rows each media placeholder stands for, in order of appearance.
#[derive(Debug, Clone)]
pub struct MediaPlaceholders {
    /// Whisper tokens `N_a` per audio (consumed by `<|AUDIO|>`, and by `<|VIDEO|>` when time-aligned).
    pub audio_tokens: Vec<usize>,
    /// Patch grids `(t, h, w)` per image.
    pub images: Vec<[usize; 3]>,
    /// Patch grid and seconds per temporal grid step (float64, as the processor holds it) per video.
    pub videos: Vec<([usize; 3], f64)>,
    /// The video carries its own audio: interleave them in chunks (the processor does this
    /// whenever an audio comes with the video).
    pub audio_in_video: bool,
    pub merge_size: usize,
    pub position_id_per_seconds: f64,
    /// BEATs is used alongside Whisper: each `<|AUDIO|>` becomes two.
    pub double_audio: bool,
}

/// Expands the placeholders of `text` (the stripped user turn) into one token per embedding row.
pub fn expand_placeholders(text: &str, media: &MediaPlaceholders) -> Result<String, PromptError> {
    let mut audio = media.audio_tokens.iter().copied();
    let mut images = media.images.iter().copied();
    let mut videos = media.videos.iter().copied();
    let merge_area = media.merge_size * media.merge_size;
    let missing = |what: &str| {
        PromptError::Layout(format!(
            "the prompt has more {what} placeholders than inputs"
        ))
    };

    let mut found: Vec<(usize, &str)> = [AUDIO, IMAGE, VIDEO]
        .iter()
        .flat_map(|tok| {
            text.match_indices(tok)
                .map(|(at, _)| (at, *tok))
                .collect::<Vec<_>>()
        })
        .collect();
    found.sort_by_key(|&(at, _)| at);

    let mut sample = text.to_string();
    for (_, token) in found {
        if token == AUDIO {
            let n = audio.next().ok_or_else(|| missing("audio"))?;
            sample = sample.replacen(AUDIO, &AUDIO_PLACEHOLDER.repeat(n), 1);
        } else if token == IMAGE {
            let thw = images.next().ok_or_else(|| missing("image"))?;
            let n = thw.iter().product::<usize>() / merge_area;
            sample = sample.replacen(IMAGE, &IMAGE_PLACEHOLDER.repeat(n), 1);
        } else if !media.audio_in_video {
            let (thw, _) = videos.next().ok_or_else(|| missing("video"))?;
            let n = thw.iter().product::<usize>() / merge_area;
            sample = sample.replacen(VIDEO, &VIDEO_PLACEHOLDER.repeat(n), 1);
        } else {
            let n_audio = audio.next().ok_or_else(|| missing("audio"))?;
            let (thw, second_per_grid) = videos.next().ok_or_else(|| missing("video"))?;
            let chunks = av_chunks(n_audio, thw, second_per_grid, media);
            sample = sample.replacen(&format!("{VISION_BOS}{VIDEO}{VISION_EOS}"), &chunks, 1);
        }
    }
    let mut sample = sample
        .replace(AUDIO_PLACEHOLDER, AUDIO)
        .replace(IMAGE_PLACEHOLDER, IMAGE)
        .replace(VIDEO_PLACEHOLDER, VIDEO);
    if media.double_audio {
        sample = sample.replace(AUDIO, &format!("{AUDIO}{AUDIO}"));
    }
    Ok(sample)
}

/// `<|vision_bos|><|audio_bos|>` + per chunk (video tokens, then audio tokens) + `<|audio_eos|><|vision_eos|>`.
fn av_chunks(
    n_audio: usize,
    thw: [usize; 3],
    second_per_grid: f64,
    media: &MediaPlaceholders,
) -> String {
    let per_frame = (thw[1] / media.merge_size) * (thw[2] / media.merge_size);
    // Temporal position of each video token (float64 as in the processor): t · spg · 25.
    let video_times: Vec<f64> = (0..thw[0])
        .flat_map(|t| {
            std::iter::repeat_n(
                t as f64 * second_per_grid * media.position_id_per_seconds,
                per_frame,
            )
        })
        .collect();
    let audio_times: Vec<f64> = (0..n_audio).map(|i| i as f64).collect();
    let tokens_per_chunk = media.position_id_per_seconds * (GRIDS_PER_CHUNK * second_per_grid);
    let video_chunks = chunk_bounds(&video_times, tokens_per_chunk);
    let audio_chunks = chunk_bounds(&audio_times, tokens_per_chunk);

    let mut out = format!("{VISION_BOS}{AUDIO_BOS}");
    for j in 0..video_chunks.len().max(audio_chunks.len()) {
        if let Some(&(a, b)) = video_chunks.get(j) {
            out.push_str(&VIDEO_PLACEHOLDER.repeat(b - a));
        }
        if let Some(&(a, b)) = audio_chunks.get(j) {
            out.push_str(&AUDIO_PLACEHOLDER.repeat(b - a));
        }
    }
    out.push_str(AUDIO_EOS);
    out.push_str(VISION_EOS);
    out
}

/// Splits increasing times into chunks `[j·size, (j+1)·size)`; a time within rel. 1e-5 of a
/// boundary counts as past it. Like the reference, one token advances at most one boundary, and
/// a final (possibly empty) chunk always closes the list.
pub fn chunk_bounds(times: &[f64], size: f64) -> Vec<(usize, usize)> {
    let mut bounds = Vec::new();
    let (mut start, mut chunk) = (0usize, 1.0f64);
    for (i, &t) in times.iter().enumerate() {
        let boundary = chunk * size;
        if t >= boundary || is_close(t, boundary) {
            bounds.push((start, i));
            start = i;
            chunk += 1.0;
        }
    }
    bounds.push((start, times.len()));
    bounds
}

/// Python's `math.isclose(a, b, rel_tol=1e-5)`.
fn is_close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-5 * a.abs().max(b.abs())
}
