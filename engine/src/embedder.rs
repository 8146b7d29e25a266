//! `Embedder`: WAVE's public entry point. Inputs in, L2-normalised vectors out.
//!
//! * Text → `text<|im_end|>` through the LLM, final-norm hidden of the last token.
//! * Audio → Whisper log-mel + audio tower and BEATs fbank + BEATs + aligner, interleaved into the
//!   `<|AUDIO|>` rows of `<|audio_bos|>…<|audio_eos|>{prompt}<|im_end|>`; fusion head.
//! * Video → frame sampling (the model's `video_sampling`: WAVE's 2 fps), patches, vision tower,
//!   into the `<|VIDEO|>` rows; fusion head.
//! * Audio + video → both, interleaved in 2-second chunks; positions time-aligned (TMRoPE, the
//!   default) or plain `0..L-1` as the reference eval loop computes them.
//!
//! Media items run one at a time (batch size 1, as the reference eval). Text items are batched
//! with left padding and per-row positions `0..len-1`, which gives the single-item vectors up
//! to float rounding.

use std::path::Path;

use burn::tensor::{backend::Backend, Int, Tensor, TensorData};

use crate::audio::{try_interleave, AudioError};
use crate::encoded::{EncodedAudio, EncodedMedia, EncodedVideo, PixelNorm, VisionCut, VisionInput};
use crate::fusion::{l2_normalize, text_embedding};
use crate::model::{LoadOptions, Wave};
use crate::positions::{
    rope_positions, MediaGrids, MropePositions, PositionConfig, PositionError, VideoGrid,
};
use crate::preprocess::{
    preprocess_frames, preprocess_video, resample_to_16k, AudioInputs, PreprocessConfig,
    PreprocessError, VideoPatches,
};
use crate::prompt::{
    media_ids, text_ids, MediaKind, MediaPlaceholders, PromptError, PromptTokenizer,
    DEFAULT_AUDIO_PROMPT, DEFAULT_VIDEO_PROMPT,
};
use crate::text::TextError;
use crate::vision::VisionError;
use crate::weights::WeightError;

/// One thing to embed.
#[derive(Debug, Clone)]
pub enum Input {
    /// A caption, query or answer option (the text route).
    Text(String),
    /// Mono PCM in [-1, 1] at `sample_rate`; `prompt` defaults to "Please describe the audio.".
    Audio {
        pcm: Vec<f32>,
        sample_rate: u32,
        prompt: Option<String>,
    },
    /// A silent video; `prompt` defaults to "Please describe the video.".
    Video {
        frames: VideoFrames,
        prompt: Option<String>,
    },
    /// A video with its soundtrack; `prompt` defaults to "Please describe the video.".
    AudioVideo {
        pcm: Vec<f32>,
        sample_rate: u32,
        frames: VideoFrames,
        prompt: Option<String>,
    },
}

/// Decoded RGB frames, `(num_frames, height, width, 3)` row-major.
#[derive(Debug, Clone)]
pub struct VideoFrames {
    pub data: Vec<u8>,
    pub num_frames: usize,
    pub height: usize,
    pub width: usize,
    pub timing: FrameTiming,
}

/// What the frames are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FrameTiming {
    /// Every frame of the clip at this average rate: the model's frame sampling (WAVE's 2 fps)
    /// is applied here.
    Native { fps: f64 },
    /// Frames the caller already sampled uniformly over a clip of `duration_s` seconds
    /// (e.g. WAVE's own sampling done at decode time); used as they are.
    Sampled { duration_s: f64 },
}

/// Position ids of audio-video inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AvPositions {
    /// TMRoPE (`use_audio_in_video`): video and audio ids aligned in time. The default, as in
    /// the training collator and the MTEB wrapper.
    #[default]
    TimeAligned,
    /// Plain `0..L-1`, as WAVE's eval loop computes them.
    Sequential,
}

