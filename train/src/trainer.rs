//! `wave train`: the small WAVE trained on the synthetic corpus with WAVE's recipe.
//!
//! Per step: the weights are handed to the model through an in-memory `WeightStore` that marks
//! the trainable ones `require_grad`; a batch of one task goes through the same `Embedder`
//! path inference uses (media from the cached output of the encoders' never-trained part); the
//! loss's gradients are read back per tensor, clipped by global norm (the ViT blocks', when
//! they train, as a group of their own), and AdamW updates the host copy.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Instant;

use burn::backend::Autodiff;
use burn::tensor::{backend::AutodiffBackend, Tensor};
use serde::{Deserialize, Serialize};
use wave_engine::config::{BeatsConfig, WaveConfig};
use wave_engine::embedder::{EmbedOptions, Embedder, Input, Prepared};
use wave_engine::encoded::{EncodedMedia, HostMedia, VisionCut};
use wave_engine::model::Wave;
use wave_engine::preprocess::PreprocessConfig;
use wave_engine::prompt::PromptTokenizer;
use wave_engine::weights::{HostTensor, WeightStore};

use crate::batch::{batch_order, BatchKey};
use crate::checkpoint::{self, Checkpoint, TrainerState};
use crate::corpus::Split;
use crate::error::TrainError;
use crate::grow::{grow, Growth};
use crate::loss::{info_nce_with_negatives, qa_loss};
use crate::media::encode_all;
use crate::media_cache;
use crate::memory::{NegativeMemory, Negatives};
use crate::model_dir::{
    checked_against_config, copy_model, init_weights, is_patch_embed, is_vision_block,
    not_a_model_dir, read_configs, set_video_fps, tensor_layout, trainable_names,
    write_config_files, ModelSizes, SplitMix64, VisionTraining,
};
use crate::optim::{clip_grad_norm, learning_rate, AdamW};
use crate::tasks::{media_of, pair, scenes_for, Side, Task};
use crate::tokenizer::train_tokenizer;

/// Where training and evaluation compute: the CPU, or the GPU with the `cuda` feature.
pub type ComputeBackend = wave_engine::DefaultBackend;

pub type TrainBackend = Autodiff<ComputeBackend>;

/// The frozen encoders' output for the run's clips, in the output directory.
pub const MEDIA_CACHE: &str = "encoded-media.safetensors";

