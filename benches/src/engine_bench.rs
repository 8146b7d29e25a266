//! engine-bench: items/s per modality on the CPU, wave's engine against PyTorch (transformers'
//! Qwen2.5-Omni thinker), same machine, same run, same model files and inputs.
//!
//! For each config (the golden tiny model; a mid-size one with random weights that both sides
//! load from the same model.safetensors) the PyTorch side (python/torch_side.py) builds each
//! modality's input from the golden cases — token ids in the thinker's layout, log-mel features,
//! video patches, M-RoPE positions — times it and writes inputs and outputs to a file. This side
//! then times the same computation on the same inputs with wave's engine: audio tower and/or
//! vision tower, their rows placed at the placeholder tokens, the decoder, the final-norm state of
//! the last token. Both outputs are compared (max |Δ|), which shows the two compute the same.
//!
//! WAVE's BEATs branch, its aligner and its fusion head have no counterpart in the transformers
//! class, so the comparison leaves them out; the last column times wave's whole `Embedder`
//! (preprocessing from raw PCM/frames, BEATs, fusion, normalisation) for reference.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, ensure, Context, Result};
use burn::tensor::{Tensor, TensorData};
use clap::Parser;
use wave_engine::embedder::{Embedder, FrameTiming, Input, VideoFrames};
use wave_engine::model::Wave;
use wave_engine::positions::MropePositions;
use wave_engine::random_model::write_random_model;
use wave_engine::weights::{StoredDtype, WeightStore};
use wave_engine::CpuBackend as B;

#[derive(Parser)]
#[command(
    about = "wave's engine vs PyTorch (Qwen2.5-Omni thinker), items/s per modality on the CPU"
)]
struct Args {
    /// Golden set: the tiny model, its tokenizer and the cases the inputs come from.
    #[arg(long, env = "WAVE_GOLDEN_DIR", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/golden/wave-tiny-ref"))]
    golden: PathBuf,
    /// Python with torch and transformers (Qwen2.5-Omni: transformers ≥ 4.52).
    #[arg(long, default_value = "python3")]
    python: String,
    /// Minimum timed seconds per modality and side.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Configs to run: tiny (the golden model), mid (hidden 512, 8 layers, random weights).
    #[arg(long, value_delimiter = ',', default_value = "tiny,mid")]
    configs: Vec<String>,
    /// Threads for both sides (burn's rayon pool, torch's intra-op pool); default: every core.
    #[arg(long)]
    threads: Option<usize>,
    /// Scratch directory for the mid-size model and the exchanged tensors.
    #[arg(long, default_value = "target/bench-data/engine")]
    work: PathBuf,
}

const MODALITIES: [&str; 4] = ["text", "audio", "video", "audio-video"];

/// The mid-size config: the golden config with a larger LLM and towers.
const MID: [(&str, i64); 14] = [
    ("text_config.hidden_size", 512),
    ("text_config.intermediate_size", 2048),
    ("text_config.num_hidden_layers", 8),
    ("text_config.num_attention_heads", 8),
    ("text_config.num_key_value_heads", 2),
    ("audio_config.d_model", 256),
    ("audio_config.encoder_layers", 4),
    ("audio_config.encoder_attention_heads", 4),
    ("audio_config.encoder_ffn_dim", 1024),
    ("vision_config.hidden_size", 256),
    ("vision_config.depth", 4),
    ("vision_config.num_heads", 4),
    ("vision_config.intermediate_size", 1024),
    ("beats.encoder_layers", 2),
];

struct Row {
    config: String,
    modality: &'static str,
    tokens: usize,
    wave: f64,
    torch: f64,
    max_diff: f32,
    wave_full: f64,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    // burn's Flex backend parallelises (gemm included) on rayon's global pool.
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()?;
    eprintln!("{threads} thread(s) per side");
    ensure!(
        args.golden.join("config.json").is_file(),
        "no golden set at {} (--golden or WAVE_GOLDEN_DIR)",
        args.golden.display()
    );
    std::fs::create_dir_all(&args.work)?;
    let mut rows = Vec::new();
    for config in &args.configs {
        let dir = match config.as_str() {
            "tiny" => args.golden.clone(),
            "mid" => {
                let dir = args.work.join("mid");
                let overrides: Vec<_> = MID
                    .iter()
                    .map(|&(k, v)| (k.to_string(), serde_json::json!(v)))
                    .collect();
                let m = write_random_model(&args.golden, &dir, &overrides, StoredDtype::F32, 1)?;
                eprintln!("mid: {} parameters in {}", m.parameters, dir.display());
                dir
            }
            other => bail!("unknown config {other} (tiny, mid)"),
        };
        rows.extend(bench_config(&args, config, &dir)?);
    }
    print_table(&rows);
    Ok(())
}

