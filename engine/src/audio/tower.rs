//! The Qwen2.5-Omni audio tower (Whisper-shaped encoder), wave.md §5.2.
//!
//! Log-mel (num_mel_bins, L) → 2-second chunks → conv1+GELU, conv2(stride 2)+GELU → sinusoid
//! positions restarting in every chunk → pre-LN layers attending within chunks →
//! AvgPool1d(2) over the whole clip → ln_post → proj. Output (N_a, output_dim), 25 tokens/s.

use burn::tensor::{
    activation, backend::Backend, module, ops::ConvOptions, ops::PadMode, Tensor, TensorData,
};

use super::error::AudioError;
use super::tower_layer::TowerLayer;
use crate::config::AudioConfig;
use crate::nn::{Bias, LayerNorm, Linear, TORCH_LAYER_NORM_EPS};
use crate::weights::{WeightError, WeightStore};

/// The conv front end's kernel size (fixed by the architecture: Conv1d(k=3, padding=1)).
const CONV_KERNEL: usize = 3;

#[derive(Debug, Clone)]
pub struct AudioTower<B: Backend> {
    conv1_weight: Tensor<B, 3>,
    conv1_bias: Tensor<B, 1>,
    conv2_weight: Tensor<B, 3>,
    conv2_bias: Tensor<B, 1>,
    /// Sinusoid table for one chunk's tokens after conv2, (chunk_tokens, d_model).
    positions: Tensor<B, 2>,
    layers: Vec<TowerLayer<B>>,
    ln_post: LayerNorm<B>,
    proj: Linear<B>,
    num_mel_bins: usize,
    /// Mel frames per chunk: n_window * 2 (2 s).
    chunk_frames: usize,
}

impl<B: Backend> AudioTower<B> {
    /// Loads `{prefix}conv1`, `conv2`, `layers.N.*`, `ln_post`, `proj` (prefix e.g. `"audio_tower."`).
    /// `audio_bos_eos_token` is not used by WAVE and is only marked as used.
    pub fn load(
        store: &WeightStore,
        prefix: &str,
        cfg: &AudioConfig,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        let d = cfg.d_model;
        let chunk_frames = cfg.n_window * 2;
        let chunk_tokens = conv2_len(chunk_frames);
        if chunk_frames == 0 || chunk_tokens > cfg.max_source_positions {
            return Err(WeightError::Config {
                path: "config.json".into(),
                message: format!(
                    "audio_config: n_window {} gives {chunk_tokens} positions per chunk \
                     (max_source_positions {})",
                    cfg.n_window, cfg.max_source_positions
                ),
            });
        }
        let layers = (0..cfg.encoder_layers)
            .map(|i| TowerLayer::load(store, &format!("{prefix}layers.{i}"), cfg, device))
            .collect::<Result<Vec<_>, _>>()?;
        store.mark_used(&format!("{prefix}audio_bos_eos_token.weight"));
        Ok(Self {
            conv1_weight: store.tensor(
                &format!("{prefix}conv1.weight"),
                [d, cfg.num_mel_bins, CONV_KERNEL],
                device,
            )?,
            conv1_bias: store.tensor(&format!("{prefix}conv1.bias"), [d], device)?,
            conv2_weight: store.tensor(
                &format!("{prefix}conv2.weight"),
                [d, d, CONV_KERNEL],
                device,
            )?,
            conv2_bias: store.tensor(&format!("{prefix}conv2.bias"), [d], device)?,
            positions: sinusoid_table(chunk_tokens, d, device),
            layers,
            ln_post: LayerNorm::load(
                store,
                &format!("{prefix}ln_post"),
                d,
                TORCH_LAYER_NORM_EPS,
                device,
            )?,
            proj: Linear::load(
                store,
                &format!("{prefix}proj"),
                d,
                cfg.output_dim,
                Bias::Required,
                device,
            )?,
            num_mel_bins: cfg.num_mel_bins,
            chunk_frames,
        })
    }

    /// Number of output tokens for `frames` valid mel frames: ((L-1)//2+1-2)//2+1.
    pub fn num_tokens(frames: usize) -> usize {
        conv2_len(frames) / 2
    }

    /// Checks the input shape, then runs [`Self::forward`].
    pub fn try_forward(&self, features: Tensor<B, 2>) -> Result<Tensor<B, 2>, AudioError> {
        self.check_features(&features)?;
        Ok(self.forward(features))
    }

