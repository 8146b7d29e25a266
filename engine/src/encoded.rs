//! Media as the frozen encoders leave it: the Whisper log-mel features, BEATs' output and the
//! vision patch embedding (or, where a trainer trains the patch embedding too, the pixel
//! patches before it), before what the small model can train (audio tower, BEATs aligner,
//! vision tower and merger), the LLM and the fusion head. A trainer encodes each clip once
//! ([`crate::embedder::Embedder::encode_media_to`]), keeps the result on the host
//! ([`EncodedMedia::to_host`]) and re-prepares it at every step.

use burn::tensor::{backend::Backend, Tensor, TensorData};

use crate::preprocess::ImageProcessorConfig;
use crate::prompt::MediaKind;
use crate::weights::HostTensor;

/// Where [`crate::embedder::Embedder::encode_media_to`] stops on the vision side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisionCut {
    /// After the patch embedding (what inference and most training runs use).
    PatchEmbedding,
    /// Before it: the processor's pixel patches, so the patch embedding can be trained.
    Pixels,
}

/// What the vision tower starts from for one video.
#[derive(Debug, Clone)]
pub enum VisionInput<B: Backend> {
    /// `(n_patches, hidden)`: the patch embedding, window order (the first block's input).
    Embedded(Tensor<B, 2>),
    /// `(n_patches, C·T·p·p)`: the processor's normalised pixel patches, its order, with the
    /// normalisation that made them (so the host copy can keep them as 8-bit values).
    Pixels {
        patches: Tensor<B, 2>,
        norm: PixelNorm,
    },
}

/// One Whisper-window piece of audio.
#[derive(Debug, Clone)]
pub struct EncodedAudio<B: Backend> {
    /// `(num_mel_bins, frames)`: the Whisper log-mel features (the audio tower, small and
    /// trained in the small model, runs in [`crate::embedder::Embedder::prepare_encoded`]).
    pub mel: Tensor<B, 2>,
    /// `(frames, encoder_embed_dim)`: BEATs' output, before the aligner.
    pub beats: Tensor<B, 2>,
}

/// One video.
#[derive(Debug, Clone)]
pub struct EncodedVideo<B: Backend> {
    pub input: VisionInput<B>,
    pub grid: [usize; 3],
    pub second_per_grid: f64,
}

/// One media input, encoded.
#[derive(Debug, Clone)]
pub struct EncodedMedia<B: Backend> {
    /// `Audio` for audio only; `Video` for silent video and audio-video.
    pub kind: MediaKind,
    /// Empty for silent video.
    pub audio: Vec<EncodedAudio<B>>,
    pub video: Option<EncodedVideo<B>>,
    /// Audio-video positions aligned in time (TMRoPE) rather than sequential.
    pub time_aligned: bool,
}

/// [`EncodedMedia`] on the host, for caches: plain values, any backend can take it back.
#[derive(Debug, Clone)]
pub struct HostMedia {
    pub kind: MediaKind,
    /// `(mel, beats)` per piece.
    pub audio: Vec<(HostTensor, HostTensor)>,
    /// `(vision input, grid, second_per_grid)`.
    pub video: Option<(HostVision, [usize; 3], f64)>,
    pub time_aligned: bool,
}

/// [`VisionInput`] on the host. Pixels are kept as the 8-bit values they were decoded from
/// (a quarter of f32's memory; a block of clips is gigabytes), restored exactly.
#[derive(Debug, Clone, PartialEq)]
pub enum HostVision {
    Embedded(HostTensor),
    Pixels(HostPixels),
}

/// Pixel patches as 8-bit values, with the normalisation that maps them back to the
/// processor's floats.
#[derive(Debug, Clone, PartialEq)]
pub struct HostPixels {
    /// `[n_patches, C·T·p·p]`.
    pub shape: [usize; 2],
    pub values: Vec<u8>,
    pub norm: PixelNorm,
}

/// The processor's normalisation, `(value · rescale − mean[c]) / std[c]`, in its own
/// arithmetic (f64 rescale, then f32), so that restoring a quantised value is exact.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PixelNorm {
    pub rescale: f64,
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

