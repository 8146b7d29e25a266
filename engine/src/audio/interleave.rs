//! WAVE's one-to-one merge of the two audio streams: `[w0, b0, w1, b1, …]`, Whisper first.

use burn::tensor::{backend::Backend, Tensor};

use super::error::AudioError;

/// Whisper tokens (N_a, H) and aligned BEATs tokens (N_a, H) → (2·N_a, H), alternating rows.
/// Both inputs must have the same shape (see [`try_interleave`]).
pub fn interleave<B: Backend>(whisper: Tensor<B, 2>, beats: Tensor<B, 2>) -> Tensor<B, 2> {
    let [n, h] = whisper.dims();
    Tensor::stack::<3>(vec![whisper, beats], 1).reshape([2 * n, h])
}

/// [`interleave`] after checking that the shapes agree.
pub fn try_interleave<B: Backend>(
    whisper: Tensor<B, 2>,
    beats: Tensor<B, 2>,
) -> Result<Tensor<B, 2>, AudioError> {
    if whisper.dims() != beats.dims() {
        return Err(AudioError::Interleave {
            whisper: whisper.dims(),
            beats: beats.dims(),
        });
    }
    Ok(interleave(whisper, beats))
}
