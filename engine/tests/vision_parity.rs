//! Parity of the vision tower with the reference on the golden video cases.

mod common;

use burn::tensor::{Tensor, TensorData};
use common::{assert_close, golden_dir, Golden};
use wave_engine::config::WaveConfig;
use wave_engine::vision::{VisionError, VisionTower, WindowLayout};
use wave_engine::weights::WeightStore;

type B = common::TestBackend;

const TOL: f32 = 1e-4;

fn load_tower() -> (VisionTower<B>, WaveConfig) {
    let dir = golden_dir();
    let cfg = WaveConfig::from_dir(&dir).expect("config.json");
    let mut store = WeightStore::default();
    store
        .add_safetensors(&dir.join("model.safetensors"), "")
        .expect("model.safetensors");
    let tower = VisionTower::<B>::load(&store, "visual.", &cfg.vision_config, &Default::default())
        .expect("vision weights");
    // Every `visual.` tensor must have been consumed: excuse the rest, then nothing may be left.
    let others: Vec<String> = store
        .names()
        .filter(|n| !n.starts_with("visual."))
        .map(str::to_string)
        .collect();
    for name in &others {
        store.mark_used(name);
    }
    store.check_all_used().expect("all visual.* tensors used");
    (tower, cfg)
}

fn tensor2(values: Vec<f32>, shape: &[usize]) -> Tensor<B, 2> {
    Tensor::from_data(
        TensorData::new(values, [shape[0], shape[1]]),
        &Default::default(),
    )
}

fn to_vec(t: Tensor<B, 2>) -> Vec<f32> {
    t.into_data().to_vec::<f32>().expect("f32 tensor")
}

/// The (t, h, w) rows of `video_grid_thw`.
fn grids(golden: &Golden) -> Vec<[usize; 3]> {
    let (values, _) = golden.i64("video_grid_thw");
    values
        .chunks(3)
        .map(|g| [g[0] as usize, g[1] as usize, g[2] as usize])
        .collect()
}

fn check_case(tower: &VisionTower<B>, cfg: &WaveConfig, file: &str) {
    let golden = Golden::open(file);
    let grids = grids(&golden);
    let vc = &cfg.vision_config;

    // The window layout, before any arithmetic.
    let layout = WindowLayout::new(
        &grids,
        vc.spatial_merge_size,
        vc.window_size / vc.spatial_merge_size / vc.patch_size,
    );
    let (window_index, _) = golden.i64("visual_window_index");
    let (cu_windows, _) = golden.i64("visual_cu_window_seqlens");
    let as_i64 = |v: &[usize]| v.iter().map(|&x| x as i64).collect::<Vec<_>>();
    assert_eq!(
        as_i64(&layout.window_index),
        window_index,
        "{file}: window_index"
    );
    assert_eq!(
        as_i64(&layout.cu_window_seqlens),
        cu_windows,
        "{file}: cu_window_seqlens"
    );

    let (pixels, shape) = golden.f32("pixel_values_videos");
    let trace = tower
        .forward_traced(tensor2(pixels.clone(), &shape), &grids)
        .expect("forward");
    assert_eq!(trace.layout, layout);

    let (expected, exp_shape) = golden.f32("visual_patch_embed_out");
    assert_eq!(trace.patch_embeds.dims().to_vec(), exp_shape);
    assert_close(
        &format!("{file} visual_patch_embed_out"),
        &to_vec(trace.patch_embeds),
        &expected,
        TOL,
    );

    let (expected, exp_shape) = golden.f32("visual_merger_in");
    assert_eq!(trace.merger_in.dims().to_vec(), exp_shape);
    assert_close(
        &format!("{file} visual_merger_in"),
        &to_vec(trace.merger_in),
        &expected,
        TOL,
    );

    let (expected, exp_shape) = golden.f32("visual_out");
    assert_eq!(trace.output.dims().to_vec(), exp_shape);
    assert_close(
        &format!("{file} visual_out"),
        &to_vec(trace.output),
        &expected,
        TOL,
    );

    // The one-video entry points give the same rows: the whole pass, and the pass in the two
    // halves a trainer caches between (patch embedding | blocks and merger).
    if let [grid] = grids[..] {
        let out = tower
            .forward(tensor2(pixels.clone(), &shape), grid)
            .expect("forward");
        assert_close(
            &format!("{file} visual_out (forward)"),
            &to_vec(out),
            &expected,
            TOL,
        );
        let blocks_in = tower
            .embed_patches(tensor2(pixels, &shape), grid)
            .expect("embed_patches");
        let out = tower
            .encode_embedded(blocks_in, grid)
            .expect("encode_embedded");
        assert_close(
            &format!("{file} visual_out (embed_patches, encode_embedded)"),
            &to_vec(out),
            &expected,
            TOL,
        );
    }
}