impl PixelNorm {
    pub fn of(cfg: &ImageProcessorConfig) -> Self {
        PixelNorm {
            rescale: cfg.rescale_factor,
            mean: cfg.image_mean.map(|x| x as f32),
            std: cfg.image_std.map(|x| x as f32),
        }
    }

    fn normalise(&self, value: u8, channel: usize) -> f32 {
        ((value as f64 * self.rescale) as f32 - self.mean[channel]) / self.std[channel]
    }

    /// The 8-bit value whose normalisation is nearest `x`.
    fn quantise(&self, x: f32, channel: usize) -> u8 {
        let raw = (x * self.std[channel] + self.mean[channel]) as f64 / self.rescale;
        raw.round().clamp(0.0, 255.0) as u8
    }
}

impl HostPixels {
    /// Quantises `(n_patches, C·T·p·p)` normalised patches; the channel of a column is its
    /// position in the (C, T, p, p) flattening.
    pub fn quantise(shape: [usize; 2], values: &[f32], norm: PixelNorm) -> Self {
        let per_channel = (shape[1] / norm.mean.len()).max(1);
        let values = values
            .iter()
            .enumerate()
            .map(|(i, &x)| norm.quantise(x, (i % shape[1]) / per_channel))
            .collect();
        HostPixels {
            shape,
            values,
            norm,
        }
    }

    /// The normalised patches back, as the processor computed them.
    pub fn restore(&self) -> Vec<f32> {
        let per_channel = (self.shape[1] / self.norm.mean.len()).max(1);
        self.values
            .iter()
            .enumerate()
            .map(|(i, &q)| self.norm.normalise(q, (i % self.shape[1]) / per_channel))
            .collect()
    }
}

impl<B: Backend> EncodedMedia<B> {
    pub fn to_host(&self) -> HostMedia {
        HostMedia {
            kind: self.kind,
            audio: self
                .audio
                .iter()
                .map(|a| (host(&a.mel), host(&a.beats)))
                .collect(),
            video: self
                .video
                .as_ref()
                .map(|v| (host_vision(&v.input), v.grid, v.second_per_grid)),
            time_aligned: self.time_aligned,
        }
    }

    pub fn from_host(media: &HostMedia, device: &B::Device) -> Self {
        EncodedMedia {
            kind: media.kind,
            audio: media
                .audio
                .iter()
                .map(|(mel, beats)| EncodedAudio {
                    mel: device_tensor(mel, device),
                    beats: device_tensor(beats, device),
                })
                .collect(),
            video: media.video.as_ref().map(|(input, grid, spg)| EncodedVideo {
                input: match input {
                    HostVision::Embedded(t) => VisionInput::Embedded(device_tensor(t, device)),
                    HostVision::Pixels(p) => VisionInput::Pixels {
                        patches: Tensor::from_data(TensorData::new(p.restore(), p.shape), device),
                        norm: p.norm,
                    },
                },
                grid: *grid,
                second_per_grid: *spg,
            }),
            time_aligned: media.time_aligned,
        }
    }
}

fn host_vision<B: Backend>(input: &VisionInput<B>) -> HostVision {
    match input {
        VisionInput::Embedded(t) => HostVision::Embedded(host(t)),
        VisionInput::Pixels { patches, norm } => {
            let t = host(patches);
            HostVision::Pixels(HostPixels::quantise(
                [t.shape[0], t.shape[1]],
                &t.values,
                *norm,
            ))
        }
    }
}

fn host<B: Backend>(t: &Tensor<B, 2>) -> HostTensor {
    HostTensor {
        shape: t.dims().to_vec(),
        values: t
            .clone()
            .into_data()
            .convert::<f32>()
            .to_vec::<f32>()
            .expect("float tensors read back as f32"),
    }
}

fn device_tensor<B: Backend>(t: &HostTensor, device: &B::Device) -> Tensor<B, 2> {
    Tensor::from_data(
        TensorData::new(t.values.clone(), [t.shape[0], t.shape[1]]),
        device,
    )
}
