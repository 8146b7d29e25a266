//! The golden embeddings with the model computing in bf16 (weights converted at load, bf16
//! activations), as a GPU deployment runs it. bf16 keeps 8 bits of mantissa, so f32 parity
//! (1e-4) cannot hold: every final unit vector must stay within `BF16_TOL` (max abs diff) of the
//! f32 reference and point the same way (cosine ≥ `BF16_MIN_COSINE`).
//!
//! Runs on `TestBackend`: the CPU here, the GPU with `--features cuda` (scripts/gpu-check.sh).
//! On the CPU (burn's Flex in bf16) the tiny golden model measures a worst max abs diff of
//! 3.9e-3 and a worst cosine of 0.99993; the bounds leave 5× room for GPU kernels that also
//! reduce in bf16.

mod common;

use burn::tensor::{backend::Backend, set_default_dtypes, DType, Element};
use common::{golden_dir, max_abs_diff, Golden, TestBackend as B};
use wave_engine::embedder::{Embedder, Input};

/// Bounds on a normalised embedding computed in bf16, against the f32 reference.
const BF16_TOL: f32 = 2e-2;
const BF16_MIN_COSINE: f32 = 0.999;

/// Switches the device's float dtype to bf16 (keeping the backend's int type), then loads.
fn bf16_embedder<Be: Backend>() -> Embedder<Be> {
    let device = Be::Device::default();
    set_default_dtypes::<Be>(&device, DType::BF16, Be::IntElem::dtype())
        .expect("bf16 must be settable before the first tensor on the device");
    Embedder::load(&golden_dir(), &device).unwrap()
}

/// The caption of a case: its label ids without the final `<|im_end|>`, as text.
fn caption(g: &Golden) -> String {
    let tok = tokenizers::Tokenizer::from_file(golden_dir().join("tokenizer.json")).unwrap();
    let ids = g.i64("label_ids").0;
    ids[..ids.len() - 1]
        .iter()
        .map(|&id| tok.id_to_token(id as u32).unwrap())
        .collect()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

#[test]
fn bf16_embeddings_stay_close_to_the_f32_reference() {
    let e = bf16_embedder::<B>();
    let mut worst = (0.0f32, 1.0f32);
    for (file, golden_name) in [
        ("cases/audio.safetensors", "mllm_embeds_normalized"),
        ("cases/video.safetensors", "mllm_embeds_normalized"),
        // The embedder's default for audio-video is the time-aligned (trained) variant.
        (
            "cases/av.safetensors",
            "mllm_embeds_use_audio_in_video_normalized",
        ),
    ] {
        let g = Golden::open(file);
        let pcm = || g.f32("input_raw_wav").0;
        let media = match file {
            "cases/audio.safetensors" => Input::Audio {
                pcm: pcm(),
                sample_rate: 16000,
                prompt: None,
            },
            "cases/video.safetensors" => Input::Video {
                frames: g.video_frames(),
                prompt: None,
            },
            _ => Input::AudioVideo {
                pcm: pcm(),
                sample_rate: 16000,
                frames: g.video_frames(),
                prompt: None,
            },
        };
        for (what, input, name) in [
            ("media", media, golden_name),
            (
                "caption",
                Input::Text(caption(&g)),
                "text_embeds_normalized",
            ),
        ] {
            let actual = e.embed_one(&input).unwrap();
            let expected = g.f32(name).0;
            let (diff, cos) = (max_abs_diff(&actual, &expected), cosine(&actual, &expected));
            eprintln!("{file} {what}: bf16 vs f32 max abs diff {diff:e}, cosine {cos:.5}");
            assert!(
                diff <= BF16_TOL && cos >= BF16_MIN_COSINE,
                "{file} {what}: max abs diff {diff:e} (≤ {BF16_TOL:e}), cosine {cos} (≥ {BF16_MIN_COSINE})"
            );
            worst = (worst.0.max(diff), worst.1.min(cos));
        }
    }
    eprintln!(
        "bf16 worst case: max abs diff {:e}, cosine {:.5}",
        worst.0, worst.1
    );
    // bf16 must actually be in effect: identical-to-f32 results would mean the dtype was ignored.
    assert!(worst.0 > 1e-5, "bf16 run matched f32 to {:e}", worst.0);
}
