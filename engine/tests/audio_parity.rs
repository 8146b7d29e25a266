//! Parity of the audio side (Whisper-shaped tower, BEATs, BEATs aligner, interleave) with the
//! golden intermediates of the reference implementation (cases `audio` and `av`).

mod common;

use burn::tensor::{Tensor, TensorData};
use common::TestBackend as B;
use common::{assert_close, golden_dir, max_abs_diff, Golden};
use wave_engine::audio::{
    interleave, relative_position_bucket, try_interleave, AudioError, AudioTower, Beats,
    BeatsAligner,
};
use wave_engine::config::{BeatsConfig, WaveConfig};
use wave_engine::weights::{WeightError, WeightStore};

const CASES: [&str; 2] = ["cases/audio.safetensors", "cases/av.safetensors"];
/// The parity criterion of the golden set.
const TOL: f32 = 1e-4;
/// Where measured diffs are ~1e-6 (tower, aligner) a tighter bound still leaves a 10x margin.
const TIGHT: f32 = 1e-5;

fn store() -> WeightStore {
    let mut store = WeightStore::default();
    store
        .add_safetensors(&golden_dir().join("model.safetensors"), "")
        .unwrap();
    store
}

fn wave_config() -> WaveConfig {
    WaveConfig::from_dir(&golden_dir()).unwrap()
}

