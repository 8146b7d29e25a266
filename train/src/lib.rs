//! Training and evaluation of wave's embedded default model: a small model of the WAVE
//! architecture trained on the synthetic corpus (`wave synth`) with WAVE's recipe.
//!
//! * [`tokenizer`]: byte-level BPE with Qwen2.5-Omni's special tokens.
//! * [`model_dir`]: config in WAVE-7B's layout, initial weights, what is trained.
//! * [`trainer`]: the training loop (`wave train`); [`checkpoint`]: save and resume;
//!   [`batch`]: which scenes a batch holds; [`content`]: what a caption names, wording aside.
//! * [`grow`]: new identity layers in a trained model (`--grow-llm-layers`).
//! * [`eval`]: retrieval, hum and QA metrics (`wave eval`).

pub mod batch;
pub mod checkpoint;
pub mod content;
pub mod corpus;
pub mod error;
pub mod eval;
pub mod grow;
pub mod loss;
pub mod loss_curve;
pub mod media;
pub mod media_cache;
pub mod memory;
pub mod model_dir;
pub mod optim;
pub mod tasks;
pub mod tokenizer;
pub mod trainer;

pub use error::TrainError;
pub use trainer::{train, StepLog, TrainOptions, TrainReport};