fn bench_config(args: &Args, config: &str, dir: &Path) -> Result<Vec<Row>> {
    // PyTorch first, alone on the machine; then wave, alone.
    let exchange = args.work.join(format!("{config}-torch.safetensors"));
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/torch_side.py");
    let out = Command::new(&args.python)
        .arg(&script)
        .arg("--model")
        .arg(dir)
        .arg("--golden")
        .arg(&args.golden)
        .arg("--out")
        .arg(&exchange)
        .arg("--seconds")
        .arg(args.seconds.to_string())
        .arg("--threads")
        .arg(rayon::current_num_threads().to_string())
        .output()
        .with_context(|| format!("running {} {}", args.python, script.display()))?;
    ensure!(
        out.status.success(),
        "torch side failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout)?;
    let torch: serde_json::Value = serde_json::from_str(
        stdout
            .lines()
            .last()
            .context("torch side printed nothing")?,
    )?;
    eprintln!(
        "{config}: torch {} with {} threads",
        torch["torch"], torch["threads"]
    );

    let device = Default::default();
    let wave = Wave::<B>::load(dir, &device)?;
    let embedder = Embedder::<B>::load(dir, &device)?;
    let mut inputs = WeightStore::default();
    inputs.add_safetensors(&exchange, "")?;

    let mut rows = Vec::new();
    for modality in MODALITIES {
        let item = ThinkerInput::read(&inputs, modality)?;
        let expected = inputs.read_f32(&format!("{}.last_hidden", item.key))?.0;
        let mut last = Vec::new();
        let wave_rate = items_per_s(args.seconds, || {
            last = thinker_forward(&wave, &item)?;
            Ok(())
        })?;
        let max_diff = last
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        let raw = raw_input(&args.golden, modality)?;
        let wave_full = items_per_s(args.seconds, || {
            embedder.embed_one(&raw)?;
            Ok(())
        })?;
        rows.push(Row {
            config: config.to_string(),
            modality,
            tokens: item.ids.len(),
            wave: wave_rate,
            torch: torch["results"][modality]["items_per_s"]
                .as_f64()
                .context("torch result missing")?,
            max_diff,
            wave_full,
        });
    }
    Ok(rows)
}

/// One modality's input as the torch side built it.
struct ThinkerInput {
    key: String,
    ids: Vec<u32>,
    positions: MropePositions,
    /// `(mels, frames)` log-mel features.
    mel: Option<Tensor<B, 2>>,
    /// `(patches, patch_dim)` video patches and their grid.
    video: Option<(Tensor<B, 2>, [usize; 3])>,
}

impl ThinkerInput {
    fn read(store: &WeightStore, modality: &str) -> Result<Self> {
        let key = modality.replace('-', "_");
        let device = Default::default();
        let tensor = |name: &str| -> Result<Option<Tensor<B, 2>>> {
            let name = format!("{key}.{name}");
            if !store.contains(&name) {
                return Ok(None);
            }
            let (values, shape) = store.read_f32(&name)?;
            Ok(Some(Tensor::from_data(
                TensorData::new(values, [shape[0], shape[1]]),
                &device,
            )))
        };
        let ids = store.read_f32(&format!("{key}.input_ids"))?.0;
        let (pos, shape) = store.read_f32(&format!("{key}.position_ids"))?;
        let len = shape[1];
        let row = |r: usize| {
            pos[r * len..(r + 1) * len]
                .iter()
                .map(|&x| x as i64)
                .collect()
        };
        let video = match tensor("pixel_values_videos")? {
            Some(pixels) => {
                let grid = store.read_f32(&format!("{key}.video_grid_thw"))?.0;
                Some((
                    pixels,
                    [grid[0] as usize, grid[1] as usize, grid[2] as usize],
                ))
            }
            None => None,
        };
        Ok(Self {
            ids: ids.iter().map(|&x| x as u32).collect(),
            positions: MropePositions {
                t: row(0),
                h: row(1),
                w: row(2),
            },
            mel: tensor("input_features")?,
            video,
            key,
        })
    }
}

/// Towers, placeholder rows, decoder; the final-norm state of the last token.
fn thinker_forward(wave: &Wave<B>, item: &ThinkerInput) -> Result<Vec<f32>> {
    let device = Default::default();
    let mut x = wave.text.embed(&item.ids, &device)?;
    if let Some(mel) = &item.mel {
        let rows = wave.audio_tower.try_forward(mel.clone())?;
        x = place_rows(x, &item.ids, wave.config.audio_token_index, rows)?;
    }
    if let Some((pixels, grid)) = &item.video {
        let rows = wave.vision.forward(pixels.clone(), *grid)?;
        x = place_rows(x, &item.ids, wave.config.video_token_index, rows)?;
    }
    let [len, hidden] = x.dims();
    let out = wave.text.forward(
        x.reshape([1, len, hidden]),
        std::slice::from_ref(&item.positions),
        None,
    )?;
    let last = out.last_hidden_state.slice([0..1, len - 1..len, 0..hidden]);
    last.into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .map_err(|e| anyhow::anyhow!("{e:?}"))
}

/// Writes `rows` over the embeddings of the `token` placeholders, in order.
fn place_rows(
    x: Tensor<B, 2>,
    ids: &[u32],
    token: u32,
    rows: Tensor<B, 2>,
) -> Result<Tensor<B, 2>> {
    let [n, hidden] = rows.dims();
    let slots = ids.iter().filter(|&&id| id == token).count();
    ensure!(slots == n, "{slots} placeholder tokens for {n} tower rows");
    let mut x = x;
    let (mut used, mut i) = (0, 0);
    while i < ids.len() {
        if ids[i] != token {
            i += 1;
            continue;
        }
        let start = i;
        while i < ids.len() && ids[i] == token {
            i += 1;
        }
        let run = i - start;
        x = x.slice_assign(
            [start..i, 0..hidden],
            rows.clone().slice([used..used + run, 0..hidden]),
        );
        used += run;
    }
    Ok(x)
}

/// The golden raw input of a modality, for the whole `Embedder` pipeline.
fn raw_input(golden: &Path, modality: &str) -> Result<Input> {
    let open = |name: &str| -> Result<WeightStore> {
        let mut s = WeightStore::default();
        s.add_safetensors(&golden.join("cases").join(name), "")?;
        Ok(s)
    };
    let frames = |g: &WeightStore| -> Result<VideoFrames> {
        let (values, shape) = g.read_f32("video_frames_uint8")?;
        let native = g.read_f32("video_native_num_frames")?.0[0] as f64;
        let fps = g.read_f32("video_native_fps")?.0[0] as f64;
        Ok(VideoFrames {
            data: values.into_iter().map(|x| x as u8).collect(),
            num_frames: shape[0],
            height: shape[1],
            width: shape[2],
            timing: FrameTiming::Sampled {
                duration_s: native / fps,
            },
        })
    };
    Ok(match modality {
        "text" => Input::Text(golden_text(golden)?),
        "audio" => Input::Audio {
            pcm: open("audio.safetensors")?.read_f32("input_raw_wav")?.0,
            sample_rate: 16000,
            prompt: None,
        },
        "video" => Input::Video {
            frames: frames(&open("video.safetensors")?)?,
            prompt: None,
        },
        _ => {
            let g = open("av.safetensors")?;
            Input::AudioVideo {
                pcm: g.read_f32("input_raw_wav")?.0,
                sample_rate: 16000,
                frames: frames(&g)?,
                prompt: None,
            }
        }
    })
}

/// The golden text case's first text (its ids without the closing `<|im_end|>`, as the
/// stand-in word-level tokenizer spells them), so the Embedder sees the thinker's text input.
fn golden_text(golden: &Path) -> Result<String> {
    let mut s = WeightStore::default();
    s.add_safetensors(&golden.join("cases/text.safetensors"), "")?;
    let (ids, shape) = s.read_f32("input_ids_padded")?;
    let len = s.read_f32("input_lengths")?.0[0] as usize;
    let tokenizer: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(golden.join("tokenizer.json"))?)?;
    let mut by_id = std::collections::HashMap::new();
    for (token, id) in tokenizer["model"]["vocab"]
        .as_object()
        .context("no word-level vocab")?
    {
        by_id.insert(id.as_u64().context("bad vocab id")?, token.clone());
    }
    for t in tokenizer["added_tokens"].as_array().into_iter().flatten() {
        by_id.insert(
            t["id"].as_u64().context("bad added token")?,
            t["content"]
                .as_str()
                .context("bad added token")?
                .to_string(),
        );
    }
    ids[..len.min(shape[1]) - 1]
        .iter()
        .map(|&id| {
            by_id
                .get(&(id as u64))
                .cloned()
                .context("id not in the tokenizer")
        })
        .collect()
}

/// Runs `f` once to warm up, then until `seconds` have passed (at least 3 times).
fn items_per_s(seconds: f64, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    f()?;
    let start = Instant::now();
    let mut n = 0;
    while n < 3 || start.elapsed().as_secs_f64() < seconds {
        f()?;
        n += 1;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

fn print_table(rows: &[Row]) {
    println!(
        "| config | modality | tokens | wave items/s | PyTorch items/s | wave / PyTorch | max abs diff | wave Embedder items/s |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {} | {} | {:.1} | {:.1} | {:.2}× | {:.1e} | {:.1} |",
            r.config,
            r.modality,
            r.tokens,
            r.wave,
            r.torch,
            r.wave / r.torch,
            r.max_diff,
            r.wave_full
        );
    }
}