/// Everything `wave train` takes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrainOptions {
    /// Corpus root written by `wave synth` (its `train/` split is used).
    pub data: PathBuf,
    /// Output model directory (also the checkpoint).
    pub out: PathBuf,
    pub steps: usize,
    /// Pairs per batch (questions per batch for QA).
    pub batch: usize,
    pub lr: f32,
    pub warmup_ratio: f32,
    pub weight_decay: f32,
    pub max_grad_norm: f32,
    /// InfoNCE temperature τ.
    pub temperature: f32,
    pub seed: u64,
    pub checkpoint_every: usize,
    pub vocab_size: usize,
    pub sizes: ModelSizes,
    /// Use only the first N training scenes (quick runs and tests).
    pub max_scenes: Option<usize>,
    pub init_std: f32,
    /// Stop (with a checkpoint) once this many steps are done, to split a run into sessions;
    /// the schedule still spans `steps`.
    pub stop_after: Option<usize>,
    /// Start from this model directory's weights, configs and tokenizer instead of fresh
    /// ones (a second stage of training; the optimizer and schedule start afresh).
    #[serde(default)]
    pub init_from: Option<PathBuf>,
    /// The tasks batches are drawn from (all of them when `None`); a task listed twice gets
    /// twice the batches.
    #[serde(default)]
    pub tasks: Option<Vec<Task>>,
    /// The fraction of each retrieval batch made of groups of near neighbours (scenes whose
    /// captions share most words); 0 draws the whole batch at random, as WAVE does.
    #[serde(default)]
    pub hard_negatives: f32,
    /// Train the ViT blocks too, at this fraction of `lr` (`None`: they stay random feature
    /// extractors, as WAVE's pretrained encoders stay frozen). Left out of the JSON when
    /// `None`, so runs from before the option resume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vision_blocks_lr_scale: Option<f32>,
    /// Train the ViT's patch embedding too, at this fraction of `lr` (`None`: it stays a
    /// random projection). The media cache then holds pixel patches instead of its output.
    /// Left out of the JSON when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch_embed_lr_scale: Option<f32>,
    /// Sample video at this many frames a second (written to the model's
    /// `preprocessor_runtime.json`, so ingest and search sample at it too); `None` keeps the
    /// initial model's rate, or WAVE's 2 for a new one. Left out of the JSON when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_fps: Option<f64>,
    /// Keep the embeddings of this many recent batches of each retrieval task as extra
    /// negatives (see [`crate::memory`]); 0 uses in-batch negatives only, as WAVE does. Left
    /// out of the JSON when 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub negative_memory: usize,
    /// Layers to add to the `--init-from` model before training (see [`crate::grow`]). Left
    /// out of the JSON when none.
    #[serde(default, skip_serializing_if = "Growth::is_none")]
    pub grow: Growth,
    /// What keeps two pairs out of one batch (see [`BatchKey`]). Runs from before the option
    /// read back as `Caption`, which is how they ran; left out of the JSON then.
    #[serde(default, skip_serializing_if = "BatchKey::is_caption")]
    pub batch_key: BatchKey,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl TrainOptions {
    pub fn new(data: impl Into<PathBuf>, out: impl Into<PathBuf>) -> Self {
        TrainOptions {
            data: data.into(),
            out: out.into(),
            steps: 600,
            batch: 32,
            lr: 1e-3,
            warmup_ratio: 0.03,
            weight_decay: 0.0,
            max_grad_norm: 1.0,
            temperature: 0.05,
            seed: 0,
            checkpoint_every: 50,
            vocab_size: 1024,
            sizes: ModelSizes::default(),
            max_scenes: None,
            init_std: 0.02,
            stop_after: None,
            init_from: None,
            tasks: None,
            hard_negatives: 0.0,
            vision_blocks_lr_scale: None,
            patch_embed_lr_scale: None,
            video_fps: None,
            negative_memory: 0,
            grow: Growth::default(),
            batch_key: BatchKey::Content,
        }
    }

    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |m: String| Err(TrainError::Argument(m));
        if self.steps == 0 {
            return bad("steps must be at least 1".into());
        }
        if self.batch < 2 {
            return bad(format!(
                "batch must be at least 2 (in-batch negatives), got {}",
                self.batch
            ));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad(format!("learning rate must be positive, got {}", self.lr));
        }
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return bad(format!(
                "temperature must be positive, got {}",
                self.temperature
            ));
        }
        if !(0.0..1.0).contains(&self.warmup_ratio) {
            return bad(format!(
                "warmup ratio must be in [0, 1), got {}",
                self.warmup_ratio
            ));
        }
        if !(self.max_grad_norm.is_finite() && self.max_grad_norm > 0.0) {
            return bad(format!(
                "max grad norm must be positive, got {}",
                self.max_grad_norm
            ));
        }
        if self.checkpoint_every == 0 {
            return bad("checkpoint interval must be at least 1 step".into());
        }
        if !(0.0..=1.0).contains(&self.hard_negatives) {
            return bad(format!(
                "hard-negative fraction must be in [0, 1], got {}",
                self.hard_negatives
            ));
        }
        for (what, scale) in [
            ("vision-block", self.vision_blocks_lr_scale),
            ("patch-embedding", self.patch_embed_lr_scale),
        ] {
            if let Some(scale) = scale.filter(|s| !(s.is_finite() && *s > 0.0)) {
                return bad(format!(
                    "{what} learning-rate scale must be positive, got {scale}"
                ));
            }
        }
        if let Some(fps) = self.video_fps {
            // Frames closer together than the time positions' step (1/25 s) could not be told
            // apart by them.
            if !(fps.is_finite() && fps > 0.0 && fps <= 25.0) {
                return bad(format!(
                    "video frame rate must be in (0, 25] frames a second, got {fps}"
                ));
            }
        }
        if self.max_scenes == Some(0) {
            return bad("max scenes must be at least 1".into());
        }
        self.sizes.validate()?;
        if self.tasks.as_ref().is_some_and(|t| t.is_empty()) {
            return bad("at least one task must be trained".into());
        }
        if !self.grow.is_none() && self.init_from.is_none() {
            return bad(
                "growing layers needs --init-from (a new model takes its sizes from --layers)"
                    .into(),
            );
        }
        if self.grow.vision_blocks > 0 && self.vision_blocks_lr_scale.is_none() {
            return bad(
                "growing vision blocks needs --train-vision-blocks (frozen, the new blocks would \
                 stay the identity)"
                    .into(),
            );
        }
        if let Some(model) = &self.init_from {
            let weights = model.join("model.safetensors");
            if !weights.is_file() {
                return Err(not_a_model_dir(weights));
            }
        }
        let train = self.data.join("train").join("corpus.jsonl");
        if !train.is_file() {
            return Err(TrainError::Data {
                path: train,
                message: "not found: --data must be a corpus written by `wave synth`".into(),
            });
        }
        Ok(())
    }

    /// The parts of the ViT this run trains beside the rest.
    pub fn vision_training(&self) -> VisionTraining {
        VisionTraining {
            blocks: self.vision_blocks_lr_scale.is_some(),
            patch_embed: self.patch_embed_lr_scale.is_some(),
        }
    }

    /// Where the media cache stops on the vision side: before the patch embedding when the
    /// run trains it.
    pub fn vision_cut(&self) -> VisionCut {
        if self.patch_embed_lr_scale.is_some() {
            VisionCut::Pixels
        } else {
            VisionCut::PatchEmbedding
        }
    }

    /// The options that must match when resuming (the step budget and interval may change).
    fn identity(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).expect("options serialise");
        for key in ["steps", "checkpoint_every", "out", "stop_after"] {
            v.as_object_mut().map(|o| o.remove(key));
        }
        // Compared with the copy read back from trainer_state.json: pass it through the same
        // text round trip, since serde_json's parser may land a float one ulp off
        // (--warmup-ratio 0.03 did, and its run could not resume).
        serde_json::from_str(&v.to_string()).expect("options JSON reads back")
    }
}

