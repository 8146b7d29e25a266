//! How WAVE cuts audio before both audio front ends: 300 s pieces, each padded to ≥ 1 s.
//!
//! `process_audio` (Whisper) and the BEATs loop in the model's forward both split the wav into
//! consecutive pieces of `n_samples` and zero-pad a piece shorter than one second.

use std::borrow::Cow;

/// Consecutive pieces of at most `segment_samples` samples (the last may be shorter).
/// Empty input gives one empty piece, which the front ends then pad to their minimum length.
pub fn audio_segments(pcm: &[f32], segment_samples: usize) -> Vec<&[f32]> {
    if pcm.is_empty() || segment_samples == 0 {
        return vec![pcm];
    }
    pcm.chunks(segment_samples).collect()
}

/// `pcm` zero-padded at the end to at least `min_len` samples (borrowed when long enough).
pub fn pad_to_min_len(pcm: &[f32], min_len: usize) -> Cow<'_, [f32]> {
    if pcm.len() >= min_len {
        return Cow::Borrowed(pcm);
    }
    let mut padded = pcm.to_vec();
    padded.resize(min_len, 0.0);
    Cow::Owned(padded)
}
