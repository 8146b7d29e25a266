//! WAVE in burn: turns text, audio, silent video and audio-video into one embedding space.
//!
//! The crate knows no store, no files beyond a model directory, and no API: inputs in, vectors out.

pub mod config;
pub mod nn;
pub mod weights;

/// The CPU backend used by default.
pub type CpuBackend = burn::backend::Flex;

/// The CUDA backend (f32 storage; burn runs large f32 matmuls as TF32 on tensor cores).
/// For bf16 compute, set the device's default float dtype (`burn::tensor::set_default_dtypes`)
/// before loading: weights are converted as they are uploaded.
#[cfg(feature = "cuda")]
pub type CudaBackend = burn::backend::Cuda;

/// The backend the product embeds with (ingest, search, the demo, training): CUDA when built
/// with the `cuda` feature, else the CPU.
#[cfg(not(feature = "cuda"))]
pub type DefaultBackend = CpuBackend;
#[cfg(feature = "cuda")]
pub type DefaultBackend = CudaBackend;

pub mod audio;
pub mod embedder;
pub mod encoded;
pub mod fusion;
pub mod model;
pub mod positions;
pub mod preprocess;
pub mod prompt;
pub mod random_model;
pub mod text;
pub mod vision;
