//! WAVE in burn: turns text, audio, silent video and audio-video into one embedding space.
//!
//! The crate knows no store, no files beyond a model directory, and no API: inputs in, vectors out.

pub mod config;
pub mod weights;
pub mod nn;

/// The CPU backend used by default.
pub type CpuBackend = burn::backend::Flex;

pub mod audio;
pub mod preprocess;
pub mod text;
pub mod vision;
pub mod positions;
pub mod prompt;
pub mod fusion;
pub mod model;
pub mod embedder;
