//! The small layers every tower shares.
//!
//! Each loads checkpoint (PyTorch) names under a prefix and keeps the reference's numerics:
//! weights transposed once at load, everything over the last dimension in the backend's float type.

pub mod linear;

pub use linear::{Bias, Linear};
