//! Parity of the preprocessing (Whisper log-mel, BEATs fbank, video sampling / resize /
//! patches) with the reference's tensors in `preprocess.safetensors` and the cases' media
//! tensors; plus resampler checks on synthetic sines.
mod common;

use common::{assert_close, golden_dir, Golden};
use wave_engine::config::{BeatsConfig, WaveConfig};
use wave_engine::preprocess::{
    audio_segments, beats_fbank, first_channel, preprocess_frames, resample_to_16k, resize_bicubic,
    sample_frames, smart_resize, whisper_features, whisper_token_count, AudioInputs,
    PreprocessConfig, WhisperFeatures,
};

/// Whisper features: the reference computes the STFT in f32, we in f64; the largest
/// differences (up to ~3e-5) sit in quiet mel bins just above the (max − 8) floor, where the
/// reference's f32 FFT rounding is relatively largest.
const WHISPER_TOL: f32 = 5e-5;
/// BEATs fbank: f64 in both, cast to f32 at the end.
const FBANK_TOL: f32 = 2e-6;

fn config() -> PreprocessConfig {
    PreprocessConfig::from_model_dir(&golden_dir()).expect("preprocessor config")
}

fn beats_cfg() -> BeatsConfig {
    let text = std::fs::read_to_string(golden_dir().join("beats_cfg.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn scalar_i64(g: &Golden, name: &str) -> i64 {
    let (v, _) = g.i64(name);
    assert_eq!(v.len(), 1, "{name} is not a scalar");
    v[0]
}

/// Checks one clip's Whisper features against `{prefix}input_features_valid`,
/// `{prefix}input_features_pad_region_head` and `{prefix}input_features_pad_value`.
fn check_whisper(g: &Golden, prefix: &str, feats: &WhisperFeatures) {
    let what = |n: &str| format!("{}:{prefix}{n}", g.file);
    let (valid, shape) = g.f32(&format!("{prefix}input_features_valid"));
    assert_eq!(
        shape,
        vec![1, feats.n_mels, feats.valid_frames],
        "{}",
        what("input_features_valid")
    );
    assert_close(
        &what("input_features_valid"),
        &feats.valid(),
        &valid,
        WHISPER_TOL,
    );

    let (head, shape) = g.f32(&format!("{prefix}input_features_pad_region_head"));
    let n_head = shape[2];
    assert_close(
        &what("input_features_pad_region_head"),
        &feats.frames(feats.valid_frames, n_head),
        &head,
        WHISPER_TOL,
    );
    let (pad, _) = g.f32(&format!("{prefix}input_features_pad_value"));
    assert_close(
        &what("input_features_pad_value"),
        &[feats.pad_value],
        &pad,
        WHISPER_TOL,
    );
    // The last frames of the 300 s window are the constant pad value.
    let tail = feats.frames(feats.total_frames - 3, 3);
    assert!(tail.iter().all(|&x| x == feats.pad_value));
}

#[test]
fn whisper_and_fbank_match_the_preprocess_clips() {
    let cfg = config();
    let patch = beats_cfg().input_patch_size;
    let g = Golden::open("preprocess.safetensors");
    for clip in ["odd", "short", "long"] {
        let prefix = format!("{clip}_");
        let (wav, _) = g.f32(&format!("{clip}_wav"));

        let feats = whisper_features(&wav, &cfg.whisper).unwrap();
        let mask_sum = scalar_i64(&g, &format!("{clip}_feature_attention_mask_sum"));
        assert_eq!(feats.valid_frames as i64, mask_sum, "{clip}: L");
        let n_a = scalar_i64(&g, &format!("{clip}_whisper_num_tokens"));
        assert_eq!(feats.token_count() as i64, n_a, "{clip}: N_a");
        assert_eq!(whisper_token_count(feats.valid_frames) as i64, n_a);
        check_whisper(&g, &prefix, &feats);

        let fbank = beats_fbank(&wav, &cfg.beats).unwrap();
        let (expected, shape) = g.f32(&format!("{clip}_beats_fbank"));
        assert_eq!(
            shape,
            vec![fbank.frames, fbank.num_mel_bins],
            "{clip}: fbank shape"
        );
        assert_close(
            &format!("{clip}_beats_fbank"),
            &fbank.values,
            &expected,
            FBANK_TOL,
        );
        let n_b = scalar_i64(&g, &format!("{clip}_beats_num_tokens"));
        assert_eq!(fbank.token_count(patch) as i64, n_b, "{clip}: BEATs tokens");

        let padded_name = format!("{clip}_beats_wav");
        if g.has(&padded_name) {
            let (padded, _) = g.f32(&padded_name);
            let ours = wave_engine::preprocess::pad_to_min_len(&wav, cfg.beats.min_samples);
            assert_eq!(&ours[..], &padded[..], "{padded_name}");
        }
    }
}

#[test]
fn whisper_and_fbank_match_the_audio_cases() {
    let cfg = config();
    let model_cfg = WaveConfig::from_dir(&golden_dir()).unwrap();
    let mut checked = 0;
    for case in ["audio", "av"] {
        let g = Golden::open(&format!("cases/{case}.safetensors"));
        if !g.has("input_raw_wav") {
            continue;
        }
        checked += 1;
        let (wav, _) = g.f32("input_raw_wav");
        let inputs = AudioInputs::from_pcm(&wav, &cfg).unwrap();
        assert_eq!(inputs.whisper.len(), 1, "golden clips are below 300 s");
        let feats = &inputs.whisper[0];
        assert_eq!(
            feats.valid_frames as i64,
            scalar_i64(&g, "audio_feature_lengths")
        );
        let (mask, shape) = g.i64("feature_attention_mask");
        assert_eq!(shape[1], feats.total_frames);
        let ones = mask.iter().take_while(|&&m| m == 1).count();
        assert_eq!(ones, feats.valid_frames);
        assert_eq!(mask.iter().sum::<i64>() as usize, feats.valid_frames);
        check_whisper(&g, "", feats);

        // Token counts: 2·N_a `<|AUDIO|>` placeholders; BEATs pooled to N_a rows.
        let (ids, _) = g.i64("input_ids");
        let audio_tokens = ids
            .iter()
            .filter(|&&t| t == model_cfg.audio_token_index as i64)
            .count();
        assert_eq!(
            audio_tokens,
            2 * inputs.whisper_token_count(),
            "{case}: audio placeholders"
        );
        assert_eq!(g.f32("beats_pooled").1[0], feats.token_count());

        let fbank = &inputs.beats[0];
        let (expected, shape) = g.f32("beats_fbank");
        assert_eq!(shape, vec![fbank.frames, fbank.num_mel_bins]);
        assert_close(
            &format!("{case}:beats_fbank"),
            &fbank.values,
            &expected,
            FBANK_TOL,
        );
        let n_b = fbank.token_count(beats_cfg().input_patch_size);
        assert_eq!(
            g.f32("beats_post_extract_proj_out").1[0],
            n_b,
            "{case}: BEATs tokens"
        );

        // The QA case runs the av media; it stores only the derived values.
        if case == "av" {
            let qa = Golden::open("cases/qa.safetensors");
            assert_eq!(
                feats.valid_frames as i64,
                scalar_i64(&qa, "audio_feature_lengths")
            );
            let (pad, _) = qa.f32("input_features_pad_value");
            assert_close(
                "qa:input_features_pad_value",
                &[feats.pad_value],
                &pad,
                WHISPER_TOL,
            );
        }
    }
    assert!(checked > 0, "no audio case found");
}

/// Compares processed patches with the golden rows and reports how many values differ.
fn check_patches(what: &str, ours: &[f32], expected: &[f32]) {
    assert_eq!(ours.len(), expected.len(), "{what}: length");
    let differing = ours
        .iter()
        .zip(expected)
        .filter(|(a, b)| (*a - *b).abs() > 1e-6)
        .count();
    eprintln!(
        "{what}: {differing} of {} values differ by > 1e-6",
        ours.len()
    );
    assert_close(what, ours, expected, 1e-6);
}

/// Samples the frame indices from the stored native frame count/fps and processes the stored
/// sampled frames; compares indices, grid, second_per_grid and pixel values.
fn check_video(g: &Golden, prefix: &str, frames_from: &Golden, pixels_name: &str) {
    let cfg = config();
    let name = |n: &str| format!("{prefix}{n}");
    let native = scalar_i64(g, &name("video_native_num_frames")) as usize;
    let (fps, _) = g.f32(&name("video_native_fps"));
    let sampling = sample_frames(
        native,
        fps[0] as f64,
        cfg.image.temporal_patch_size,
        &cfg.sampling,
    )
    .unwrap();
    let (indices, _) = g.i64(&name("video_frame_indices"));
    let ours: Vec<i64> = sampling.indices.iter().map(|&i| i as i64).collect();
    assert_eq!(ours, indices, "{}: frame indices", g.file);
    let (spg, _) = g.f32(&name("video_second_per_grid"));
    assert_eq!(
        sampling.second_per_grid_f32(),
        spg[0],
        "{}: second_per_grid",
        g.file
    );

    let (frames, shape) = frames_from.f32(&name("video_frames_uint8"));
    assert_eq!(shape[0], indices.len());
    assert_eq!(shape[3], 3);
    let bytes: Vec<u8> = frames.iter().map(|&x| x as u8).collect();
    let patches = preprocess_frames(&bytes, shape[0], shape[1], shape[2], &cfg.image).unwrap();
    let (grid, _) = g.i64(&name("video_grid_thw"));
    let ours: Vec<i64> = patches.grid_thw.iter().map(|&x| x as i64).collect();
    assert_eq!(ours, grid, "{}: grid_thw", g.file);
    let (expected, pshape) = frames_from.f32(pixels_name);
    assert_eq!(pshape, vec![patches.n_patches, patches.patch_dim]);
    check_patches(
        &format!("{}:{pixels_name}", frames_from.file),
        &patches.pixel_values,
        &expected,
    );
}

#[test]
fn video_matches_the_preprocess_video() {
    let g = Golden::open("preprocess.safetensors");
    check_video(&g, "", &g, "video_pixel_values");
}

#[test]
fn video_matches_the_video_cases() {
    let av = Golden::open("cases/av.safetensors");
    for case in ["video", "av"] {
        let g = Golden::open(&format!("cases/{case}.safetensors"));
        check_video(&g, "", &g, "pixel_values_videos");
    }
    // QA: its own sampling metadata, the av frames and patches.
    let qa = Golden::open("cases/qa.safetensors");
    check_video(&qa, "", &av, "pixel_values_videos");
}

#[test]
fn smart_resize_matches_its_table() {
    let cfg = config().image;
    let g = Golden::open("preprocess.safetensors");
    let (table, shape) = g.i64("smart_resize_table");
    assert_eq!(shape[1], 4);
    for row in table.chunks_exact(4) {
        let got = smart_resize(
            row[0] as usize,
            row[1] as usize,
            cfg.factor(),
            cfg.min_pixels,
            cfg.max_pixels,
        )
        .unwrap();
        assert_eq!(
            (got.0 as i64, got.1 as i64),
            (row[2], row[3]),
            "smart_resize{row:?}"
        );
    }
}

#[test]
fn frame_sampling_matches_its_table() {
    let cfg = config();
    let g = Golden::open("preprocess.safetensors");
    let (table, shape) = g.i64("frame_sampling_table");
    assert_eq!(shape[1], 4);
    for row in table.chunks_exact(4) {
        let fps = row[1] as f64 / 1000.0;
        let s = sample_frames(
            row[0] as usize,
            fps,
            cfg.image.temporal_patch_size,
            &cfg.sampling,
        )
        .unwrap();
        assert_eq!(s.indices.len() as i64, row[2], "n_sampled for {row:?}");
        assert_eq!(
            (s.second_per_grid * 1e6).round() as i64,
            row[3],
            "spg for {row:?}"
        );
        let last = if s.indices.len() > 1 {
            row[0] as usize - 1
        } else {
            0
        };
        assert_eq!(
            (s.indices[0], *s.indices.last().unwrap()),
            (0, last),
            "{row:?}"
        );
    }
}

#[test]
fn config_reads_runtime_overrides_and_keeps_wave_pixels_without_them() {
    let cfg = config();
    let runtime: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(golden_dir().join("preprocessor_runtime.json")).unwrap(),
    )
    .unwrap();
    let size = &runtime["image_processor_effective"]["size"];
    assert_eq!(
        cfg.image.min_pixels as u64,
        size["shortest_edge"].as_u64().unwrap()
    );
    assert_eq!(
        cfg.image.max_pixels as u64,
        size["longest_edge"].as_u64().unwrap()
    );
    let vs = &runtime["video_sampling"];
    assert_eq!(
        cfg.sampling.base_interval_s,
        vs["base_interval_s"].as_f64().unwrap()
    );
    assert_eq!(
        cfg.sampling.max_frames as u64,
        vs["video_max_frames"].as_u64().unwrap()
    );

    // Only the shipped file: its 3136 / 12845056 pixel bounds are not what WAVE runs with.
    let dir = std::env::temp_dir().join(format!("wave-preprocess-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        golden_dir().join("preprocessor_config.json"),
        dir.join("preprocessor_config.json"),
    )
    .unwrap();
    let shipped_only = PreprocessConfig::from_model_dir(&dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(shipped_only.image.min_pixels, 784);
    assert_eq!(shipped_only.image.max_pixels, 176_400);
    assert_eq!(shipped_only.whisper, cfg.whisper);
    // No files at all: WAVE's defaults.
    let none = PreprocessConfig::from_model_dir(std::path::Path::new("/nonexistent")).unwrap();
    assert_eq!(none, PreprocessConfig::default());
}

/// A sine at `rate` resampled to 16 kHz equals the same sine sampled at 16 kHz (away from the
/// edges, where the filter sees the implicit zeros).
fn check_sine(rate: u32, freq: f64, amplitude: f64) {
    let seconds = 1.3;
    let n = (seconds * rate as f64) as usize;
    let sine = |t: f64| (amplitude * (2.0 * std::f64::consts::PI * freq * t).sin()) as f32;
    let input: Vec<f32> = (0..n).map(|i| sine(i as f64 / rate as f64)).collect();
    let out = resample_to_16k(&input, rate).unwrap();
    assert_eq!(
        out.len(),
        (n as f64 * 16000.0 / rate as f64).round() as usize,
        "{rate} Hz length"
    );
    let margin = 800;
    let expected: Vec<f32> = (margin..out.len() - margin)
        .map(|j| sine(j as f64 / 16000.0))
        .collect();
    let diff = common::max_abs_diff(&out[margin..out.len() - margin], &expected);
    eprintln!("{rate} Hz -> 16 kHz, {freq} Hz sine: max abs diff {diff:e}");
    assert!(diff < 1e-4, "{rate} Hz: {diff}");
}

#[test]
fn resampling_keeps_frequency_and_amplitude() {
    check_sine(44100, 1000.0, 0.5);
    check_sine(48000, 3000.0, 0.8);
    check_sine(8000, 440.0, 0.5);
    check_sine(22050, 6500.0, 0.3);
    assert_eq!(
        resample_to_16k(&[0.25, -0.5], 16000).unwrap(),
        vec![0.25, -0.5]
    );
    // A tone above the new Nyquist frequency is removed, not aliased.
    let rate = 48000;
    let tone: Vec<f32> = (0..rate)
        .map(|i| (2.0 * std::f64::consts::PI * 11000.0 * i as f64 / rate as f64).sin() as f32)
        .collect();
    let out = resample_to_16k(&tone, rate as u32).unwrap();
    let peak = out[800..out.len() - 800]
        .iter()
        .fold(0.0f32, |m, x| m.max(x.abs()));
    assert!(peak < 1e-3, "aliased tone peak {peak}");
    assert_eq!(
        first_channel(&[1.0, 2.0, 3.0, 4.0], 2).unwrap(),
        vec![1.0, 3.0]
    );
    assert!(first_channel(&[1.0, 2.0, 3.0], 2).is_err());
}

/// Pillow 13.0.0 `Image.resize(BICUBIC)` outputs for a formula image, covering the
/// horizontal-first order (downscale), the vertical-first order (height shrinks by more than
/// twice as many pixels as the width) and mixed up/down scaling.
#[test]
fn bicubic_matches_pillow_13_in_both_pass_orders() {
    let image = |h: usize, w: usize| -> Vec<u8> {
        let mut v = Vec::with_capacity(h * w * 3);
        for y in 0..h {
            for x in 0..w {
                for c in 0..3 {
                    v.push(((x * 53 + y * 97 + c * 31 + (x * y) % 7 * 40) % 256) as u8);
                }
            }
        }
        v
    };
    // ((in_h, in_w, out_h, out_w), expected RGB bytes)
    type Case = ((usize, usize, usize, usize), &'static [u8]);
    let cases: [Case; 3] = [
        (
            (9, 12, 5, 7),
            &[
                76, 107, 136, 99, 130, 164, 166, 197, 86, 75, 106, 111, 140, 174, 140, 153, 163,
                118, 94, 72, 95, 134, 173, 84, 121, 153, 97, 131, 162, 182, 105, 136, 96, 118, 151,
                137, 148, 117, 126, 115, 124, 93, 139, 106, 110, 124, 101, 82, 172, 154, 189, 88,
                119, 159, 155, 108, 94, 132, 134, 127, 48, 86, 125, 155, 95, 107, 138, 152, 128,
                147, 182, 216, 163, 171, 212, 139, 168, 152, 165, 94, 88, 99, 45, 80, 111, 153,
                128, 100, 133, 68, 107, 143, 157, 166, 140, 111, 111, 123, 107, 127, 160, 148, 209,
                90, 126,
            ],
        ),
        (
            (16, 9, 5, 7),
            &[
                96, 134, 102, 116, 151, 129, 105, 132, 140, 174, 204, 121, 66, 98, 106, 132, 160,
                105, 125, 154, 166, 145, 103, 107, 137, 135, 86, 132, 116, 118, 165, 186, 228, 110,
                148, 173, 128, 108, 136, 148, 160, 105, 119, 122, 130, 147, 143, 89, 109, 113, 116,
                135, 153, 176, 191, 151, 133, 124, 129, 140, 142, 172, 95, 118, 124, 101, 101, 111,
                142, 137, 144, 176, 101, 112, 142, 131, 61, 89, 148, 121, 131, 175, 98, 114, 131,
                107, 143, 82, 122, 157, 142, 116, 101, 60, 80, 104, 95, 135, 142, 134, 144, 145,
                175, 103, 140,
            ],
        ),
        (
            (5, 6, 11, 4),
            &[
                4, 35, 66, 92, 123, 163, 188, 219, 155, 79, 110, 40, 30, 61, 94, 89, 120, 164, 179,
                210, 145, 86, 117, 45, 92, 123, 165, 83, 114, 167, 161, 192, 122, 100, 131, 55,
                141, 172, 194, 88, 119, 152, 144, 175, 115, 112, 143, 80, 151, 182, 122, 118, 149,
                98, 140, 171, 146, 113, 144, 132, 146, 177, 51, 145, 176, 58, 133, 164, 173, 114,
                145, 178, 125, 156, 39, 155, 187, 77, 102, 142, 171, 120, 150, 189, 102, 133, 55,
                151, 182, 111, 79, 116, 157, 127, 157, 189, 104, 135, 106, 114, 137, 111, 121, 95,
                135, 133, 168, 198, 116, 149, 168, 67, 78, 98, 186, 78, 111, 137, 178, 208, 121,
                154, 194, 46, 53, 93, 213, 70, 100, 139, 182, 213,
            ],
        ),
    ];
    for ((h, w, oh, ow), expected) in cases {
        let got = resize_bicubic(&image(h, w), h, w, 3, oh, ow).unwrap();
        assert_eq!(got, expected, "{h}x{w} -> {oh}x{ow}");
    }
}

#[test]
fn bicubic_keeps_constant_images_and_same_size() {
    let img: Vec<u8> = (0..5 * 7 * 3).map(|i| (i * 37 % 251) as u8).collect();
    assert_eq!(resize_bicubic(&img, 5, 7, 3, 5, 7).unwrap(), img);
    let flat = vec![200u8; 30 * 50 * 3];
    let out = resize_bicubic(&flat, 30, 50, 3, 17, 64).unwrap();
    assert!(out.iter().all(|&x| x == 200));
    assert!(resize_bicubic(&img, 5, 8, 3, 2, 2).is_err());
}

#[test]
fn long_audio_splits_into_window_pieces() {
    let cfg = config();
    let n = cfg.whisper.n_samples;
    let pcm = vec![0.0f32; 2 * n + 100];
    let pieces = audio_segments(&pcm, n);
    assert_eq!(
        pieces.iter().map(|p| p.len()).collect::<Vec<_>>(),
        vec![n, n, 100]
    );
    // The last piece is padded to one second before its features.
    let feats = whisper_features(pieces[2], &cfg.whisper).unwrap();
    assert_eq!(
        feats.valid_frames,
        cfg.whisper.min_samples.div_ceil(cfg.whisper.hop_length)
    );
    assert!(whisper_features(&pcm, &cfg.whisper).is_err());
}
