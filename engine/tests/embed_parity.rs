//! End-to-end parity of `Embedder` with the golden embeddings: raw media and text in,
//! normalised vectors out, from model.safetensors and from pytorch_model.bin + beats.pt.

mod common;

use std::path::{Path, PathBuf};

use burn::tensor::Tensor;
use common::TestBackend as B;
use common::{assert_close, golden_dir, max_abs_diff, Golden};
use wave_engine::embedder::{AvPositions, EmbedOptions, Embedder, FrameTiming, Input, VideoFrames};
use wave_engine::model::LoadOptions;
use wave_engine::positions::MropePositions;

const TOL: f32 = 1e-4;

/// The multiple-choice question of the QA case.
const QA_PROMPT: &str = "Select the best answer to the following multiplechoice question based on the video.\nWhat is moving across the screen?\nA. A red square.\nB. A blue circle.\nC. A green triangle.\nD. Nothing moves at all in this clip.\nPlease respond with only the letter of the correct answer.";

fn embedder(dir: &Path, av_positions: AvPositions) -> Embedder<B> {
    let options = EmbedOptions {
        av_positions,
        ..EmbedOptions::default()
    };
    Embedder::load_with(dir, &LoadOptions::default(), options, &Default::default()).unwrap()
}

fn audio_input(g: &Golden, prompt: Option<&str>) -> (Vec<f32>, Option<String>) {
    (g.f32("input_raw_wav").0, prompt.map(str::to_string))
}

fn audio(g: &Golden) -> Input {
    let (pcm, prompt) = audio_input(g, None);
    Input::Audio {
        pcm,
        sample_rate: 16000,
        prompt,
    }
}

fn video(g: &Golden) -> Input {
    Input::Video {
        frames: g.video_frames(),
        prompt: None,
    }
}

fn audio_video(g: &Golden, prompt: Option<&str>) -> Input {
    let (pcm, prompt) = audio_input(g, prompt);
    Input::AudioVideo {
        pcm,
        sample_rate: 16000,
        frames: g.video_frames(),
        prompt,
    }
}

/// Text of word-level token ids (the stand-in tokenizer has one piece per id).
fn decode(ids: &[i64]) -> String {
    let tok = tokenizers::Tokenizer::from_file(golden_dir().join("tokenizer.json")).unwrap();
    ids.iter()
        .map(|&id| tok.id_to_token(id as u32).unwrap())
        .collect()
}

