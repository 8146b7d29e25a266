//! Media as the frozen encoders leave it: the Whisper log-mel features, BEATs' output and the
//! vision patch embedding, before what the small model can train (audio tower, BEATs aligner,
//! vision blocks and merger), the LLM and the fusion head. A trainer encodes each clip once
//! ([`crate::embedder::Embedder::encode_media`]), keeps the result on the host
//! ([`EncodedMedia::to_host`]) and re-prepares it at every step.

use burn::tensor::{backend::Backend, Tensor, TensorData};

use crate::prompt::MediaKind;
use crate::weights::HostTensor;

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
    /// `(n_patches, hidden)`: the patch embedding, window order (the first vision block's
    /// input).
    pub blocks_in: Tensor<B, 2>,
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
    /// `(blocks_in, grid, second_per_grid)`.
    pub video: Option<(HostTensor, [usize; 3], f64)>,
    pub time_aligned: bool,
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
                .map(|v| (host(&v.blocks_in), v.grid, v.second_per_grid)),
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
            video: media
                .video
                .as_ref()
                .map(|(blocks_in, grid, spg)| EncodedVideo {
                    blocks_in: device_tensor(blocks_in, device),
                    grid: *grid,
                    second_per_grid: *spg,
                }),
            time_aligned: media.time_aligned,
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