/// One step's record.
#[derive(Debug, Clone, Serialize)]
pub struct StepLog {
    pub step: usize,
    pub task: &'static str,
    pub loss: f32,
    /// Before clipping; without the ViT blocks' (and patch embedding's) gradients, which are
    /// clipped on their own.
    pub grad_norm: f32,
    /// Before clipping, when the ViT blocks or its patch embedding train.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vision_blocks_grad_norm: Option<f32>,
    pub lr: f32,
    pub seconds: f64,
}

/// What a run did.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    pub first_step: usize,
    pub steps: usize,
    pub media_encoded: usize,
    pub encode_seconds: f64,
    pub train_seconds: f64,
    pub losses: Vec<(usize, String, f32)>,
}

/// The model at one step, on the autodiff backend, plus the store that records its
/// trainable tensors.
struct StepModel {
    embedder: Embedder<TrainBackend>,
    store: WeightStore,
}

struct Frozen {
    config: WaveConfig,
    beats: BeatsConfig,
    tokenizer: PromptTokenizer,
    preprocess: PreprocessConfig,
    trainable: BTreeSet<String>,
}

impl Frozen {
    fn model(&self, weights: &BTreeMap<String, HostTensor>) -> Result<StepModel, TrainError> {
        let device = Default::default();
        let store = WeightStore::from_memory(weights.clone(), self.trainable.clone());
        let wave = Wave::<TrainBackend>::from_store(
            self.config.clone(),
            self.beats.clone(),
            &store,
            &device,
        )?;
        let embedder = Embedder::from_parts(
            wave,
            self.tokenizer.clone(),
            self.preprocess.clone(),
            EmbedOptions::default(),
            &device,
        );
        Ok(StepModel { embedder, store })
    }
}