/// The caption of a case: label_ids without the final `<|im_end|>`.
fn caption(g: &Golden) -> String {
    let ids = g.i64("label_ids").0;
    decode(&ids[..ids.len() - 1])
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn values(t: Tensor<B, 2>) -> Vec<f32> {
    t.into_data().to_vec::<f32>().unwrap()
}

fn golden_positions(g: &Golden, name: &str) -> MropePositions {
    let (ids, shape) = g.i64(name);
    let len = shape[2];
    MropePositions {
        t: ids[..len].to_vec(),
        h: ids[len..2 * len].to_vec(),
        w: ids[2 * len..].to_vec(),
    }
}

/// Every case from one model directory; returns all vectors in a fixed order.
fn check_all_cases(e_seq: &Embedder<B>, e_tm: &Embedder<B>) -> Vec<Vec<f32>> {
    let mut all = Vec::new();
    let cases = [
        ("cases/audio.safetensors", "audio"),
        ("cases/video.safetensors", "video"),
        ("cases/av.safetensors", "av"),
    ];
    let av = Golden::open("cases/av.safetensors");
    let mut media_vectors = Vec::new();
    for (file, kind) in cases {
        let g = Golden::open(file);
        let input = match kind {
            "audio" => audio(&g),
            "video" => video(&g),
            _ => audio_video(&g, None),
        };
        // Tokens, positions and LLM input rows of the eval path.
        let prepared = e_seq.prepare(&input).unwrap();
        let golden_ids: Vec<u32> = g.i64("input_ids").0.into_iter().map(|x| x as u32).collect();
        assert_eq!(prepared.ids, golden_ids, "{file}: input_ids");
        assert_eq!(
            prepared.positions,
            golden_positions(&g, "position_ids"),
            "{file}: position_ids"
        );
        assert_close(
            &format!("{file} inputs_embeds"),
            &values(prepared.inputs_embeds),
            &g.f32("inputs_embeds").0,
            TOL,
        );
        let raw = e_seq
            .embed_raw(std::slice::from_ref(&input))
            .unwrap()
            .remove(0);
        assert_close(
            &format!("{file} mllm_embeds"),
            &raw,
            &g.f32("mllm_embeds").0,
            TOL,
        );
        let v = e_seq.embed_one(&input).unwrap();
        assert_close(
            &format!("{file} mllm_embeds_normalized"),
            &v,
            &g.f32("mllm_embeds_normalized").0,
            TOL,
        );
        media_vectors.push(v.clone());
        all.push(v);
        if g.has("mllm_embeds_use_audio_in_video_normalized") {
            let prepared = e_tm.prepare(&input).unwrap();
            assert_eq!(
                prepared.positions,
                golden_positions(&g, "position_ids_use_audio_in_video"),
                "{file}: time-aligned positions"
            );
            let v = e_tm.embed_one(&input).unwrap();
            assert_close(
                &format!("{file} mllm_embeds_use_audio_in_video_normalized"),
                &v,
                &g.f32("mllm_embeds_use_audio_in_video_normalized").0,
                TOL,
            );
            all.push(v);
        }
        // The caption through the text route.
        let t = e_seq.embed_one(&Input::Text(caption(&g))).unwrap();
        assert_close(
            &format!("{file} text_embeds_normalized"),
            &t,
            &g.f32("text_embeds_normalized").0,
            TOL,
        );
        all.push(t);
    }

    // Text case: the four texts, batched together, and the media × text similarities.
    let gt = Golden::open("cases/text.safetensors");
    let (ids, shape) = gt.i64("input_ids_padded");
    let lengths = gt.i64("input_lengths").0;
    let texts: Vec<Input> = lengths
        .iter()
        .enumerate()
        .map(|(i, &len)| Input::Text(decode(&ids[i * shape[1]..i * shape[1] + len as usize - 1])))
        .collect();
    let text_vectors = e_seq.embed(&texts).unwrap();
    let flat: Vec<f32> = text_vectors.concat();
    assert_close(
        "text text_embeds_normalized",
        &flat,
        &gt.f32("text_embeds_normalized").0,
        TOL,
    );
    let sims: Vec<f32> = media_vectors
        .iter()
        .flat_map(|m| text_vectors.iter().map(|t| dot(m, t)).collect::<Vec<_>>())
        .collect();
    assert_close(
        "text sims_media_x_text",
        &sims,
        &gt.f32("sims_media_x_text").0,
        TOL,
    );
    all.extend(text_vectors);

    // QA: the question as prompt on the av media; candidates through the text route.
    let qa = Golden::open("cases/qa.safetensors");
    let (cand_ids, cshape) = qa.i64("all_ids");
    let cand_mask = qa.i64("all_attention_mask").0;
    let candidates: Vec<Input> = (0..cshape[0])
        .map(|i| {
            let row = &cand_ids[i * cshape[1]..(i + 1) * cshape[1]];
            let mask = &cand_mask[i * cshape[1]..(i + 1) * cshape[1]];
            let real: Vec<i64> = row
                .iter()
                .zip(mask)
                .filter(|(_, &m)| m == 1)
                .map(|(&x, _)| x)
                .collect();
            Input::Text(decode(&real[..real.len() - 1]))
        })
        .collect();
    let cands = e_seq.embed(&candidates).unwrap();
    assert_close(
        "qa candidate_embeds_normalized",
        &cands.concat(),
        &qa.f32("candidate_embeds_normalized").0,
        TOL,
    );
    let question = audio_video(&av, Some(QA_PROMPT));
    let prepared = e_seq.prepare(&question).unwrap();
    let qa_ids: Vec<u32> = qa
        .i64("input_ids")
        .0
        .into_iter()
        .map(|x| x as u32)
        .collect();
    assert_eq!(prepared.ids, qa_ids, "qa input_ids");
    for (e, sims_name, embeds_name) in [
        (e_seq, "v2t_sims", "mllm_embeds_normalized"),
        (
            e_tm,
            "v2t_sims_use_audio_in_video",
            "mllm_embeds_use_audio_in_video_normalized",
        ),
    ] {
        let m = e.embed_one(&question).unwrap();
        assert_close(
            &format!("qa {embeds_name}"),
            &m,
            &qa.f32(embeds_name).0,
            TOL,
        );
        let sims: Vec<f32> = cands.iter().map(|c| dot(&m, c)).collect();
        assert_close(&format!("qa {sims_name}"), &sims, &qa.f32(sims_name).0, TOL);
        all.push(m);
    }
    all.extend(cands);
    all
}

fn bin_model_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wave-embed-bin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for name in [
        "config.json",
        "pytorch_model.bin",
        "beats.pt",
        "tokenizer.json",
        "preprocessor_config.json",
        "preprocessor_runtime.json",
    ] {
        let src = golden_dir().join(name);
        if src.exists() {
            std::os::unix::fs::symlink(src, dir.join(name)).unwrap();
        }
    }
    dir
}

#[test]
fn every_case_matches_golden_from_safetensors_and_from_bin() {
    let dir = golden_dir();
    let from_st = check_all_cases(
        &embedder(&dir, AvPositions::Sequential),
        &embedder(&dir, AvPositions::TimeAligned),
    );
    let bin = bin_model_dir();
    let from_bin = check_all_cases(
        &embedder(&bin, AvPositions::Sequential),
        &embedder(&bin, AvPositions::TimeAligned),
    );
    assert_eq!(
        from_st, from_bin,
        "pytorch_model.bin + beats.pt give other vectors than model.safetensors"
    );
}

