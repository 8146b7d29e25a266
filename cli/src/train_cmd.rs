//! `wave train`: trains the small WAVE on a synthetic corpus (wave-train).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use wave_train::batch::BatchKey;
use wave_train::grow::Growth;
use wave_train::model_dir::ModelSizes;
use wave_train::tasks::Task;
use wave_train::{train, TrainOptions};

#[derive(Args)]
pub struct TrainArgs {
    /// Corpus written by `wave synth` (its train/ split is used).
    #[arg(long)]
    data: PathBuf,
    /// Model directory to write (and the checkpoint to resume from, if it holds one).
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value_t = 600)]
    steps: usize,
    /// Pairs (or questions) per batch; every batch is one task.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Peak learning rate (AdamW, warmup then cosine decay).
    #[arg(long, default_value_t = 1e-3)]
    lr: f32,
    #[arg(long, default_value_t = 0.03)]
    warmup_ratio: f32,
    #[arg(long, default_value_t = 0.0)]
    weight_decay: f32,
    #[arg(long, default_value_t = 1.0)]
    max_grad_norm: f32,
    /// InfoNCE temperature.
    #[arg(long, default_value_t = 0.05)]
    temperature: f32,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Save a checkpoint every N steps (and at the end).
    #[arg(long, default_value_t = 50)]
    checkpoint_every: usize,
    /// Tokenizer vocabulary, special tokens included.
    #[arg(long, default_value_t = 1024, conflicts_with = "init_from")]
    vocab_size: usize,
    /// Stop with a checkpoint after N steps (resume later with the same command); the
    /// schedule still spans --steps.
    #[arg(long)]
    stop_after: Option<usize>,
    /// Train on the first N scenes only.
    #[arg(long)]
    max_scenes: Option<usize>,
    /// LLM hidden size (also the embedding dimension).
    #[arg(long, default_value_t = ModelSizes::default().hidden, conflicts_with = "init_from")]
    hidden: usize,
    #[arg(long, default_value_t = ModelSizes::default().layers, conflicts_with = "init_from")]
    layers: usize,
    /// Continue from this model directory (weights, configs and tokenizer; the optimizer and
    /// the schedule start afresh): a second stage of training.
    #[arg(long)]
    init_from: Option<PathBuf>,
    /// Train only these tasks, comma-separated: t-v, t-a, v-a, av-t, hum-av, qa, t-hum,
    /// tune-av (default: the first six; t-hum pairs a hum with its own caption, tune-av a clip
    /// with its tune's name); a task named twice gets twice the batches.
    #[arg(long, value_delimiter = ',', value_parser = parse_task)]
    tasks: Option<Vec<Task>>,
    /// Fraction of each retrieval batch made of groups of near neighbours (an anchor scene and
    /// the three whose captions share most words with it); 0 draws it all at random.
    #[arg(long, default_value_t = 0.0)]
    hard_negatives: f32,
    /// Train the ViT blocks too (by default they stay as initialised, random feature
    /// extractors, as WAVE keeps its pretrained encoders frozen).
    #[arg(long)]
    train_vision_blocks: bool,
    /// The ViT blocks' learning rate as a fraction of --lr (with --train-vision-blocks; at the
    /// full rate, stage 11's video losses doubled within 30 steps).
    #[arg(long, default_value_t = 0.1, requires = "train_vision_blocks")]
    vision_blocks_lr_scale: f32,
    /// Train the ViT's patch embedding too (by default a random projection of each pixel
    /// patch). The run then caches pixel patches (8-bit) instead of the embedding's output.
    #[arg(long)]
    train_patch_embed: bool,
    /// The patch embedding's learning rate as a fraction of --lr (with --train-patch-embed).
    #[arg(long, default_value_t = 0.1, requires = "train_patch_embed")]
    patch_embed_lr_scale: f32,
    /// Sample video at this many frames a second (the model directory records it, and ingest
    /// and search sample at it too). Default: the --init-from model's rate, or WAVE's 2.
    #[arg(long)]
    video_fps: Option<f64>,
    /// Keep the embeddings of the last N batches of each retrieval task as extra negatives
    /// for its next batches (a cross-batch memory; 0: in-batch negatives only, as WAVE).
    #[arg(long, default_value_t = 0)]
    negative_memory: usize,
    /// What keeps two scenes out of one batch: `content` (captions naming the same things,
    /// however worded) or `caption` (the caption word for word; how stages 1-17 of
    /// wave-tiny ran: scenes showing the same things under other wording were negatives).
    #[arg(long, default_value = "content", value_parser = parse_batch_key)]
    batch_key: BatchKey,
    /// Add N layers to the --init-from model's LLM before training, spread among its trained
    /// layers; each new one starts as the identity, so the grown model embeds as the old one.
    #[arg(long, default_value_t = 0, requires = "init_from")]
    grow_llm_layers: usize,
    /// The same for its audio tower's layers.
    #[arg(long, default_value_t = 0, requires = "init_from")]
    grow_audio_layers: usize,
    /// The same for its vision tower's blocks (trained only with --train-vision-blocks).
    #[arg(long, default_value_t = 0, requires = "init_from")]
    grow_vision_blocks: usize,
    /// Print one JSON object per step instead of a line of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: TrainArgs) -> Result<()> {
    let mut opts = TrainOptions::new(&args.data, &args.out);
    opts.steps = args.steps;
    opts.batch = args.batch;
    opts.lr = args.lr;
    opts.warmup_ratio = args.warmup_ratio;
    opts.weight_decay = args.weight_decay;
    opts.max_grad_norm = args.max_grad_norm;
    opts.temperature = args.temperature;
    opts.seed = args.seed;
    opts.checkpoint_every = args.checkpoint_every;
    opts.vocab_size = args.vocab_size;
    opts.max_scenes = args.max_scenes;
    opts.stop_after = args.stop_after;
    opts.sizes.hidden = args.hidden;
    opts.sizes.layers = args.layers;
    opts.init_from = args.init_from;
    opts.tasks = args.tasks;
    opts.hard_negatives = args.hard_negatives;
    opts.vision_blocks_lr_scale = args
        .train_vision_blocks
        .then_some(args.vision_blocks_lr_scale);
    opts.patch_embed_lr_scale = args.train_patch_embed.then_some(args.patch_embed_lr_scale);
    opts.video_fps = args.video_fps;
    opts.negative_memory = args.negative_memory;
    opts.batch_key = args.batch_key;
    opts.grow = Growth {
        llm_layers: args.grow_llm_layers,
        audio_layers: args.grow_audio_layers,
        vision_blocks: args.grow_vision_blocks,
    };
    let json = args.json;
    let report = train(&opts, |s| {
        if json {
            outln!("{}", serde_json::to_string(s).expect("JSON"));
        } else {
            let vision = s
                .vision_blocks_grad_norm
                .map(|g| format!("  vit grad {g:>7.3}"))
                .unwrap_or_default();
            outln!(
                "step {:>5}  {:<8}  loss {:>8.4}  grad {:>7.3}{vision}  lr {:.2e}  {:.2} s",
                s.step,
                s.task,
                s.loss,
                s.grad_norm,
                s.lr,
                s.seconds
            );
        }
    })
    .with_context(|| format!("training into {}", args.out.display()))?;
    eprintln!(
        "trained steps {}..{} into {} ({} media encoded in {:.0} s; training {:.0} s)",
        report.first_step,
        report.steps,
        args.out.display(),
        report.media_encoded,
        report.encode_seconds,
        report.train_seconds
    );
    Ok(())
}

fn parse_task(key: &str) -> Result<Task, String> {
    Task::from_key(key).ok_or_else(|| {
        let keys: Vec<&str> = Task::ALL.iter().map(|t| t.key()).collect();
        format!("unknown task {key:?} (expected one of {})", keys.join(", "))
    })
}

fn parse_batch_key(key: &str) -> Result<BatchKey, String> {
    match key {
        "content" => Ok(BatchKey::Content),
        "caption" => Ok(BatchKey::Caption),
        other => Err(format!(
            "unknown batch key {other:?} (expected content or caption)"
        )),
    }
}
