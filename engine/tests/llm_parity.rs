//! Parity of the Qwen2 decoder, M-RoPE positions and fusion head with the golden LLM tensors.

mod common;

use burn::tensor::{Tensor, TensorData};
use common::TestBackend as B;
use common::{assert_close, golden_dir, Golden};
use wave_engine::config::WaveConfig;
use wave_engine::fusion::{l2_normalize, text_embedding, FusionHead, FusionKind};
use wave_engine::positions::MropePositions;
use wave_engine::text::{TextModel, TextOutput};
use wave_engine::weights::WeightStore;

struct Llm {
    text: TextModel<B>,
    fusion: FusionHead<B>,
    hidden: usize,
}

fn load() -> Llm {
    let dir = golden_dir();
    let cfg = WaveConfig::from_dir(&dir).unwrap();
    let mut store = WeightStore::default();
    store
        .add_safetensors(&dir.join("model.safetensors"), "")
        .unwrap();
    let device = Default::default();
    let text = TextModel::load(&store, "model", &cfg.text_config, &device).unwrap();
    let kind = FusionKind::from_config(cfg.classify_type.as_deref()).unwrap();
    let fusion = FusionHead::load(
        &store,
        "classify_linear",
        kind,
        cfg.text_config.hidden_size,
        cfg.text_config.num_hidden_layers,
        &device,
    )
    .unwrap();
    Llm {
        text,
        fusion,
        hidden: cfg.text_config.hidden_size,
    }
}

fn values<const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data().to_vec::<f32>().unwrap()
}

/// Rows of the golden `(3, 1, L)` position tensor.
fn golden_positions(g: &Golden, name: &str) -> MropePositions {
    let (ids, shape) = g.i64(name);
    let len = shape[2];
    MropePositions {
        t: ids[..len].to_vec(),
        h: ids[len..2 * len].to_vec(),
        w: ids[2 * len..].to_vec(),
    }
}

fn stacked_last_tokens(out: &TextOutput<B>, row: usize) -> Vec<f32> {
    out.hidden_states_last_token
        .iter()
        .flat_map(|h| {
            let [_, hidden] = h.dims();
            values(h.clone().slice([row..row + 1, 0..hidden]))
        })
        .collect()
}

fn run_embeds(llm: &Llm, g: &Golden, positions: &MropePositions) -> TextOutput<B> {
    let (embeds, shape) = g.f32("inputs_embeds");
    let x = Tensor::<B, 3>::from_data(
        TensorData::new(embeds, [1, shape[0], shape[1]]),
        &Default::default(),
    );
    llm.text
        .forward(x, std::slice::from_ref(positions), None)
        .unwrap()
}

#[test]
fn text_route_matches_golden() {
    let llm = load();
    let g = Golden::open("cases/text.safetensors");
    let (ids, shape) = g.i64("input_ids_padded");
    let (lengths, _) = g.i64("input_lengths");
    let (hs, _) = g.f32("hidden_states_last_token");
    let (embeds, _) = g.f32("text_embeds");
    let (embeds_n, _) = g.f32("text_embeds_normalized");
    let per_text = hs.len() / lengths.len();
    let device = Default::default();
    for (i, &len) in lengths.iter().enumerate() {
        let row: Vec<u32> = ids[i * shape[1]..i * shape[1] + len as usize]
            .iter()
            .map(|&x| x as u32)
            .collect();
        let x = llm.text.embed(&row, &device).unwrap();
        if i == 0 {
            assert_close(
                "text0_inputs_embeds",
                &values(x.clone()),
                &g.f32("text0_inputs_embeds").0,
                0.0,
            );
        }
        let out = llm
            .text
            .forward(
                x.unsqueeze(),
                &[MropePositions::sequential(row.len())],
                None,
            )
            .unwrap();
        if i == 0 {
            assert_close(
                "text0_last_hidden_state",
                &values(out.last_hidden_state.clone()),
                &g.f32("text0_last_hidden_state").0,
                1e-5,
            );
        }
        assert_close(
            &format!("text {i} hidden_states_last_token"),
            &stacked_last_tokens(&out, 0),
            &hs[i * per_text..(i + 1) * per_text],
            1e-5,
        );
        let e = values(text_embedding(&out));
        let h = llm.hidden;
        assert_close(
            &format!("text {i} text_embeds"),
            &e,
            &embeds[i * h..(i + 1) * h],
            1e-5,
        );
        assert_close(
            &format!("text {i} text_embeds_normalized"),
            &l2_normalize(&e),
            &embeds_n[i * h..(i + 1) * h],
            1e-6,
        );
    }
}

