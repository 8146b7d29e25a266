//! The feed-forward activations a checkpoint's config can name.

use burn::tensor::{activation, backend::Backend, Tensor};

/// An activation chosen by name (BEATs' `cfg.activation_fn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// Exact (erf) GELU, PyTorch's `nn.GELU()` and BEATs' `"gelu"`.
    Gelu,
    /// Tanh-approximated GELU, `"gelu_accurate"` / `"gelu_fast"`.
    GeluTanh,
    Relu,
}

impl Activation {
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "gelu" => Some(Self::Gelu),
            "gelu_accurate" | "gelu_fast" => Some(Self::GeluTanh),
            "relu" => Some(Self::Relu),
            _ => None,
        }
    }

    pub fn apply<const D: usize, B: Backend>(self, x: Tensor<B, D>) -> Tensor<B, D> {
        match self {
            Self::Gelu => activation::gelu(x),
            Self::GeluTanh => activation::gelu_approximate(x),
            Self::Relu => activation::relu(x),
        }
    }
}