#[test]
fn a_mixed_batch_equals_one_at_a_time() {
    let e = embedder(&golden_dir(), AvPositions::default());
    let g_audio = Golden::open("cases/audio.safetensors");
    let g_video = Golden::open("cases/video.safetensors");
    let g_av = Golden::open("cases/av.safetensors");
    let inputs = vec![
        Input::Text("dog".into()),
        audio(&g_audio),
        Input::Text(caption(&g_av)),
        video(&g_video),
        audio_video(&g_av, None),
        Input::Text(caption(&g_video)),
        Input::Text("wind".into()),
    ];
    let batched = e.embed(&inputs).unwrap();
    assert_eq!(batched.len(), inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let alone = e.embed_one(input).unwrap();
        assert_eq!(alone.len(), e.dim());
        let norm: f32 = alone.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "input {i}: norm {norm}");
        let d = max_abs_diff(&batched[i], &alone);
        let tol = 1e-5f32.max(common::tolerance_floor());
        assert!(d <= tol, "input {i}: batched vs alone differ by {d:e}");
    }
    // The default for audio-video is the time-aligned variant.
    assert_close(
        "default av positions",
        &batched[4],
        &g_av.f32("mllm_embeds_use_audio_in_video_normalized").0,
        TOL,
    );
}

/// The golden clip rebuilt at its native rate: the sampled frames at their indices, black
/// frames elsewhere; WAVE's own 2 fps sampling must pick exactly the sampled ones.
fn native_frames(g: &Golden) -> VideoFrames {
    let sampled = g.video_frames();
    let native = g.i64("video_native_num_frames").0[0] as usize;
    let frame_len = sampled.height * sampled.width * 3;
    let mut data = vec![0u8; native * frame_len];
    for (k, &i) in g.i64("video_frame_indices").0.iter().enumerate() {
        let i = i as usize;
        data[i * frame_len..(i + 1) * frame_len]
            .copy_from_slice(&sampled.data[k * frame_len..(k + 1) * frame_len]);
    }
    VideoFrames {
        data,
        num_frames: native,
        timing: FrameTiming::Native {
            fps: g.f32("video_native_fps").0[0] as f64,
        },
        ..sampled
    }
}

#[test]
fn native_rate_video_is_sampled_like_the_reference() {
    let e = embedder(&golden_dir(), AvPositions::Sequential);
    let g = Golden::open("cases/video.safetensors");
    let v = e
        .embed_one(&Input::Video {
            frames: native_frames(&g),
            prompt: None,
        })
        .unwrap();
    assert_close(
        "video (native frames) mllm_embeds_normalized",
        &v,
        &g.f32("mllm_embeds_normalized").0,
        TOL,
    );
    let g = Golden::open("cases/av.safetensors");
    let (pcm, _) = audio_input(&g, None);
    let v = e
        .embed_one(&Input::AudioVideo {
            pcm,
            sample_rate: 16000,
            frames: native_frames(&g),
            prompt: None,
        })
        .unwrap();
    assert_close(
        "av (native frames) mllm_embeds_normalized",
        &v,
        &g.f32("mllm_embeds_normalized").0,
        TOL,
    );
}

#[test]
fn a_model_dir_without_tokenizer_is_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("wave-embed-notok-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["config.json", "model.safetensors", "beats.pt"] {
        std::os::unix::fs::symlink(golden_dir().join(name), dir.join(name)).unwrap();
    }
    let err = match Embedder::<B>::load(&dir, &Default::default()) {
        Ok(_) => panic!("loading without tokenizer.json should fail"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("tokenizer.json"), "{err}");
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    let e = embedder(&golden_dir(), AvPositions::default());
    let g = Golden::open("cases/video.safetensors");
    let mut broken = g.video_frames();
    broken.data.truncate(broken.data.len() - 1);
    let err = e
        .embed(&[
            Input::Text("ok".into()),
            Input::Video {
                frames: broken,
                prompt: None,
            },
        ])
        .unwrap_err()
        .to_string();
    assert!(err.contains("input 1"), "{err}");
    let err = e
        .embed_one(&Input::Audio {
            pcm: vec![f32::NAN; 100],
            sample_rate: 16000,
            prompt: None,
        })
        .unwrap_err()
        .to_string();
    assert!(err.contains("finite"), "{err}");
    // A prompt smuggling a media placeholder cannot desynchronise the rows.
    let err = e
        .embed_one(&Input::Audio {
            pcm: vec![0.0; 16000],
            sample_rate: 16000,
            prompt: Some("hear <|AUDIO|> this".into()),
        })
        .unwrap_err()
        .to_string();
    assert!(err.contains("audio"), "{err}");
}