/// inputs_embeds + the eval-path position ids → every LLM and fusion tensor of a media case.
fn check_media_case(llm: &Llm, file: &str) {
    let g = Golden::open(file);
    let out = run_embeds(llm, &g, &golden_positions(&g, "position_ids"));
    assert_close(
        &format!("{file} hidden_states_last_token"),
        &stacked_last_tokens(&out, 0),
        &g.f32("hidden_states_last_token").0,
        1e-5,
    );
    assert_close(
        &format!("{file} last_hidden_state"),
        &values(out.last_hidden_state.clone()),
        &g.f32("last_hidden_state").0,
        1e-5,
    );
    assert_close(
        &format!("{file} final_norm_last_token"),
        &values(text_embedding(&out)),
        &g.f32("final_norm_last_token").0,
        1e-5,
    );
    let input = llm.fusion.fusion_input(&out);
    assert_close(
        &format!("{file} fusion_input"),
        &values(input.clone()),
        &g.f32("fusion_input").0,
        1e-5,
    );
    assert_close(
        &format!("{file} fusion_hidden_pre_gelu"),
        &values(llm.fusion.hidden_pre_gelu(input)),
        &g.f32("fusion_hidden_pre_gelu").0,
        1e-5,
    );
    let media = values(llm.fusion.media_embedding(&out));
    assert_close(
        &format!("{file} mllm_embeds"),
        &media,
        &g.f32("mllm_embeds").0,
        1e-5,
    );
    assert_close(
        &format!("{file} mllm_embeds_normalized"),
        &l2_normalize(&media),
        &g.f32("mllm_embeds_normalized").0,
        1e-6,
    );
    if g.has("position_ids_use_audio_in_video") {
        // The time-aligned variant differs only in positions; same inputs_embeds.
        let out = run_embeds(
            llm,
            &g,
            &golden_positions(&g, "position_ids_use_audio_in_video"),
        );
        let media = values(llm.fusion.media_embedding(&out));
        assert_close(
            &format!("{file} mllm_embeds_use_audio_in_video"),
            &media,
            &g.f32("mllm_embeds_use_audio_in_video").0,
            1e-5,
        );
        assert_close(
            &format!("{file} mllm_embeds_use_audio_in_video_normalized"),
            &l2_normalize(&media),
            &g.f32("mllm_embeds_use_audio_in_video_normalized").0,
            1e-6,
        );
    }
}

#[test]
fn media_cases_llm_and_fusion_match_golden() {
    let llm = load();
    for file in [
        "cases/audio.safetensors",
        "cases/video.safetensors",
        "cases/av.safetensors",
        "cases/qa.safetensors",
    ] {
        check_media_case(&llm, file);
    }
}

