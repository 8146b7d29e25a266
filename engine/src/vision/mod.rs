//! The Qwen2.5-VL vision tower of WAVE (checkpoint prefix `visual.`): processor pixel patches in,
//! one embedding per 2×2-merged token out, ready to scatter into the `<|VIDEO|>` positions.

mod attention;
mod block;
mod error;
mod merger;
mod mlp;
mod patch_embed;
mod rms_norm;
mod rotary;
mod tower;
mod windows;

pub use error::VisionError;
pub use tower::{VisionTower, VisionTrace};
pub use windows::WindowLayout;