    /// Rejects features the tower cannot take: wrong mel bins, or too few frames.
    pub fn check_features(&self, features: &Tensor<B, 2>) -> Result<(), AudioError> {
        let [mels, frames] = features.dims();
        if mels != self.num_mel_bins {
            return Err(AudioError::Dim {
                what: "audio tower input",
                axis: "mel bins",
                expected: self.num_mel_bins,
                found: mels,
            });
        }
        // Fewer than 3 frames pool to zero tokens.
        if Self::num_tokens(frames) == 0 {
            return Err(AudioError::TooShort {
                what: "audio tower input",
                unit: "mel frames",
                found: frames,
                min: 3,
            });
        }
        Ok(())
    }

    /// Log-mel features (num_mel_bins, L) → audio tokens (N_a, output_dim).
    /// Expects `num_mel_bins` rows and L ≥ 3 (see [`Self::try_forward`]).
    pub fn forward(&self, features: Tensor<B, 2>) -> Tensor<B, 2> {
        self.project(self.encode_pooled(features))
    }

    /// `ln_post` then `proj`: pooled encoder states (N_a, d_model) → audio tokens (N_a, output_dim).
    pub fn project(&self, pooled: Tensor<B, 2>) -> Tensor<B, 2> {
        self.proj.forward(self.ln_post.forward(pooled))
    }

    /// Front end, layers and pooling: (N_a, d_model), before ln_post.
    pub fn encode_pooled(&self, features: Tensor<B, 2>) -> Tensor<B, 2> {
        let mut x = self.front_end(features);
        let chunk_tokens = self.positions.dims()[0];
        for layer in &self.layers {
            x = layer.forward(x, chunk_tokens);
        }
        // AvgPool1d(2, 2) over the whole clip (not per chunk), dropping an odd last token.
        let [tokens, d] = x.dims();
        let pooled = tokens / 2;
        x.narrow(0, 0, pooled * 2)
            .reshape([pooled, 2, d])
            .mean_dim(1)
            .reshape([pooled, d])
    }

    /// Conv front end plus positions: (Σ tokens of all chunks, d_model), the input of layer 0.
    pub fn front_end(&self, features: Tensor<B, 2>) -> Tensor<B, 2> {
        let device = features.device();
        let [mels, frames] = features.dims();
        let c = self.chunk_frames;
        let chunks = frames.div_ceil(c);
        let tail = frames - (chunks - 1) * c;

        // (chunks, mels, c): every chunk zero-padded to the full length, as the reference does.
        let x = features
            .pad([(0, chunks * c - frames)], PadMode::Constant(0.0))
            .reshape([mels, chunks, c])
            .swap_dims(0, 1);
        // conv1 outputs past the clip's end are zeroed before conv2 sees them.
        let mask: Vec<f32> = (0..chunks * c)
            .map(|i| if i < frames { 1.0 } else { 0.0 })
            .collect();
        let mask = Tensor::<B, 3>::from_data(TensorData::new(mask, [chunks, 1, c]), &device);

        let x = module::conv1d(
            x,
            self.conv1_weight.clone(),
            Some(self.conv1_bias.clone()),
            ConvOptions::new([1], [1], [1], 1),
        );
        let x = activation::gelu(x) * mask;
        let x = module::conv1d(
            x,
            self.conv2_weight.clone(),
            Some(self.conv2_bias.clone()),
            ConvOptions::new([2], [1], [1], 1),
        );
        // (chunks, chunk_tokens, d) + the positions, which restart in every chunk.
        let x = activation::gelu(x).swap_dims(1, 2) + self.positions.clone().unsqueeze::<3>();

        let [_, chunk_tokens, d] = x.dims();
        let valid = (chunks - 1) * chunk_tokens + conv2_len(tail);
        x.reshape([chunks * chunk_tokens, d]).narrow(0, 0, valid)
    }
}

/// Length after conv2 (kernel 3, stride 2, padding 1): (n-1)//2+1.
fn conv2_len(frames: usize) -> usize {
    if frames == 0 {
        0
    } else {
        (frames - 1) / 2 + 1
    }
}

/// Whisper's sinusoid table `[sin(t·ω), cos(t·ω)]`, ω_i = exp(-i·ln(10000)/(d/2-1)), computed in
/// f32 as the reference does (only the increment is formed in f64).
fn sinusoid_table<B: Backend>(rows: usize, channels: usize, device: &B::Device) -> Tensor<B, 2> {
    let half = channels / 2;
    let increment = (10000f64.ln() / (half as f64 - 1.0)) as f32;
    let inv: Vec<f32> = (0..half).map(|i| (-increment * i as f32).exp()).collect();
    let mut table = Vec::with_capacity(rows * channels);
    for t in 0..rows {
        let scaled = inv.iter().map(|w| t as f32 * w);
        table.extend(scaled.clone().map(f32::sin));
        table.extend(scaled.map(f32::cos));
    }
    Tensor::from_data(TensorData::new(table, [rows, channels]), device)
}