#[test]
fn left_padded_candidate_batch_matches_golden() {
    let llm = load();
    let g = Golden::open("cases/qa.safetensors");
    let (ids, shape) = g.i64("all_ids");
    let (mask, _) = g.i64("all_attention_mask");
    let [n, len] = [shape[0], shape[1]];
    let device = Default::default();
    let rows: Vec<Tensor<B, 2>> = (0..n)
        .map(|i| {
            let row: Vec<u32> = ids[i * len..(i + 1) * len]
                .iter()
                .map(|&x| x as u32)
                .collect();
            llm.text.embed(&row, &device).unwrap()
        })
        .collect();
    let x = Tensor::stack(rows, 0);
    let mask: Vec<Vec<bool>> = (0..n)
        .map(|i| {
            mask[i * len..(i + 1) * len]
                .iter()
                .map(|&m| m == 1)
                .collect()
        })
        .collect();
    // No position ids in the reference call: 0..Lc-1 for every row, padding or not.
    let positions = vec![MropePositions::sequential(len); n];
    let out = llm.text.forward(x, &positions, Some(&mask)).unwrap();
    let stacked: Vec<f32> = (0..n).flat_map(|i| stacked_last_tokens(&out, i)).collect();
    assert_close(
        "candidate_hidden_states_last_token",
        &stacked,
        &g.f32("candidate_hidden_states_last_token").0,
        1e-5,
    );
    let embeds = values(text_embedding(&out));
    assert_close(
        "candidate_embeds",
        &embeds,
        &g.f32("candidate_embeds").0,
        1e-5,
    );
    let h = llm.hidden;
    // Each candidate alone (no padding) gives the same embedding up to rounding.
    let unpadded = g.f32("candidate_embeds_unpadded").0;
    for i in 0..n {
        let real: Vec<u32> = ids[i * len..(i + 1) * len]
            .iter()
            .zip(&mask[i])
            .filter(|(_, &m)| m)
            .map(|(&x, _)| x as u32)
            .collect();
        let x = llm.text.embed(&real, &device).unwrap().unsqueeze();
        let out = llm
            .text
            .forward(x, &[MropePositions::sequential(real.len())], None)
            .unwrap();
        let e = values(text_embedding(&out));
        assert_close(
            &format!("candidate {i} alone"),
            &e,
            &unpadded[i * h..(i + 1) * h],
            1e-5,
        );
        assert_close(
            &format!("candidate {i} alone vs batched"),
            &e,
            &embeds[i * h..(i + 1) * h],
            1e-5,
        );
    }
}

// ---- token layout and position ids -------------------------------------------------------

use wave_engine::positions::{rope_positions, MediaGrids, PositionConfig, VideoGrid};
use wave_engine::prompt::{
    media_ids, text_ids, MediaKind, MediaPlaceholders, PromptTokenizer, DEFAULT_AUDIO_PROMPT,
    DEFAULT_VIDEO_PROMPT,
};

/// The multiple-choice question of the QA case (the repo's scripts/ret_mc.json format).
const QA_PROMPT: &str = "Select the best answer to the following multiplechoice question based on the video.\nWhat is moving across the screen?\nA. A red square.\nB. A blue circle.\nC. A green triangle.\nD. Nothing moves at all in this clip.\nPlease respond with only the letter of the correct answer.";

fn whisper_tokens(feature_len: i64) -> usize {
    (((feature_len - 1) / 2 + 1 - 2) / 2 + 1) as usize
}

fn position_config(cfg: &WaveConfig) -> PositionConfig {
    PositionConfig {
        image_token_id: cfg.image_token_index,
        video_token_id: cfg.video_token_index,
        audio_token_id: cfg.audio_token_index,
        vision_start_token_id: cfg.vision_start_token_id,
        audio_start_token_id: cfg.audio_start_token_id,
        spatial_merge_size: cfg.vision_config.spatial_merge_size,
        position_id_per_seconds: cfg.position_id_per_seconds as f32,
        audio_doubled: !cfg.audio_config.beats_only,
    }
}

struct CaseMedia {
    placeholders: MediaPlaceholders,
    grids: MediaGrids,
}