/// Trains (or resumes) into `opts.out`, calling `on_step` after every step.
pub fn train(
    opts: &TrainOptions,
    mut on_step: impl FnMut(&StepLog),
) -> Result<TrainReport, TrainError> {
    opts.validate()?;
    let mut split = Split::open(&opts.data.join("train"))?;
    if let Some(n) = opts.max_scenes {
        split.truncate(n);
    }
    let out = &opts.out;
    let mut ckpt = if checkpoint::exists(out) {
        let ckpt = checkpoint::load(out)?;
        if ckpt.state.options != opts.identity() {
            return Err(TrainError::Argument(format!(
                "{} holds a run with other options ({}); use another --out or the same options",
                out.display(),
                ckpt.state.options
            )));
        }
        tracing::info!(step = ckpt.state.step, "resuming");
        ckpt
    } else {
        start(opts, &split)?
    };
    ckpt.state.total_steps = opts.steps;

    // The frozen encoders run once per clip, through the regular loading path.
    let t0 = Instant::now();
    let frozen_embedder = Embedder::<ComputeBackend>::load(out, &Default::default())
        .map_err(|e| TrainError::embed(format!("loading {}", out.display()), e))?;
    let cache_path = out.join(MEDIA_CACHE);
    let fingerprint = media_cache::frozen_fingerprint(
        &ckpt.weights,
        frozen_embedder.preprocess_config().sampling.fps(),
        opts.vision_cut(),
    );
    let mut cache = media_cache::load(&cache_path, &fingerprint).unwrap_or_default();
    // A task named twice gets two batches a cycle; the order given does not matter.
    let mut chosen: Vec<Task> = opts.tasks.clone().unwrap_or_else(|| Task::DEFAULT.to_vec());
    chosen.sort_by_key(|t| Task::ALL.iter().position(|a| a == t));
    let needed: BTreeSet<String> = chosen.iter().flat_map(|&t| media_of(t, &split)).collect();
    let missing: BTreeMap<String, PathBuf> = split
        .media
        .iter()
        .filter(|(id, _)| needed.contains(*id) && !cache.contains_key(*id))
        .map(|(id, p)| (id.clone(), p.clone()))
        .collect();
    if !missing.is_empty() {
        tracing::info!(
            clips = missing.len(),
            "encoding media with the frozen encoders"
        );
        cache.extend(encode_all(&frozen_embedder, &missing, opts.vision_cut())?);
        media_cache::save(&cache_path, &fingerprint, &cache)?;
    }
    let encode_seconds = t0.elapsed().as_secs_f64();
    let (config, beats) = read_configs(out)?;
    let frozen = Frozen {
        config,
        beats,
        tokenizer: frozen_embedder.tokenizer().clone(),
        preprocess: frozen_embedder.preprocess_config().clone(),
        trainable: trainable_names(&ckpt.weights, opts.vision_training()),
    };
    drop(frozen_embedder);

    // Tasks the split has data for (a small split may have no hums, say).
    let tasks: Vec<Task> = chosen
        .into_iter()
        .filter(|&t| match t {
            Task::Qa => !split.questions.is_empty(),
            t => distinct_pairs(t, &split, opts.batch_key) >= 2,
        })
        .collect();
    if tasks.is_empty() {
        return Err(TrainError::Data {
            path: split.dir.join("corpus.jsonl"),
            message: "no task has two distinct pairs to train on".into(),
        });
    }
    let first_step = ckpt.state.step;
    let warmup = ((opts.steps as f32) * opts.warmup_ratio).round() as usize;
    let t1 = Instant::now();
    let last_step = opts.stop_after.map_or(opts.steps, |s| s.min(opts.steps));
    let mut memory = NegativeMemory::new(opts.negative_memory);
    for step in first_step..last_step {
        let started = Instant::now();
        let task = task_of(step, opts.seed, &tasks);
        let model = frozen.model(&ckpt.weights)?;
        model.store.join_tracked::<TrainBackend>();
        let loss = step_loss(
            &model.embedder,
            task,
            &split,
            &cache,
            opts,
            step,
            &mut memory,
        )?;
        let loss_value = loss.clone().into_data().to_vec::<f32>().expect("f32 loss")[0];
        if !loss_value.is_finite() {
            return Err(TrainError::Argument(format!(
                "step {step} ({}): the loss is {loss_value}; lower --lr or raise --temperature",
                task.name()
            )));
        }
        let grads = loss.backward();
        let mut grad_values = BTreeMap::new();
        for tracked in model.store.take_tracked() {
            if let Some(g) = tracked.grad_values::<TrainBackend>(&grads) {
                grad_values.insert(tracked.name, g);
            }
        }
        // The ViT blocks' gradients (and the patch embedding's) are clipped on their own: their
        // norms were 10-87 against 3-7 for the rest (measured at the start of stage 11), so one
        // global norm would shrink every video batch's step on the rest of the model far more
        // than an audio batch's.
        let (mut vision_grads, mut grad_values): (BTreeMap<_, _>, BTreeMap<_, _>) = grad_values
            .into_iter()
            .partition(|(name, _)| is_vision_block(name) || is_patch_embed(name));
        let grad_norm = clip_grad_norm(&mut grad_values, opts.max_grad_norm);
        let vision_blocks_grad_norm = (!vision_grads.is_empty())
            .then(|| clip_grad_norm(&mut vision_grads, opts.max_grad_norm));
        grad_values.append(&mut vision_grads);
        let lr = learning_rate(step, opts.steps, warmup, opts.lr);
        let vision_lr = lr * opts.vision_blocks_lr_scale.unwrap_or(1.0);
        let patch_embed_lr = lr * opts.patch_embed_lr_scale.unwrap_or(1.0);
        ckpt.optimizer
            .update_with(&mut ckpt.weights, &grad_values, |name| {
                if is_vision_block(name) {
                    vision_lr
                } else if is_patch_embed(name) {
                    patch_embed_lr
                } else {
                    lr
                }
            });
        ckpt.state.step = step + 1;
        ckpt.state
            .losses
            .push((step, task.name().to_string(), loss_value));
        on_step(&StepLog {
            step,
            task: task.name(),
            loss: loss_value,
            grad_norm,
            vision_blocks_grad_norm,
            lr,
            seconds: started.elapsed().as_secs_f64(),
        });
        if (step + 1) % opts.checkpoint_every == 0 || step + 1 == last_step {
            checkpoint::save(out, &ckpt)?;
        }
    }
    if first_step >= last_step {
        checkpoint::save(out, &ckpt)?;
    }
    let svg = crate::loss_curve::loss_curve_svg(&ckpt.state.losses, 20);
    std::fs::write(out.join("loss.svg"), svg)
        .map_err(|e| TrainError::io(out.join("loss.svg"), e))?;
    Ok(TrainReport {
        first_step,
        steps: last_step,
        media_encoded: cache.len(),
        encode_seconds,
        train_seconds: t1.elapsed().as_secs_f64(),
        losses: ckpt.state.losses.clone(),
    })
}

