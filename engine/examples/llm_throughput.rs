//! Times WAVE's LLM (the Qwen2.5-Omni thinker decoder, WAVE-7B's shape by default) on random
//! weights drawn directly on the device: prompt-processing tokens/s, and the share of the
//! device's peak FLOP/s that the matmuls reach.
//!
//! ```text
//! llm_throughput [--backend cpu|cuda] [--dtype f32|bf16] [--batch 4] [--seq 512] [--iters 5]
//!                [--layers 28] [--hidden 3584] [--intermediate 18944] [--heads 28] [--kv-heads 4]
//!                [--vocab 152064] [--peak-tflops X]
//! ```
//!
//! FLOPs per forward: 2 · (decoder weights) per token for the projections, plus the attention
//! products QKᵀ and PV, 4 · L² · heads · head_dim per layer and sequence (the full L×L that the
//! implementation computes under the causal mask). The embedding lookup is free.
//!
//! Peak FLOP/s defaults to the H100 SXM's dense tensor-core figures from NVIDIA's datasheet:
//! 989.4 TFLOP/s bf16 and 494.7 TFLOP/s TF32 (burn runs f32 matmuls as TF32 on tensor cores).
//! Pass `--peak-tflops` for any other device (e.g. the H100 PCIe: 756 bf16 / 378 TF32).

use std::process::ExitCode;
use std::time::Instant;

use burn::tensor::{backend::Backend, set_default_dtypes, DType, Element};
use wave_engine::config::TextConfig;
use wave_engine::positions::MropePositions;
use wave_engine::text::TextModel;
use wave_engine::weights::WeightStore;

