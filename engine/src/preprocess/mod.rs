//! WAVE's input preprocessing in plain Rust: audio and video in, model input tensors out.
//!
//! Audio: 16 kHz mono PCM (`&[f32]` in [-1, 1]) becomes the Whisper log-mel features of the
//! Qwen2.5-Omni audio tower ([`whisper_features`]) and the kaldi fbank of BEATs
//! ([`beats_fbank`]), per 300 s piece ([`AudioInputs::from_pcm`] does both); other sample
//! rates go through [`resample_to_16k`] first.
//! Video: decoded uint8 RGB frames become the Qwen2-VL patch rows ([`preprocess_video`]),
//! after the reference's frame sampling ([`sample_frames`]) and resize ([`smart_resize`],
//! [`resize_bicubic`]).
//!
//! Every step mirrors what the reference pipeline (WAVE's `data_qwen.py` with transformers'
//! WhisperFeatureExtractor / Qwen2VLImageProcessor, torchaudio's kaldi fbank and Pillow)
//! computes, including its rounding quirks; settings come from [`PreprocessConfig`].

mod audio_inputs;
mod audio_segments;
mod bicubic;
mod config;
mod error;
mod frame_sampling;
mod kaldi_fbank;
mod resample;
mod slaney_mel;
mod smart_resize;
mod video_patches;
mod whisper_features;

pub use audio_inputs::AudioInputs;
pub use audio_segments::{audio_segments, pad_to_min_len};
pub use bicubic::resize_bicubic;
pub use config::{
    BeatsFbankConfig, ImageProcessorConfig, PreprocessConfig, VideoSamplingConfig, WhisperConfig,
};
pub use error::PreprocessError;
pub use frame_sampling::{sample_frames, FrameSampling};
pub use kaldi_fbank::{beats_fbank, beats_token_count, BeatsFbank};
pub use resample::{first_channel, resample_to_16k, TARGET_SAMPLE_RATE};
pub use slaney_mel::slaney_mel_filters;
pub use smart_resize::smart_resize;
pub use video_patches::{preprocess_frames, preprocess_video, VideoPatches};
pub use whisper_features::{whisper_features, whisper_token_count, WhisperFeatures};
