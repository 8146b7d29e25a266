//! Writes a model directory with random weights for a WAVE-shaped config.
//!
//! `random_checkpoint TEMPLATE_DIR OUT_DIR [--dtype f32|bf16|f16] [--seed N] [KEY=VALUE ...]`
//!
//! The template (e.g. the golden tiny model) gives the config, tokenizer and preprocessor files;
//! each `KEY=VALUE` overrides a config.json entry by dotted path (`text_config.hidden_size=1536`),
//! or beats_cfg.json with a `beats.` prefix. Sizes tied to the LLM follow it (see
//! `wave_engine::random_model`). Example, ~3.2 GB of f32:
//!
//! ```text
//! cargo run --release -p wave-engine --example random_checkpoint -- ../shared/golden/wave-tiny-ref /tmp/wave-3g \
//!   text_config.vocab_size=151936 text_config.hidden_size=1536 text_config.intermediate_size=8960 \
//!   text_config.num_hidden_layers=12 text_config.num_attention_heads=12 text_config.num_key_value_heads=2
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use wave_engine::random_model::{parse_override, write_random_model};
use wave_engine::weights::StoredDtype;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("random_checkpoint: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: random_checkpoint TEMPLATE_DIR OUT_DIR [--dtype f32|bf16|f16] [--seed N] [KEY=VALUE ...]";
    let template = PathBuf::from(args.next().ok_or(usage)?);
    let out = PathBuf::from(args.next().ok_or(usage)?);
    let mut dtype = StoredDtype::F32;
    let mut seed = 0u64;
    let mut overrides = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--dtype" => {
                dtype = match args.next().as_deref() {
                    Some("f32") => StoredDtype::F32,
                    Some("bf16") => StoredDtype::BF16,
                    Some("f16") => StoredDtype::F16,
                    other => return Err(format!("--dtype {other:?}: expected f32, bf16 or f16")),
                }
            }
            "--seed" => {
                seed = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--seed needs an integer")?
            }
            _ => overrides.push(parse_override(&arg)?),
        }
    }
    let start = Instant::now();
    let model =
        write_random_model(&template, &out, &overrides, dtype, seed).map_err(|e| e.to_string())?;
    println!(
        "wrote {}: {} parameters, {:.3} GB stored as {dtype:?}, {:.3} GB as f32, in {:.1} s",
        out.display(),
        model.parameters,
        model.stored_bytes as f64 / 1e9,
        model.f32_bytes() as f64 / 1e9,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