struct Args {
    backend: String,
    bf16: bool,
    batch: usize,
    seq: usize,
    iters: usize,
    layers: usize,
    hidden: usize,
    intermediate: usize,
    heads: usize,
    kv_heads: usize,
    vocab: usize,
    peak_tflops: Option<f64>,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        backend: "cpu".into(),
        bf16: false,
        batch: 4,
        seq: 512,
        iters: 5,
        layers: 28,
        hidden: 3584,
        intermediate: 18944,
        heads: 28,
        kv_heads: 4,
        vocab: 152064,
        peak_tflops: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let num = || {
            value
                .parse::<usize>()
                .map_err(|_| format!("{flag} {value}: not a number"))
        };
        match flag.as_str() {
            "--backend" => a.backend = value.clone(),
            "--dtype" => {
                a.bf16 = match value.as_str() {
                    "f32" => false,
                    "bf16" => true,
                    _ => return Err(format!("--dtype {value}: expected f32 or bf16")),
                }
            }
            "--batch" => a.batch = num()?,
            "--seq" => a.seq = num()?,
            "--iters" => a.iters = num()?,
            "--layers" => a.layers = num()?,
            "--hidden" => a.hidden = num()?,
            "--intermediate" => a.intermediate = num()?,
            "--heads" => a.heads = num()?,
            "--kv-heads" => a.kv_heads = num()?,
            "--vocab" => a.vocab = num()?,
            "--peak-tflops" => {
                a.peak_tflops = Some(
                    value
                        .parse()
                        .map_err(|_| format!("--peak-tflops {value}: not a number"))?,
                )
            }
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if a.batch == 0
        || a.seq == 0
        || a.iters == 0
        || a.heads == 0
        || !a.hidden.is_multiple_of(a.heads)
    {
        return Err("batch, seq, iters must be positive and heads must divide hidden".into());
    }
    Ok(a)
}

/// WAVE-7B's text config with the given sizes; M-RoPE sections as 16/24/24 of 64 scale.
fn text_config(a: &Args) -> TextConfig {
    let half = a.hidden / a.heads / 2;
    let t = half / 4;
    let h = (half - t) / 2;
    serde_json::from_value(serde_json::json!({
        "hidden_size": a.hidden,
        "intermediate_size": a.intermediate,
        "num_hidden_layers": a.layers,
        "num_attention_heads": a.heads,
        "num_key_value_heads": a.kv_heads,
        "vocab_size": a.vocab,
        "rms_norm_eps": 1e-6,
        "rope_theta": 1_000_000.0,
        "rope_scaling": {"mrope_section": [t, h, half - t - h]},
    }))
    .expect("a complete text config")
}

fn run<B: Backend>(a: &Args, device: B::Device, default_peak_tflops: f64) -> Result<(), String> {
    if a.bf16 {
        set_default_dtypes::<B>(&device, DType::BF16, B::IntElem::dtype())
            .map_err(|e| format!("bf16 on this device: {e:?}"))?;
    }
    let cfg = text_config(a);
    let start = Instant::now();
    let store = WeightStore::random(0.02);
    let model = TextModel::<B>::load(&store, "model", &cfg, &device).map_err(|e| e.to_string())?;
    B::sync(&device).map_err(|e| format!("{e:?}"))?;
    let params: usize = store
        .requested()
        .iter()
        .map(|(_, s)| s.iter().product::<usize>())
        .sum();
    let embedding = a.vocab * a.hidden;
    println!(
        "{} on {:?} ({}): {} layers, hidden {}, {:.2} B parameters ({:.2} B in the decoder), drawn in {:.1} s",
        B::name(&device),
        device,
        if a.bf16 { "bf16" } else { "f32" },
        a.layers,
        a.hidden,
        params as f64 / 1e9,
        (params - embedding) as f64 / 1e9,
        start.elapsed().as_secs_f64()
    );

    let ids: Vec<u32> = (0..a.batch * a.seq)
        .map(|i| (i * 7919 % a.vocab) as u32)
        .collect();
    let positions = vec![MropePositions::sequential(a.seq); a.batch];
    let forward = || -> Result<(), String> {
        let x = model
            .embed(&ids, &device)
            .map_err(|e| e.to_string())?
            .reshape([a.batch, a.seq, a.hidden]);
        let out = model
            .forward(x, &positions, None)
            .map_err(|e| e.to_string())?;
        drop(out);
        B::sync(&device).map_err(|e| format!("{e:?}"))
    };
    // The first pass compiles and autotunes kernels on a GPU.
    let warm = Instant::now();
    forward()?;
    println!("warm-up pass: {:.2} s", warm.elapsed().as_secs_f64());
    let start = Instant::now();
    for _ in 0..a.iters {
        forward()?;
    }
    let seconds = start.elapsed().as_secs_f64() / a.iters as f64;

    let decoder = (params - embedding) as f64;
    let head_dim = (a.hidden / a.heads) as f64;
    let attention = 4.0 * (a.seq * a.seq) as f64 * a.heads as f64 * head_dim * a.layers as f64;
    let flops = a.batch as f64 * (2.0 * decoder * a.seq as f64 + attention);
    let tokens = (a.batch * a.seq) as f64;
    let achieved = flops / seconds / 1e12;
    println!(
        "batch {} × {} tokens: {:.3} s per forward, {:.0} tokens/s, {:.2} TFLOP/s",
        a.batch,
        a.seq,
        seconds,
        tokens / seconds,
        achieved
    );
    match a
        .peak_tflops
        .or((default_peak_tflops > 0.0).then_some(default_peak_tflops))
    {
        Some(peak) => println!(
            "share of peak: {:.1} % of {peak} TFLOP/s",
            100.0 * achieved / peak
        ),
        None => println!("share of peak: pass --peak-tflops for this device"),
    }
    Ok(())
}

fn main() -> ExitCode {
    let result = parse().and_then(|a| match a.backend.as_str() {
        "cpu" => run::<wave_engine::CpuBackend>(&a, Default::default(), 0.0),
        #[cfg(feature = "cuda")]
        "cuda" => run::<wave_engine::CudaBackend>(
            &a,
            Default::default(),
            if a.bf16 { 989.4 } else { 494.7 },
        ),
        other => Err(format!(
            "--backend {other}: this build has cpu{}",
            if cfg!(feature = "cuda") {
                " and cuda"
            } else {
                " (build with --features cuda for cuda)"
            }
        )),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("llm_throughput: {e}");
            ExitCode::FAILURE
        }
    }
}