/// A fresh run: tokenizer, configs, initial weights (or those of `--init-from`), step-0
/// checkpoint.
fn start(opts: &TrainOptions, split: &Split) -> Result<Checkpoint, TrainError> {
    let out = &opts.out;
    let weights = match &opts.init_from {
        Some(model) if opts.grow.is_none() => copy_model(model, out)?,
        Some(model) => {
            let grown = grow(out, copy_model(model, out)?, opts.grow)?;
            checked_against_config(out, grown)?
        }
        None => {
            let special = train_tokenizer(&split.texts(), opts.vocab_size, out)?;
            write_config_files(out, &opts.sizes, opts.vocab_size, &special)?;
            let (config, beats) = read_configs(out)?;
            let layout = tensor_layout(&config, &beats)?;
            init_weights(&layout, opts.init_std, opts.seed)
        }
    };
    if let Some(fps) = opts.video_fps {
        set_video_fps(out, fps)?;
    }
    let ckpt = Checkpoint {
        weights,
        optimizer: AdamW::new(opts.weight_decay),
        state: TrainerState {
            step: 0,
            total_steps: opts.steps,
            losses: Vec::new(),
            options: opts.identity(),
        },
    };
    checkpoint::save(out, &ckpt)?;
    Ok(ckpt)
}