#[derive(Debug, Clone, Copy)]
pub struct EmbedOptions {
    pub av_positions: AvPositions,
    /// Text inputs per LLM batch (0 or 1: one at a time).
    pub text_batch: usize,
}

impl Default for EmbedOptions {
    fn default() -> Self {
        Self {
            av_positions: AvPositions::default(),
            text_batch: 8,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("loading the model: {0}")]
    Load(#[from] WeightError),
    #[error(transparent)]
    Prompt(#[from] PromptError),
    #[error("preprocessing: {0}")]
    Preprocess(#[from] PreprocessError),
    #[error("audio encoders: {0}")]
    Audio(#[from] AudioError),
    #[error("vision encoder: {0}")]
    Vision(#[from] VisionError),
    #[error("LLM: {0}")]
    Text(#[from] TextError),
    #[error(transparent)]
    Position(#[from] PositionError),
    #[error("invalid input: {0}")]
    Input(String),
    #[error("input {index}: {source}")]
    Item {
        index: usize,
        source: Box<EmbedError>,
    },
}

/// An input made ready for the LLM: its tokens, embedding rows and positions.
pub struct Prepared<B: Backend> {
    pub ids: Vec<u32>,
    /// `(len, hidden)`: token embeddings with the media rows scattered in.
    pub inputs_embeds: Tensor<B, 2>,
    pub positions: MropePositions,
    /// Media route (fusion head) or text route.
    pub media: bool,
}

pub struct Embedder<B: Backend> {
    wave: Wave<B>,
    tokenizer: PromptTokenizer,
    preprocess: PreprocessConfig,
    options: EmbedOptions,
    device: B::Device,
}

impl<B: Backend> Embedder<B> {
    /// Loads everything from a model directory with the default options.
    pub fn load(dir: &Path, device: &B::Device) -> Result<Self, EmbedError> {
        Self::load_with(
            dir,
            &LoadOptions::default(),
            EmbedOptions::default(),
            device,
        )
    }

    pub fn load_with(
        dir: &Path,
        load: &LoadOptions,
        options: EmbedOptions,
        device: &B::Device,
    ) -> Result<Self, EmbedError> {
        let wave = Wave::load_with(dir, load, device)?;
        let tokenizer = PromptTokenizer::from_dir(dir, &wave.config)?;
        let preprocess = PreprocessConfig::from_model_dir(dir)?;
        Ok(Self {
            wave,
            tokenizer,
            preprocess,
            options,
            device: device.clone(),
        })
    }

    /// An embedder over a model built elsewhere (e.g. a trainer's weights at one step).
    pub fn from_parts(
        wave: Wave<B>,
        tokenizer: PromptTokenizer,
        preprocess: PreprocessConfig,
        options: EmbedOptions,
        device: &B::Device,
    ) -> Self {
        Self {
            wave,
            tokenizer,
            preprocess,
            options,
            device: device.clone(),
        }
    }

    pub fn tokenizer(&self) -> &PromptTokenizer {
        &self.tokenizer
    }

    pub fn preprocess_config(&self) -> &PreprocessConfig {
        &self.preprocess
    }

    /// The embedding dimension (the LLM hidden size).
    pub fn dim(&self) -> usize {
        self.wave.text.hidden_size()
    }

    pub fn options(&self) -> EmbedOptions {
        self.options
    }

    pub fn set_options(&mut self, options: EmbedOptions) {
        self.options = options;
    }

    pub fn model(&self) -> &Wave<B> {
        &self.wave
    }

    /// L2-normalised embeddings, one per input, in order.
    pub fn embed(&self, inputs: &[Input]) -> Result<Vec<Vec<f32>>, EmbedError> {
        Ok(self
            .embed_raw(inputs)?
            .iter()
            .map(|v| l2_normalize(v))
            .collect())
    }

    /// One input's L2-normalised embedding.
    pub fn embed_one(&self, input: &Input) -> Result<Vec<f32>, EmbedError> {
        Ok(l2_normalize(
            &self.embed_raw(std::slice::from_ref(input))?.remove(0),
        ))
    }

    /// Embeddings before normalisation (the reference's `mllm_embeds` / `text_embeds`).
    pub fn embed_raw(&self, inputs: &[Input]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut out: Vec<Option<Vec<f32>>> = vec![None; inputs.len()];
        let with_index = |index: usize| {
            move |e: EmbedError| EmbedError::Item {
                index,
                source: Box::new(e),
            }
        };
        let texts: Vec<usize> = (0..inputs.len())
            .filter(|&i| matches!(inputs[i], Input::Text(_)))
            .collect();
        for group in texts.chunks(self.options.text_batch.max(1)) {
            let prepared = group
                .iter()
                .map(|&i| self.prepare(&inputs[i]).map_err(with_index(i)))
                .collect::<Result<Vec<_>, _>>()?;
            let vectors = self.run_batch(prepared).map_err(with_index(group[0]))?;
            for (&i, v) in group.iter().zip(vectors) {
                out[i] = Some(v);
            }
        }
        for (i, input) in inputs.iter().enumerate() {
            if out[i].is_none() {
                let prepared = self.prepare(input).map_err(with_index(i))?;
                out[i] = Some(
                    self.run_batch(vec![prepared])
                        .map_err(with_index(i))?
                        .remove(0),
                );
            }
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// Tokens, input embeddings and positions of one input.
    pub fn prepare(&self, input: &Input) -> Result<Prepared<B>, EmbedError> {
        match input {
            Input::Text(text) => {
                let ids = text_ids(&self.tokenizer, text)?;
                let positions = MropePositions::sequential(ids.len());
                let inputs_embeds = self.wave.text.embed(&ids, &self.device)?;
                Ok(Prepared {
                    ids,
                    inputs_embeds,
                    positions,
                    media: false,
                })
            }
            media => {
                let encoded = self.encode_media(media)?;
                self.prepare_encoded(&encoded, input_prompt(media))
            }
        }
    }

    /// The part of one media input a trainer never trains: the log-mel features, BEATs and the
    /// vision patch embedding. [`Self::prepare_encoded`] finishes it with any prompt.
    pub fn encode_media(&self, input: &Input) -> Result<EncodedMedia<B>, EmbedError> {
        self.encode_media_to(input, VisionCut::PatchEmbedding)
    }

    /// [`Self::encode_media`], stopping the vision side at `cut` (before the patch embedding
    /// for a trainer that trains it).
    pub fn encode_media_to(
        &self,
        input: &Input,
        cut: VisionCut,
    ) -> Result<EncodedMedia<B>, EmbedError> {
        match input {
            Input::Text(_) => Err(EmbedError::Input(
                "text goes through the label route, not the media encoders".into(),
            )),
            Input::Audio {
                pcm, sample_rate, ..
            } => Ok(EncodedMedia {
                kind: MediaKind::Audio,
                audio: self.encode_audio(pcm, *sample_rate)?,
                video: None,
                time_aligned: false,
            }),
            Input::Video { frames, .. } => Ok(EncodedMedia {
                kind: MediaKind::Video,
                audio: Vec::new(),
                video: Some(self.encode_video(frames, cut)?),
                time_aligned: false,
            }),
            Input::AudioVideo {
                pcm,
                sample_rate,
                frames,
                ..
            } => Ok(EncodedMedia {
                kind: MediaKind::Video,
                audio: self.encode_audio(pcm, *sample_rate)?,
                video: Some(self.encode_video(frames, cut)?),
                time_aligned: self.options.av_positions == AvPositions::TimeAligned,
            }),
        }
    }

    /// Tokens, input embeddings and positions of encoded media under `prompt` (`None`: the
    /// retrieval prompt of its kind): the audio tower and BEATs aligner, the vision blocks and
    /// merger, the token layout and the scatter of media rows into it.
    pub fn prepare_encoded(
        &self,
        media: &EncodedMedia<B>,
        prompt: Option<&str>,
    ) -> Result<Prepared<B>, EmbedError> {
        let audio = if media.audio.is_empty() {
            None
        } else {
            let mut rows = Vec::with_capacity(media.audio.len());
            let mut tokens = 0;
            for piece in &media.audio {
                let whisper = self.wave.audio_tower.try_forward(piece.mel.clone())?;
                let n = whisper.dims()[0];
                let beats = self
                    .wave
                    .beats_aligner
                    .try_forward(piece.beats.clone(), n)?;
                rows.push(try_interleave(whisper, beats)?);
                tokens += n;
            }
            Some((Tensor::cat(rows, 0), tokens))
        };
        let video = match &media.video {
            Some(v) => {
                let rows = match &v.input {
                    VisionInput::Embedded(blocks_in) => self
                        .wave
                        .vision
                        .encode_embedded(blocks_in.clone(), v.grid)?,
                    VisionInput::Pixels { patches, .. } => {
                        self.wave.vision.forward(patches.clone(), v.grid)?
                    }
                };
                Some((rows, v.grid, v.second_per_grid))
            }
            None => None,
        };
        let prompt = prompt.unwrap_or(match (media.kind, &media.video) {
            (MediaKind::Audio, _) => DEFAULT_AUDIO_PROMPT,
            _ => DEFAULT_VIDEO_PROMPT,
        });
        self.prepare_media(media.kind, prompt, audio, video, media.time_aligned)
    }

    /// Runs prepared inputs of one route through the LLM and reads the vectors back.
    fn run_batch(&self, items: Vec<Prepared<B>>) -> Result<Vec<Vec<f32>>, EmbedError> {
        let hidden = self.dim();
        let vectors = self.forward_prepared(items)?;
        // `convert`: a backend computing in bf16/f16 hands back its own float type.
        let values = vectors
            .into_data()
            .convert::<f32>()
            .to_vec::<f32>()
            .map_err(|e| EmbedError::Input(format!("reading the embedding back: {e:?}")))?;
        Ok(values.chunks(hidden).map(<[f32]>::to_vec).collect())
    }

    /// Raw embeddings `(batch, hidden)` of prepared inputs of one route (all media or all
    /// text), left-padded when lengths differ. Differentiable under an autodiff backend.
    pub fn forward_prepared(&self, items: Vec<Prepared<B>>) -> Result<Tensor<B, 2>, EmbedError> {
        if items.is_empty() {
            return Err(EmbedError::Input("nothing to embed".into()));
        }
        let media = items[0].media;
        if items.iter().any(|p| p.media != media) {
            return Err(EmbedError::Input(
                "a batch mixes the media route and the text route".into(),
            ));
        }
        let max_len = items.iter().map(|p| p.ids.len()).max().unwrap_or(0);
        let hidden = self.dim();
        let padded = items.iter().any(|p| p.ids.len() != max_len);
        let mut rows = Vec::with_capacity(items.len());
        let mut positions = Vec::with_capacity(items.len());
        let mut mask = Vec::with_capacity(items.len());
        for p in items {
            let pad = max_len - p.ids.len();
            let embeds = if pad > 0 {
                Tensor::cat(
                    vec![Tensor::zeros([pad, hidden], &self.device), p.inputs_embeds],
                    0,
                )
            } else {
                p.inputs_embeds
            };
            rows.push(embeds);
            // Padding rows get position 0; they are masked out as keys.
            let left = |v: Vec<i64>| [vec![0; pad], v].concat();
            positions.push(MropePositions {
                t: left(p.positions.t),
                h: left(p.positions.h),
                w: left(p.positions.w),
            });
            mask.push((0..max_len).map(|j| j >= pad).collect::<Vec<bool>>());
        }
        let x = Tensor::stack(rows, 0);
        let out = self
            .wave
            .text
            .forward(x, &positions, padded.then_some(mask.as_slice()))?;
        Ok(if media {
            self.wave.fusion.media_embedding(&out)
        } else {
            text_embedding(&out)
        })
    }

    /// The Whisper features (checked) and BEATs' output of every Whisper-window piece.
    fn encode_audio(
        &self,
        pcm: &[f32],
        sample_rate: u32,
    ) -> Result<Vec<EncodedAudio<B>>, EmbedError> {
        if pcm.iter().any(|x| !x.is_finite()) {
            return Err(EmbedError::Input("audio samples must be finite".into()));
        }
        let pcm = resample_to_16k(pcm, sample_rate)?;
        // WAVE encodes audio in pieces of the Whisper window (300 s); each piece stands alone.
        let pieces = AudioInputs::from_pcm(&pcm, &self.preprocess)?;
        let mut encoded = Vec::with_capacity(pieces.whisper.len());
        for (feats, fbank) in pieces.whisper.iter().zip(pieces.beats) {
            let mel = Tensor::<B, 2>::from_data(
                TensorData::new(feats.valid(), [feats.n_mels, feats.valid_frames]),
                &self.device,
            );
            self.wave.audio_tower.check_features(&mel)?;
            let fbank = Tensor::<B, 2>::from_data(
                TensorData::new(fbank.values, [fbank.frames, fbank.num_mel_bins]),
                &self.device,
            );
            let beats = self.wave.beats.try_forward(fbank)?;
            encoded.push(EncodedAudio { mel, beats });
        }
        Ok(encoded)
    }

    /// The vision tower's input up to `cut`, its grid and seconds per temporal grid.
    fn encode_video(
        &self,
        frames: &VideoFrames,
        cut: VisionCut,
    ) -> Result<EncodedVideo<B>, EmbedError> {
        let cfg = &self.preprocess;
        let (patches, second_per_grid): (VideoPatches, f64) = match frames.timing {
            FrameTiming::Native { fps } => {
                let (patches, sampling) = preprocess_video(
                    &frames.data,
                    frames.num_frames,
                    frames.height,
                    frames.width,
                    fps,
                    &cfg.image,
                    &cfg.sampling,
                )?;
                (patches, sampling.second_per_grid)
            }
            FrameTiming::Sampled { duration_s } => {
                if !(duration_s > 0.0 && duration_s.is_finite()) {
                    return Err(EmbedError::Input(format!("video duration {duration_s} s")));
                }
                let patches = preprocess_frames(
                    &frames.data,
                    frames.num_frames,
                    frames.height,
                    frames.width,
                    &cfg.image,
                )?;
                // As video_decord: fps = sampled frames / duration, spg = temporal patch / fps.
                let fps = frames.num_frames as f64 / duration_s;
                (patches, cfg.image.temporal_patch_size as f64 / fps)
            }
        };
        let grid = patches.grid_thw;
        let x = Tensor::<B, 2>::from_data(
            TensorData::new(patches.pixel_values, [patches.n_patches, patches.patch_dim]),
            &self.device,
        );
        let input = match cut {
            VisionCut::PatchEmbedding => {
                VisionInput::Embedded(self.wave.vision.embed_patches(x, grid)?)
            }
            VisionCut::Pixels => VisionInput::Pixels {
                patches: x,
                norm: PixelNorm::of(&cfg.image),
            },
        };
        Ok(EncodedVideo {
            input,
            grid,
            second_per_grid,
        })
    }

    fn prepare_media(
        &self,
        kind: MediaKind,
        prompt: &str,
        audio: Option<(Tensor<B, 2>, usize)>,
        video: Option<(Tensor<B, 2>, [usize; 3], f64)>,
        time_aligned: bool,
    ) -> Result<Prepared<B>, EmbedError> {
        let cfg = &self.wave.config;
        let merge = cfg.vision_config.spatial_merge_size;
        let audio_tokens: Vec<usize> = audio.iter().map(|a| a.1).collect();
        let placeholders = MediaPlaceholders {
            audio_tokens: audio_tokens.clone(),
            images: vec![],
            videos: video.iter().map(|v| (v.1, v.2)).collect(),
            audio_in_video: audio.is_some() && video.is_some(),
            merge_size: merge,
            position_id_per_seconds: cfg.position_id_per_seconds,
            double_audio: true,
        };
        let ids = media_ids(&self.tokenizer, kind, prompt, &placeholders)?;
        let grids = MediaGrids {
            images: vec![],
            videos: video
                .iter()
                .map(|v| VideoGrid {
                    thw: v.1,
                    // forward() receives second_per_grid as a float32 tensor.
                    second_per_grid: v.2 as f32,
                })
                .collect(),
            audio_tokens,
        };
        let positions = rope_positions(&ids, &self.position_config(), &grids, time_aligned)?;

        let tokens = self.wave.text.embed(&ids, &self.device)?;
        let audio_rows = audio.map(|a| a.0);
        let video_rows = video.map(|v| v.0);
        let inputs_embeds = self.scatter(&ids, tokens, audio_rows, video_rows)?;
        Ok(Prepared {
            ids,
            inputs_embeds,
            positions,
            media: true,
        })
    }

    fn position_config(&self) -> PositionConfig {
        let cfg = &self.wave.config;
        PositionConfig {
            image_token_id: cfg.image_token_index,
            video_token_id: cfg.video_token_index,
            audio_token_id: cfg.audio_token_index,
            vision_start_token_id: cfg.vision_start_token_id,
            audio_start_token_id: cfg.audio_start_token_id,
            spatial_merge_size: cfg.vision_config.spatial_merge_size,
            position_id_per_seconds: cfg.position_id_per_seconds as f32,
            audio_doubled: true,
        }
    }

    /// Token embeddings with the audio rows placed at the `<|AUDIO|>` tokens and the video rows
    /// at the `<|VIDEO|>` tokens, each in order (the reference's `masked_scatter`).
    fn scatter(
        &self,
        ids: &[u32],
        tokens: Tensor<B, 2>,
        audio: Option<Tensor<B, 2>>,
        video: Option<Tensor<B, 2>>,
    ) -> Result<Tensor<B, 2>, EmbedError> {
        let cfg = &self.wave.config;
        let len = ids.len();
        let n_audio = audio.as_ref().map_or(0, |a| a.dims()[0]);
        let n_video = video.as_ref().map_or(0, |v| v.dims()[0]);
        let (mut next_audio, mut next_video) = (0usize, 0usize);
        let mut source = Vec::with_capacity(len);
        for (i, &id) in ids.iter().enumerate() {
            if id == cfg.audio_token_index {
                source.push((len + next_audio) as i64);
                next_audio += 1;
            } else if id == cfg.video_token_index {
                source.push((len + n_audio + next_video) as i64);
                next_video += 1;
            } else {
                source.push(i as i64);
            }
        }
        if next_audio != n_audio || next_video != n_video {
            return Err(EmbedError::Input(format!(
                "the prompt has {next_audio} audio and {next_video} video tokens for {n_audio} audio and \
                 {n_video} video rows (does the prompt contain media placeholder tokens?)"
            )));
        }
        let table = Tensor::cat(
            [Some(tokens), audio, video].into_iter().flatten().collect(),
            0,
        );
        let index = Tensor::<B, 1, Int>::from_data(TensorData::new(source, [len]), &self.device);
        Ok(table.select(0, index))
    }
}

/// The prompt an input carries (`None` for text and for media without one).
fn input_prompt(input: &Input) -> Option<&str> {
    match input {
        Input::Text(_) => None,
        Input::Audio { prompt, .. }
        | Input::Video { prompt, .. }
        | Input::AudioVideo { prompt, .. } => prompt.as_deref(),
    }
}
