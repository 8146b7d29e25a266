//! The two audio encoders of WAVE and their merge.
//!
//! * [`AudioTower`]: the Qwen2.5-Omni (Whisper-shaped) tower on log-mel features → N_a tokens.
//! * [`Beats`]: BEATs on the kaldi fbank → 8 tokens per 160 ms.
//! * [`BeatsAligner`]: BEATs tokens → N_a tokens in the LLM width.
//! * [`interleave`]: `[w0, b0, w1, b1, …]`, the rows scattered into the `<|AUDIO|>` positions.
//!
//! Everything runs in the backend's float type; the reference's fp16 BEATs step is not emulated.

mod aligner;
mod beats;
mod beats_layer;
mod error;
mod interleave;
mod pos_conv;
mod relative_position;
mod tower;
mod tower_layer;

/// BEATs' `activation_fn`, kept here for callers of the audio API.
pub use crate::nn::Activation;
pub use aligner::BeatsAligner;
pub use beats::Beats;
pub use error::AudioError;
pub use interleave::{interleave, try_interleave};
pub use relative_position::relative_position_bucket;
pub use tower::AudioTower;