/// The task of `step`: every cycle visits each task once, in a seeded order.
pub fn task_of(step: usize, seed: u64, tasks: &[Task]) -> Task {
    let cycle = step / tasks.len();
    let mut order = tasks.to_vec();
    SplitMix64(seed ^ 0x7a5c ^ (cycle as u64).wrapping_mul(0x2545_F491_4F6C_DD1D))
        .shuffle(&mut order);
    order[step % tasks.len()]
}

/// How many in-batch-distinct pairs the split has for a retrieval task.
fn distinct_pairs(task: Task, split: &Split, by: BatchKey) -> usize {
    let keys: BTreeSet<String> = scenes_for(task, split)
        .into_iter()
        .map(|id| batch_key(task, split, id, by))
        .collect();
    keys.len()
}

/// The caption view of a task's text side.
fn text_view(task: Task) -> Option<&'static str> {
    match task {
        Task::TextVideo => Some("visual"),
        Task::TextAudio => Some("audio"),
        Task::AudioVideoText => Some("full"),
        Task::VideoAudio
        | Task::HumAudioVideo
        | Task::TextHum
        | Task::TuneAudioVideo
        | Task::Qa => None,
    }
}

/// Pairs with equal keys must not share a batch (they would be each other's false negatives):
/// equal captions (or, by [`BatchKey::Content`], captions naming the same things), or for
/// hums the same tune. Video↔audio pairs are keyed by scene.
fn batch_key(task: Task, split: &Split, scene_id: &str, by: BatchKey) -> String {
    let scene = &split.scenes[scene_id];
    if task.keyed_by_tune() {
        return format!("tune {:?}", scene.melody);
    }
    if let (BatchKey::Content, Some(view)) = (by, text_view(task)) {
        if let Some(key) = scene.content_key(view) {
            return key;
        }
    }
    match pair(task, scene, 0) {
        Some((Side::Text(text), _)) | Some((_, Side::Text(text))) => text,
        _ => scene_id.to_string(),
    }
}

/// What makes a remembered pair a false negative for a batch: [`batch_key`], except that
/// video↔audio pairs (keyed by scene there, which the shipped stages' batches depend on) are
/// keyed by the scene's full caption (or its content), so a scene that looks and sounds like
/// one in the batch is not remembered as its negative.
fn memory_key(task: Task, split: &Split, scene_id: &str, by: BatchKey) -> String {
    let scene = &split.scenes[scene_id];
    let full = match by {
        BatchKey::Caption => scene.text_full.clone(),
        BatchKey::Content => scene.content_key("full"),
    };
    match (task, full) {
        (Task::VideoAudio, Some(full)) => full,
        _ => batch_key(task, split, scene_id, by),
    }
}