/// Media sizes of a golden case, derived like the pipeline does (second_per_grid from the sampling).
fn case_media(g: &Golden, cfg: &WaveConfig) -> CaseMedia {
    let audio_tokens: Vec<usize> = if g.has("audio_feature_lengths") {
        vec![whisper_tokens(g.i64("audio_feature_lengths").0[0])]
    } else {
        vec![]
    };
    let mut videos = vec![];
    let mut grid_videos = vec![];
    if g.has("video_grid_thw") {
        let thw = g.i64("video_grid_thw").0;
        let thw = [thw[0] as usize, thw[1] as usize, thw[2] as usize];
        let native_frames = g.i64("video_native_num_frames").0[0] as f64;
        let native_fps = g.f32("video_native_fps").0[0] as f64;
        let sampled = g.i64("video_frame_indices").0.len() as f64;
        let fps = sampled / (native_frames / native_fps);
        let spg = cfg.vision_config.temporal_patch_size as f64 / fps;
        assert_eq!(
            spg as f32,
            g.f32("video_second_per_grid").0[0],
            "second_per_grid"
        );
        videos.push((thw, spg));
        grid_videos.push(VideoGrid {
            thw,
            second_per_grid: spg as f32,
        });
    }
    CaseMedia {
        placeholders: MediaPlaceholders {
            audio_in_video: !audio_tokens.is_empty() && !videos.is_empty(),
            audio_tokens: audio_tokens.clone(),
            images: vec![],
            videos,
            merge_size: cfg.vision_config.spatial_merge_size,
            position_id_per_seconds: cfg.position_id_per_seconds,
            double_audio: !cfg.audio_config.beats_only,
        },
        grids: MediaGrids {
            images: vec![],
            videos: grid_videos,
            audio_tokens,
        },
    }
}

fn golden_ids(g: &Golden, name: &str) -> Vec<u32> {
    g.i64(name).0.into_iter().map(|x| x as u32).collect()
}

#[test]
fn token_layout_and_positions_match_golden() {
    let dir = golden_dir();
    let cfg = WaveConfig::from_dir(&dir).unwrap();
    let tokenizer = PromptTokenizer::from_dir(&dir, &cfg).unwrap();
    let pos_cfg = position_config(&cfg);
    for (file, kind, prompt) in [
        (
            "cases/audio.safetensors",
            MediaKind::Audio,
            DEFAULT_AUDIO_PROMPT,
        ),
        (
            "cases/video.safetensors",
            MediaKind::Video,
            DEFAULT_VIDEO_PROMPT,
        ),
        (
            "cases/av.safetensors",
            MediaKind::Video,
            DEFAULT_VIDEO_PROMPT,
        ),
        ("cases/qa.safetensors", MediaKind::Video, QA_PROMPT),
    ] {
        let g = Golden::open(file);
        let media = case_media(&g, &cfg);
        let ids = media_ids(&tokenizer, kind, prompt, &media.placeholders).unwrap();
        assert_eq!(ids, golden_ids(&g, "input_ids"), "{file}: input_ids");
        assert_eq!(
            rope_positions(&ids, &pos_cfg, &media.grids, false).unwrap(),
            golden_positions(&g, "position_ids"),
            "{file}: position_ids"
        );
        if g.has("position_ids_use_audio_in_video") {
            assert_eq!(
                rope_positions(&ids, &pos_cfg, &media.grids, true).unwrap(),
                golden_positions(&g, "position_ids_use_audio_in_video"),
                "{file}: position_ids_use_audio_in_video"
            );
        }
        if g.has("label_ids") {
            // The caption is not stored as text: rebuild it from the word-level pieces.
            let label = golden_ids(&g, "label_ids");
            let raw = tokenizers::Tokenizer::from_file(dir.join("tokenizer.json")).unwrap();
            let caption: String = label[..label.len() - 1]
                .iter()
                .map(|&id| raw.id_to_token(id).unwrap())
                .collect();
            assert_eq!(
                text_ids(&tokenizer, &caption).unwrap(),
                label,
                "{file}: label_ids"
            );
        }
    }
}