fn beats_config() -> BeatsConfig {
    let text = std::fs::read_to_string(golden_dir().join("beats_cfg.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A golden tensor as a 2-D tensor: leading dims of size 1 dropped, e.g. (1,128,L) → (128,L).
fn tensor2(golden: &Golden, name: &str) -> Tensor<B, 2> {
    let (values, shape) = golden.f32(name);
    let dims: Vec<usize> = shape.iter().copied().skip_while(|&d| d == 1).collect();
    assert_eq!(dims.len(), 2, "{name}: shape {shape:?} is not 2-D");
    Tensor::from_data(
        TensorData::new(values, [dims[0], dims[1]]),
        &Default::default(),
    )
}

fn values(t: Tensor<B, 2>) -> Vec<f32> {
    t.into_data().to_vec::<f32>().unwrap()
}

/// Compares a computed tensor with a golden one (shape and values); returns the max abs diff.
fn check(golden: &Golden, name: &str, actual: Tensor<B, 2>, tol: f32) -> f32 {
    let expected = tensor2(golden, name);
    assert_eq!(
        actual.dims(),
        expected.dims(),
        "{}: {name} shape",
        golden.file
    );
    let (a, e) = (values(actual), values(expected));
    assert_close(&format!("{}: {name}", golden.file), &a, &e, tol);
    max_abs_diff(&a, &e)
}

#[test]
fn audio_tower_matches_golden() {
    let store = store();
    let cfg = wave_config();
    let tower = AudioTower::<B>::load(
        &store,
        "audio_tower.",
        &cfg.audio_config,
        &Default::default(),
    )
    .unwrap();
    for case in CASES {
        let g = Golden::open(case);
        let features = tensor2(&g, "input_features_valid");
        let frames = features.dims()[1];
        assert_eq!(g.i64("audio_feature_lengths").0, vec![frames as i64]);
        let n_a = g.f32("audio_tower_out").1[0];
        assert_eq!(AudioTower::<B>::num_tokens(frames), n_a, "{case}: N_a");

        check(
            &g,
            "audio_tower_layer0_in",
            tower.front_end(features.clone()),
            TIGHT,
        );
        check(
            &g,
            "audio_tower_pooled_pre_ln",
            tower.encode_pooled(features.clone()),
            TIGHT,
        );
        check(
            &g,
            "audio_tower_out",
            tower.forward(features.clone()),
            TIGHT,
        );
        check(
            &g,
            "audio_tower_out",
            tower.try_forward(features).unwrap(),
            TIGHT,
        );
    }
}

#[test]
fn beats_matches_golden() {
    let store = store();
    let beats = Beats::<B>::load(&store, "beats.", &beats_config(), &Default::default()).unwrap();
    for case in CASES {
        let g = Golden::open(case);
        let fbank = tensor2(&g, "beats_fbank");
        let [frames, bins] = fbank.dims();
        assert_eq!(
            beats.num_tokens(frames, bins),
            g.f32("beats_features_raw").1[0]
        );

        check(
            &g,
            "beats_post_extract_proj_out",
            beats.patch_features(fbank.clone()),
            TOL,
        );
        check(
            &g,
            "beats_encoder_layer0_in",
            beats.encoder_input(fbank.clone()),
            TOL,
        );
        let out = beats.try_forward(fbank).unwrap();
        check(&g, "beats_features_raw", out.clone(), TOL);

        // Not a parity target: how far the reference's fp16 BEATs (CPU autocast) is from f32.
        let fp16 = values(tensor2(&g, "beats_features_raw_fp16_cpu_autocast"));
        let fp16_diff = max_abs_diff(&values(out), &fp16);
        eprintln!("{case}: f32 BEATs vs fp16 reference variant: max abs diff {fp16_diff:e}");
        assert!(
            fp16_diff < 0.1,
            "{case}: fp16 effect {fp16_diff} implausibly large"
        );
    }
}

#[test]
fn beats_aligner_matches_golden() {
    let store = store();
    let cfg = wave_config();
    let aligner = BeatsAligner::<B>::load(
        &store,
        "",
        &beats_config(),
        cfg.text_config.hidden_size,
        &Default::default(),
    )
    .unwrap();
    for case in CASES {
        let g = Golden::open(case);
        let feats = tensor2(&g, "beats_features_raw");
        let n_a = g.f32("audio_tower_out").1[0];
        // Every golden case exercises the zero-row padding.
        assert!(feats.dims()[0] < 2 * n_a, "{case}: expected padding");

        let pooled = aligner.pool(feats.clone(), n_a);
        check(&g, "beats_pooled", pooled.clone(), TIGHT);
        check(&g, "beats_ln_out", aligner.norm(pooled), TIGHT);
        check(
            &g,
            "beats_proj_out",
            aligner.try_forward(feats, n_a).unwrap(),
            TIGHT,
        );
    }
}

#[test]
fn aligner_trims_extra_beats_rows() {
    let store = store();
    let cfg = wave_config();
    let aligner = BeatsAligner::<B>::load(
        &store,
        "",
        &beats_config(),
        cfg.text_config.hidden_size,
        &Default::default(),
    )
    .unwrap();
    let g = Golden::open(CASES[0]);
    let feats = tensor2(&g, "beats_features_raw");
    let rows = feats.dims()[0];
    // Fewer tokens than BEATs rows: only the first 2·n rows count.
    let n = rows / 2 - 3;
    let trimmed = aligner.forward(feats.clone(), n);
    let direct = aligner.forward(feats.narrow(0, 0, 2 * n), n);
    assert_eq!(trimmed.dims(), [n, cfg.text_config.hidden_size]);
    assert_eq!(values(trimmed), values(direct));
}

#[test]
fn interleave_matches_golden() {
    for case in CASES {
        let g = Golden::open(case);
        let merged = interleave(
            tensor2(&g, "audio_tower_out"),
            tensor2(&g, "beats_proj_out"),
        );
        check(&g, "audio_embeds_interleaved", merged, 0.0);
    }
}

#[test]
fn audio_path_end_to_end_matches_golden() {
    let store = store();
    let cfg = wave_config();
    let beats_cfg = beats_config();
    let device = Default::default();
    let tower = AudioTower::<B>::load(&store, "audio_tower.", &cfg.audio_config, &device).unwrap();
    let beats = Beats::<B>::load(&store, "beats.", &beats_cfg, &device).unwrap();
    let aligner =
        BeatsAligner::<B>::load(&store, "", &beats_cfg, cfg.text_config.hidden_size, &device)
            .unwrap();
    for case in CASES {
        let g = Golden::open(case);
        let whisper = tower.forward(tensor2(&g, "input_features_valid"));
        let n_a = whisper.dims()[0];
        let aligned = aligner.forward(beats.forward(tensor2(&g, "beats_fbank")), n_a);
        let merged = try_interleave(whisper, aligned).unwrap();
        check(&g, "audio_embeds_interleaved", merged, TOL);
    }
}

#[test]
fn every_audio_checkpoint_tensor_is_consumed() {
    let store = store();
    let cfg = wave_config();
    let beats_cfg = beats_config();
    let device = Default::default();
    AudioTower::<B>::load(&store, "audio_tower.", &cfg.audio_config, &device).unwrap();
    Beats::<B>::load(&store, "beats.", &beats_cfg, &device).unwrap();
    BeatsAligner::<B>::load(&store, "", &beats_cfg, cfg.text_config.hidden_size, &device).unwrap();
    let others: Vec<String> = store
        .names()
        .filter(|n| !n.starts_with("audio_tower.") && !n.starts_with("beats"))
        .map(str::to_string)
        .collect();
    for name in &others {
        store.mark_used(name);
    }
    store.check_all_used().unwrap();
}

#[test]
fn load_errors_name_the_tensor() {
    let store = store();
    let cfg = wave_config();
    let err = AudioTower::<B>::load(&store, "no_tower.", &cfg.audio_config, &Default::default())
        .unwrap_err();
    assert!(matches!(err, WeightError::Missing { .. }), "{err}");
    assert!(err.to_string().contains("no_tower."), "{err}");

    let mut beats_cfg = beats_config();
    beats_cfg.encoder_embed_dim += 1;
    let err = Beats::<B>::load(&store, "beats.", &beats_cfg, &Default::default()).unwrap_err();
    assert!(matches!(err, WeightError::Shape { .. }), "{err}");
}

#[test]
fn bad_inputs_are_errors() {
    let store = store();
    let cfg = wave_config();
    let beats_cfg = beats_config();
    let device = Default::default();
    let tower = AudioTower::<B>::load(&store, "audio_tower.", &cfg.audio_config, &device).unwrap();
    let bins = cfg.audio_config.num_mel_bins;

    let wrong_bins = Tensor::<B, 2>::zeros([bins + 1, 50], &device);
    assert!(matches!(
        tower.try_forward(wrong_bins),
        Err(AudioError::Dim { .. })
    ));
    let too_short = Tensor::<B, 2>::zeros([bins, 2], &device);
    assert!(matches!(
        tower.try_forward(too_short),
        Err(AudioError::TooShort { .. })
    ));

    let beats = Beats::<B>::load(&store, "beats.", &beats_cfg, &device).unwrap();
    let p = beats_cfg.input_patch_size;
    let short_fbank = Tensor::<B, 2>::zeros([p - 1, 128], &device);
    assert!(matches!(
        beats.try_forward(short_fbank),
        Err(AudioError::TooShort { .. })
    ));

    let aligner =
        BeatsAligner::<B>::load(&store, "", &beats_cfg, cfg.text_config.hidden_size, &device)
            .unwrap();
    let feats = Tensor::<B, 2>::zeros([10, beats_cfg.encoder_embed_dim], &device);
    assert!(matches!(
        aligner.try_forward(feats.clone(), 0),
        Err(AudioError::TooShort { .. })
    ));
    let wide = Tensor::<B, 2>::zeros([10, beats_cfg.encoder_embed_dim + 1], &device);
    assert!(matches!(
        aligner.try_forward(wide, 5),
        Err(AudioError::Dim { .. })
    ));

    let a = Tensor::<B, 2>::zeros([3, 4], &device);
    let b = Tensor::<B, 2>::zeros([4, 4], &device);
    assert!(matches!(
        try_interleave(a, b),
        Err(AudioError::Interleave { .. })
    ));
}

#[test]
fn interleave_alternates_rows_whisper_first() {
    let device = Default::default();
    let w = Tensor::<B, 2>::from_data([[1.0, 2.0], [3.0, 4.0]], &device);
    let b = Tensor::<B, 2>::from_data([[-1.0, -2.0], [-3.0, -4.0]], &device);
    assert_eq!(
        values(interleave(w, b)),
        vec![1.0, 2.0, -1.0, -2.0, 3.0, 4.0, -3.0, -4.0]
    );
}

/// Hand-computed T5 buckets for BEATs' 320 buckets / max distance 800: exact below 80, then
/// 80 + ⌊ln(d/80)/ln(10)·80⌋, capped at 159; positive offsets (key after query) get +160.
#[test]
fn relative_position_buckets() {
    let expected = [
        (0, 0),
        (1, 161),
        (-1, 1),
        (79, 239),
        (-79, 79),
        (80, 240),
        (-80, 80),
        (81, 240),
        (100, 247),
        (-100, 87),
        (400, 295),
        (-400, 135),
        (799, 319),
        (-799, 159),
        (800, 319),
        (5000, 319),
        (-5000, 159),
    ];
    for (offset, bucket) in expected {
        assert_eq!(
            relative_position_bucket(offset, 320, 800),
            bucket,
            "offset {offset}"
        );
    }
}
