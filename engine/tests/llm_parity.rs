//! Parity of the Qwen2 decoder, M-RoPE positions and fusion head with the golden LLM tensors.

mod common;

use burn::tensor::{Tensor, TensorData};
use common::{assert_close, golden_dir, Golden};
use wave_engine::config::WaveConfig;
use wave_engine::fusion::{l2_normalize, text_embedding, FusionHead, FusionKind};
use wave_engine::positions::MropePositions;
use wave_engine::text::{TextModel, TextOutput};
use wave_engine::weights::WeightStore;
use wave_engine::CpuBackend as B;

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
