//! BEATs (microsoft/unilm), the audio-event encoder, wave.md §6.
//!
//! Normalised fbank (F, bins) → 16×16 patch Conv2d, patches flattened time-major → LayerNorm →
//! post_extract_proj → + conv positional embedding → encoder LayerNorm (post-LN cfg) →
//! layers sharing one relative-position bias. Output (8·⌊F/16⌋, encoder_embed_dim) for 128 bins.

use burn::tensor::{backend::Backend, module, ops::ConvOptions, Tensor};

use super::beats_layer::BeatsLayer;
use super::error::AudioError;
use super::pos_conv::PosConv;
use super::relative_position::RelativePositionBias;
use crate::config::BeatsConfig;
use crate::nn::{Activation, Bias, LayerNorm, Linear, TORCH_LAYER_NORM_EPS};
use crate::weights::{WeightError, WeightStore};

#[derive(Debug, Clone)]
pub struct Beats<B: Backend> {
    patch_weight: Tensor<B, 4>,
    patch_bias: Option<Tensor<B, 1>>,
    patch_size: usize,
    patch_norm: LayerNorm<B>,
    /// Absent when the patch dim already equals the encoder dim.
    post_extract_proj: Option<Linear<B>>,
    pos_conv: PosConv<B>,
    encoder_norm: LayerNorm<B>,
    relative_bias: Option<RelativePositionBias<B>>,
    layers: Vec<BeatsLayer<B>>,
    layer_norm_first: bool,
}

impl<B: Backend> Beats<B> {
    /// Loads BEATs' weights under `prefix` (e.g. `"beats."`). The relative-position table is
    /// stored once per layer (identical copies): layer 0's is used, the others are marked used,
    /// as is the unused AudioSet `predictor`.
    pub fn load(
        store: &WeightStore,
        prefix: &str,
        cfg: &BeatsConfig,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        let activation =
            Activation::from_name(&cfg.activation_fn).ok_or_else(|| WeightError::Config {
                path: "beats cfg".into(),
                message: format!("unsupported activation_fn `{}`", cfg.activation_fn),
            })?;
        let e = cfg.embed_dim;
        let d = cfg.encoder_embed_dim;
        let p = cfg.input_patch_size;
        let enc = format!("{prefix}encoder");

        let relative_bias = if cfg.relative_position_embedding {
            let name =
                |i: usize| format!("{enc}.layers.{i}.self_attn.relative_attention_bias.weight");
            for i in 1..cfg.encoder_layers {
                store.mark_used(&name(i));
            }
            Some(RelativePositionBias::load(
                store,
                &name(0),
                cfg.num_buckets,
                cfg.encoder_attention_heads,
                cfg.max_distance,
                device,
            )?)
        } else {
            None
        };
        let layers = (0..cfg.encoder_layers)
            .map(|i| BeatsLayer::load(store, &format!("{enc}.layers.{i}"), cfg, activation, device))
            .collect::<Result<Vec<_>, _>>()?;
        if cfg.finetuned_model {
            store.mark_used(&format!("{prefix}predictor.weight"));
            store.mark_used(&format!("{prefix}predictor.bias"));
        }
        Ok(Self {
            patch_weight: store.tensor(
                &format!("{prefix}patch_embedding.weight"),
                [e, 1, p, p],
                device,
            )?,
            patch_bias: if cfg.conv_bias {
                Some(store.tensor(&format!("{prefix}patch_embedding.bias"), [e], device)?)
            } else {
                None
            },
            patch_size: p,
            patch_norm: LayerNorm::load(
                store,
                &format!("{prefix}layer_norm"),
                e,
                TORCH_LAYER_NORM_EPS,
                device,
            )?,
            post_extract_proj: if e != d {
                Some(Linear::load(
                    store,
                    &format!("{prefix}post_extract_proj"),
                    e,
                    d,
                    Bias::Required,
                    device,
                )?)
            } else {
                None
            },
            pos_conv: PosConv::load(
                store,
                &format!("{enc}.pos_conv.0"),
                d,
                cfg.conv_pos,
                cfg.conv_pos_groups,
                device,
            )?,
            encoder_norm: LayerNorm::load(
                store,
                &format!("{enc}.layer_norm"),
                d,
                TORCH_LAYER_NORM_EPS,
                device,
            )?,
            relative_bias,
            layers,
            layer_norm_first: cfg.layer_norm_first,
        })
    }

    /// Number of output tokens for an fbank of `frames` × `bins`.
    pub fn num_tokens(&self, frames: usize, bins: usize) -> usize {
        (frames / self.patch_size) * (bins / self.patch_size)
    }

    /// Checks the input shape, then runs [`Self::forward`].
    pub fn try_forward(&self, fbank: Tensor<B, 2>) -> Result<Tensor<B, 2>, AudioError> {
        let [frames, bins] = fbank.dims();
        let min = self.patch_size;
        if bins < min {
            return Err(AudioError::TooShort {
                what: "BEATs fbank",
                unit: "mel bins",
                found: bins,
                min,
            });
        }
        if frames < min {
            return Err(AudioError::TooShort {
                what: "BEATs fbank",
                unit: "frames",
                found: frames,
                min,
            });
        }
        Ok(self.forward(fbank))
    }

    /// Normalised fbank (F, bins) → features (n_b, encoder_embed_dim), `feature_only` output.
    /// Expects at least one patch in each direction (see [`Self::try_forward`]).
    pub fn forward(&self, fbank: Tensor<B, 2>) -> Tensor<B, 2> {
        let mut x = self.encoder_input(fbank);
        let bias = self.relative_bias.as_ref().map(|b| b.forward(x.dims()[0]));
        // Layer 0 computes the ungated bias and hands it on; every layer applies its own gate.
        for layer in &self.layers {
            x = layer.forward(x, bias.as_ref());
        }
        if self.layer_norm_first {
            x = self.encoder_norm.forward(x);
        }
        x
    }

    /// Patch embedding → LayerNorm → post_extract_proj: (n_b, encoder_embed_dim).
    pub fn patch_features(&self, fbank: Tensor<B, 2>) -> Tensor<B, 2> {
        let [frames, bins] = fbank.dims();
        let p = self.patch_size;
        let patches = module::conv2d(
            fbank.reshape([1, 1, frames, bins]),
            self.patch_weight.clone(),
            self.patch_bias.clone(),
            ConvOptions::new([p, p], [0, 0], [1, 1], 1),
        );
        // (1, E, T, Fp) → (T·Fp, E): token index t·Fp + f (time-major).
        let [_, e, t, f] = patches.dims();
        let x = patches.reshape([e, t * f]).transpose();
        let x = self.patch_norm.forward(x);
        match &self.post_extract_proj {
            Some(proj) => proj.forward(x),
            None => x,
        }
    }

    /// Patch features + positional conv, then the encoder LayerNorm in the post-LN layout:
    /// the input of layer 0.
    pub fn encoder_input(&self, fbank: Tensor<B, 2>) -> Tensor<B, 2> {
        let x = self.patch_features(fbank);
        let x = x.clone() + self.pos_conv.forward(x);
        if self.layer_norm_first {
            x
        } else {
            self.encoder_norm.forward(x)
        }
    }
}