fn step_loss(
    embedder: &Embedder<TrainBackend>,
    task: Task,
    split: &Split,
    cache: &BTreeMap<String, HostMedia>,
    opts: &TrainOptions,
    step: usize,
    memory: &mut NegativeMemory,
) -> Result<Tensor<TrainBackend, 1>, TrainError> {
    let mut rng = SplitMix64(opts.seed ^ (step as u64 + 1).wrapping_mul(0xD134_2543_DE82_EF95));
    if task == Task::Qa {
        return qa_step(embedder, split, cache, opts, &mut rng);
    }
    let mut scenes = scenes_for(task, split);
    rng.shuffle(&mut scenes);
    let scenes = batch_order(
        task,
        split,
        &scenes,
        opts.batch,
        opts.hard_negatives,
        |id| batch_key(task, split, id, opts.batch_key),
        &mut rng,
    );
    // In-batch negatives must be negatives: one scene per caption (and per tune for hums).
    let mut seen = BTreeSet::new();
    let mut keys = Vec::new();
    let mut queries = Vec::new();
    let mut targets = Vec::new();
    for id in scenes {
        let scene = &split.scenes[id];
        let Some((q, t)) = pair(task, scene, rng.below(8)) else {
            continue;
        };
        if !seen.insert(batch_key(task, split, id, opts.batch_key)) {
            continue;
        }
        keys.push(memory_key(task, split, id, opts.batch_key));
        queries.push(q);
        targets.push(t);
        if queries.len() == opts.batch {
            break;
        }
    }
    if queries.len() < 2 {
        return Err(TrainError::Argument(format!(
            "the training split has fewer than 2 distinct pairs for {}",
            task.name()
        )));
    }
    let q = embed_sides(embedder, &queries, cache, None)?;
    let t = embed_sides(embedder, &targets, cache, None)?;
    let in_batch: BTreeSet<String> = keys.iter().cloned().collect();
    let remembered: Option<Negatives<TrainBackend>> =
        memory.negatives(task, &in_batch, &q.device());
    if opts.negative_memory > 0 {
        let values = |x: &Tensor<TrainBackend, 2>| {
            x.clone()
                .inner()
                .into_data()
                .to_vec::<f32>()
                .expect("f32 embeddings")
        };
        memory.remember(task, keys, &values(&q), &values(&t));
    }
    Ok(info_nce_with_negatives(q, t, remembered, opts.temperature))
}

fn qa_step(
    embedder: &Embedder<TrainBackend>,
    split: &Split,
    cache: &BTreeMap<String, HostMedia>,
    opts: &TrainOptions,
    rng: &mut SplitMix64,
) -> Result<Tensor<TrainBackend, 1>, TrainError> {
    let k = split
        .questions
        .iter()
        .map(|q| q.candidates.len())
        .min()
        .unwrap_or(0);
    if split.questions.is_empty() || k < 2 {
        return Err(TrainError::Argument(
            "the training split has no questions with distractors".into(),
        ));
    }
    let mut order: Vec<usize> = (0..split.questions.len()).collect();
    rng.shuffle(&mut order);
    let device = Default::default();
    let mut media = Vec::new();
    let mut candidates = Vec::new();
    for &i in order.iter().take(opts.batch) {
        let q = &split.questions[i];
        let host = cache.get(&q.clip).ok_or_else(|| TrainError::Data {
            path: split.dir.join("corpus.jsonl"),
            message: format!("question {} asks about unknown clip {}", q.id, q.clip),
        })?;
        let encoded = EncodedMedia::<TrainBackend>::from_host(host, &device);
        media.push(
            embedder
                .prepare_encoded(&encoded, Some(&q.question))
                .map_err(|e| TrainError::embed(&q.id, e))?,
        );
        for c in q.candidates.iter().take(k) {
            candidates.push(prepare_text(embedder, c)?);
        }
    }
    let queries = embedder
        .forward_prepared(media)
        .map_err(|e| TrainError::embed("QA batch", e))?;
    let answers = embedder
        .forward_prepared(candidates)
        .map_err(|e| TrainError::embed("QA answers", e))?;
    Ok(qa_loss(queries, answers, k, opts.temperature))
}

