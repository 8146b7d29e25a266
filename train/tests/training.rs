//! `wave train` on a tiny generated corpus: the loss goes down, a run resumes exactly where a
//! checkpoint left it, and bad arguments are clear errors.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use wave_train::model_dir::ModelSizes;
use wave_train::{train, TrainError, TrainOptions};

/// One tiny corpus for the whole test binary (8 train scenes).
fn corpus() -> &'static Path {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("corpus");
        let mut opts = wave_synth::SynthOptions::new(3, &out);
        opts.count = Some(12);
        wave_synth::generate(&opts, &|_, _| {}).unwrap();
        (dir, out)
    })
    .1
}

fn tiny(out: &Path) -> TrainOptions {
    let mut o = TrainOptions::new(corpus(), out);
    o.sizes = ModelSizes {
        hidden: 32,
        layers: 2,
        heads: 2,
        kv_heads: 1,
        intermediate: 64,
        vision_hidden: 32,
        vision_depth: 1,
        audio_hidden: 32,
        audio_layers: 1,
    };
    o.vocab_size = 320;
    o.batch = 8;
    o.lr = 3e-3;
    o.warmup_ratio = 0.0;
    o.checkpoint_every = 1000;
    o
}

fn mean(xs: &[f32]) -> f32 {
    xs.iter().sum::<f32>() / xs.len() as f32
}

#[test]
fn a_short_run_lowers_the_loss() {
    let tmp = tempfile::tempdir().unwrap();
    let mut opts = tiny(&tmp.path().join("model"));
    opts.steps = 40;
    let report = train(&opts, |_| {}).unwrap();
    assert_eq!(report.losses.len(), 40);
    // Same tasks over the same few scenes: compare the first and last eight steps.
    let losses: Vec<f32> = report.losses.iter().map(|l| l.2).collect();
    let (first, last) = (mean(&losses[..8]), mean(&losses[32..]));
    assert!(
        last < 0.85 * first,
        "loss did not fall: first eight steps {first:.3}, last eight {last:.3}"
    );
    // The output is a model directory the regular loader takes.
    for f in [
        "config.json",
        "tokenizer.json",
        "model.safetensors",
        "beats_cfg.json",
    ] {
        assert!(opts.out.join(f).is_file(), "{f} missing");
    }
    let embedder = wave_engine::embedder::Embedder::<wave_engine::CpuBackend>::load(
        &opts.out,
        &Default::default(),
    )
    .unwrap();
    let v = embedder
        .embed_one(&wave_engine::embedder::Input::Text("a red square".into()))
        .unwrap();
    assert_eq!(v.len(), 32);
}

#[test]
fn a_resumed_run_continues_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let mut whole = tiny(&tmp.path().join("whole"));
    whole.steps = 6;
    let uninterrupted = train(&whole, |_| {}).unwrap();

    let mut part = tiny(&tmp.path().join("part"));
    part.steps = 6;
    part.stop_after = Some(3);
    assert_eq!(train(&part, |_| {}).unwrap().losses.len(), 3);
    part.stop_after = None;
    let resumed = train(&part, |_| {}).unwrap();
    assert_eq!(resumed.first_step, 3);
    assert_eq!(resumed.losses.len(), 6);
    for (a, b) in uninterrupted.losses.iter().zip(&resumed.losses) {
        assert_eq!(a.1, b.1, "same task at step {}", a.0);
        assert!((a.2 - b.2).abs() < 1e-4, "step {}: {} vs {}", a.0, a.2, b.2);
    }

    // Other options on the same directory are refused rather than mixed in.
    let mut other = tiny(&tmp.path().join("part"));
    other.steps = 8;
    other.lr = 1e-4;
    let err = train(&other, |_| {}).unwrap_err().to_string();
    assert!(err.contains("other options"), "{err}");
}

#[test]
fn bad_arguments_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("m");
    let check = |opts: TrainOptions, needle: &str| {
        let err = train(&opts, |_| {}).unwrap_err();
        assert!(matches!(
            err,
            TrainError::Argument(_) | TrainError::Data { .. }
        ));
        assert!(err.to_string().contains(needle), "{err}");
        assert!(!opts.out.join("model.safetensors").exists());
    };
    let mut o = tiny(&out);
    o.batch = 1;
    check(o, "batch must be at least 2");
    let mut o = tiny(&out);
    o.steps = 0;
    check(o, "steps must be at least 1");
    let mut o = tiny(&out);
    o.lr = f32::NAN;
    check(o, "learning rate");
    let mut o = tiny(&out);
    o.sizes.heads = 3;
    check(o, "heads");
    let mut o = tiny(&out);
    o.data = tmp.path().join("no-corpus");
    check(o, "wave synth");
    let mut o = tiny(&out);
    o.vocab_size = 100;
    let err = train(&o, |_| {}).unwrap_err().to_string();
    assert!(err.contains("vocab size 100"), "{err}");
}
