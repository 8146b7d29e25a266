//! `wave-synth`: a deterministic synthetic audio-visual corpus for training and evaluating the
//! default WAVE model.
//!
//! A compositional world: shapes of six kinds and six colours, moving in six ways over four
//! backgrounds. What is heard is tied to what is seen: a kind sounds like its own instrument,
//! a colour plays in its own pitch register, a motion makes its own rhythm, a background has
//! its own ambience. Scenes also play 36 distinct tunes (on different instruments, in different
//! keys and tempos), say words (espeak-ng), and come with captions, questions, and hum
//! queries of their tune. Each scene is written as silent video, audio, audio-video and text;
//! train / val / test hold different attribute combinations out of train.
//!
//! The same seed and options give byte-identical files.

mod ambience;
mod audio;
pub mod caption;
mod clip;
mod encode;
pub mod error;
mod generate;
pub mod hum;
mod instrument;
pub mod melody;
mod motion;
pub mod plan;
pub mod record;
mod render;
pub mod rng;
pub mod scene;
mod speech;
pub mod wav;
pub mod world;

pub use audio::scene_audio;
pub use clip::{scene_frames, VideoFormat, SAMPLE_RATE};
pub use error::{Result, SynthError};
pub use generate::{
    generate, plan, CorpusSize, CorpusSummary, Plan, SplitSummary, SynthOptions, Vocabulary,
    MIN_COUNT,
};
pub use render::Frame;