fn prepare_text<B: AutodiffBackend>(
    embedder: &Embedder<B>,
    text: &str,
) -> Result<Prepared<B>, TrainError> {
    embedder
        .prepare(&Input::Text(text.to_string()))
        .map_err(|e| TrainError::embed(format!("text {text:?}"), e))
}

/// Raw embeddings of one side of a batch (all text or all media).
fn embed_sides(
    embedder: &Embedder<TrainBackend>,
    sides: &[Side],
    cache: &BTreeMap<String, HostMedia>,
    prompt: Option<&str>,
) -> Result<Tensor<TrainBackend, 2>, TrainError> {
    let device = Default::default();
    let prepared = sides
        .iter()
        .map(|side| match side {
            Side::Text(text) => prepare_text(embedder, text),
            Side::Media(id) => {
                let host = cache
                    .get(id)
                    .ok_or_else(|| TrainError::Argument(format!("media {id} was not encoded")))?;
                let encoded = EncodedMedia::<TrainBackend>::from_host(host, &device);
                embedder
                    .prepare_encoded(&encoded, prompt)
                    .map_err(|e| TrainError::embed(id, e))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    embedder
        .forward_prepared(prepared)
        .map_err(|e| TrainError::embed("batch", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{Content, ObjectRecord, SceneFields};
    use crate::corpus::Scene;

    /// A scene showing a red star bouncing over the night sky, captioned in `visual`'s words,
    /// saying `speech`.
    fn scene(visual: &str, speech: Option<&str>) -> Scene {
        let objects = [ObjectRecord {
            kind: "star".into(),
            colour: "red".into(),
            motion: "bouncing".into(),
        }];
        Scene {
            video: Some(format!("{visual}.v")),
            audio: Some(format!("{visual}.a")),
            text_visual: Some(visual.into()),
            text_audio: Some(format!("A low bell, with crickets. Says {speech:?}.")),
            content: Some(Content::new(&SceneFields {
                objects: &objects,
                background: "night",
                ambience: "crickets",
                speech,
                melody: None,
                key: None,
                bpm: None,
            })),
            ..Scene::default()
        }
    }

    #[test]
    fn content_keys_keep_differently_worded_twins_out_of_one_batch() {
        let split = Split {
            dir: PathBuf::from("corpus/train"),
            scenes: [
                (
                    "a",
                    scene("A red star bounces over a dark night background.", None),
                ),
                (
                    "b",
                    scene("Over a dark night background, a red star bounces.", None),
                ),
                (
                    "c",
                    scene("A dark night background: a red star bounces.", Some("star")),
                ),
            ]
            .into_iter()
            .map(|(id, s)| (id.to_string(), s))
            .collect(),
            questions: Vec::new(),
            media: BTreeMap::new(),
        };
        let key = |task, id, by| batch_key(task, &split, id, by);
        // By caption the three silent videos are three pairs; by content one.
        assert_eq!(
            distinct_pairs(Task::TextVideo, &split, BatchKey::Caption),
            3
        );
        assert_eq!(
            distinct_pairs(Task::TextVideo, &split, BatchKey::Content),
            1
        );
        assert_eq!(
            key(Task::TextVideo, "a", BatchKey::Content),
            key(Task::TextVideo, "c", BatchKey::Content)
        );
        // What is heard differs where one of them speaks.
        assert_ne!(
            key(Task::TextAudio, "a", BatchKey::Content),
            key(Task::TextAudio, "c", BatchKey::Content)
        );
        // Video <-> audio pairs stay keyed by scene.
        assert_ne!(
            key(Task::VideoAudio, "a", BatchKey::Content),
            key(Task::VideoAudio, "b", BatchKey::Content)
        );
    }
}