#[test]
fn silent_video_matches_reference() {
    let (tower, cfg) = load_tower();
    check_case(&tower, &cfg, "cases/video.safetensors");
}

#[test]
fn audio_video_matches_reference() {
    let (tower, cfg) = load_tower();
    check_case(&tower, &cfg, "cases/av.safetensors");
}

#[test]
fn two_videos_in_one_call_match_separate_calls() {
    let (tower, _) = load_tower();
    let cases = ["cases/video.safetensors", "cases/av.safetensors"];
    let mut all_pixels = Vec::new();
    let mut all_grids = Vec::new();
    let mut expected = Vec::new();
    let mut width = 0;
    for file in cases {
        let golden = Golden::open(file);
        let (pixels, shape) = golden.f32("pixel_values_videos");
        width = shape[1];
        all_pixels.extend(pixels);
        all_grids.extend(grids(&golden));
        expected.extend(golden.f32("visual_out").0);
    }
    let rows = all_pixels.len() / width;
    let out = tower
        .forward_videos(tensor2(all_pixels, &[rows, width]), &all_grids)
        .expect("forward");
    assert_close(
        "video+av in one call: visual_out",
        &to_vec(out),
        &expected,
        TOL,
    );
}

#[test]
fn inconsistent_input_is_an_error() {
    let (tower, _) = load_tower();
    let golden = Golden::open("cases/video.safetensors");
    let (pixels, shape) = golden.f32("pixel_values_videos");
    let [t, h, w] = grids(&golden)[0];

    let err = tower
        .forward(tensor2(pixels.clone(), &shape), [t + 1, h, w])
        .unwrap_err();
    assert!(matches!(err, VisionError::PatchCount { .. }), "{err}");

    let err = tower
        .forward(tensor2(pixels.clone(), &shape), [t * h, 1, w])
        .unwrap_err();
    assert!(matches!(err, VisionError::BadGrid { .. }), "{err}");

    let narrow: Vec<f32> = pixels
        .chunks(shape[1])
        .flat_map(|row| row[1..].to_vec())
        .collect();
    let err = tower
        .forward(tensor2(narrow, &[shape[0], shape[1] - 1]), [t, h, w])
        .unwrap_err();
    assert!(matches!(err, VisionError::PatchWidth { .. }), "{err}");

    let err = tower
        .forward_videos(tensor2(pixels.clone(), &shape), &[])
        .unwrap_err();
    assert_eq!(err, VisionError::NoGrids);

    // Cached patch embeddings that do not fit the grid or the blocks.
    let blocks_in = tower
        .embed_patches(tensor2(pixels, &shape), [t, h, w])
        .expect("embed_patches");
    let err = tower
        .encode_embedded(blocks_in.clone(), [t + 1, h, w])
        .unwrap_err();
    assert!(matches!(err, VisionError::PatchCount { .. }), "{err}");
    let err = tower
        .encode_embedded(blocks_in.clone(), [t * h, 1, w])
        .unwrap_err();
    assert!(matches!(err, VisionError::BadGrid { .. }), "{err}");
    let rows = blocks_in.dims()[0];
    let err = tower
        .encode_embedded(blocks_in.slice([0..rows, 0..1]), [t, h, w])
        .unwrap_err();
    assert!(matches!(err, VisionError::EmbeddedWidth { .. }), "{err}");
}
