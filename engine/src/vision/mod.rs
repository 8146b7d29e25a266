//! The Qwen2.5-VL vision tower of WAVE (checkpoint prefix `visual.`): processor pixel patches in,
//! one embedding per 2×2-merged token out, ready to scatter into the `<|VIDEO|>` positions.

mod attention;
mod block;
mod error;
mod merger;
mod patch_embed;
mod rotary;
mod tower;
mod windows;

/// The vision tower's RMSNorm epsilon (hard-coded in the reference, not in config.json).
const VISION_RMS_EPS: f64 = 1e-6;

pub use error::VisionError;
pub use tower::{VisionTower, VisionTrace};
pub use windows::WindowLayout;
