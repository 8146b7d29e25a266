//! The small layers every tower shares.
//!
//! Each loads checkpoint (PyTorch) names under a prefix and keeps the reference's numerics:
//! weights transposed once at load, everything over the last dimension in the backend's float type.

pub mod activation;
pub mod layer_norm;
pub mod linear;
pub mod rms_norm;
pub mod swiglu;

pub use activation::Activation;
pub use layer_norm::{LayerNorm, TORCH_LAYER_NORM_EPS};
pub use linear::{Bias, Linear};
pub use rms_norm::RmsNorm;
pub use swiglu::SwiGlu;
