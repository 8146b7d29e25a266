//! `wave train` on a tiny generated corpus: the loss goes down, a run resumes exactly where a
//! checkpoint left it, and bad arguments are clear errors.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use wave_engine::encoded::VisionCut;
use wave_train::model_dir::ModelSizes;
use wave_train::tasks::Task;
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
    // At 3e-3 every embedding collapsed to one point within 20 steps (loss ln(batch)) once the
    // QA distractors included the clip's own facts.
    opts.lr = 1e-3;
    let report = train(&opts, |_| {}).unwrap();
    assert_eq!(report.losses.len(), 40);
    // Same tasks over the same few scenes: compare the first and last eight steps.
    let losses: Vec<f32> = report.losses.iter().map(|l| l.2).collect();
    let (first, last) = (mean(&losses[..8]), mean(&losses[32..]));
    assert!(
        last < 0.85 * first,
        "loss did not fall: first eight steps {first:.3}, last eight {last:.3}: {:?}",
        report.losses
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
    // A warmup ratio whose f32 -> JSON text -> f64 trip lands one ulp off: such a run was once
    // refused on resume as having "other options".
    let mut whole = tiny(&tmp.path().join("whole"));
    whole.steps = 6;
    whole.warmup_ratio = 0.03;
    let uninterrupted = train(&whole, |_| {}).unwrap();

    let mut part = tiny(&tmp.path().join("part"));
    part.steps = 6;
    part.warmup_ratio = 0.03;
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
    o.hard_negatives = 1.5;
    check(o, "hard-negative fraction must be in [0, 1], got 1.5");
    let mut o = tiny(&out);
    o.vision_blocks_lr_scale = Some(0.0);
    check(
        o,
        "vision-block learning-rate scale must be positive, got 0",
    );
    let mut o = tiny(&out);
    o.patch_embed_lr_scale = Some(-1.0);
    check(
        o,
        "patch-embedding learning-rate scale must be positive, got -1",
    );
    let mut o = tiny(&out);
    o.video_fps = Some(0.0);
    check(
        o,
        "video frame rate must be in (0, 25] frames a second, got 0",
    );
    let mut o = tiny(&out);
    o.data = tmp.path().join("no-corpus");
    check(o, "wave synth");
    let mut o = tiny(&out);
    o.vocab_size = 100;
    let err = train(&o, |_| {}).unwrap_err().to_string();
    assert!(err.contains("vocab size 100"), "{err}");
}

#[test]
fn a_second_stage_continues_from_the_first_stages_model() {
    let tmp = tempfile::tempdir().unwrap();
    let mut first = tiny(&tmp.path().join("stage1"));
    first.steps = 40;
    let stage1 = train(&first, |_| {}).unwrap();

    // The second stage starts from exactly the first stage's weights.
    let copied = wave_train::model_dir::copy_model(&first.out, &tmp.path().join("copy")).unwrap();
    let saved =
        wave_train::checkpoint::read_safetensors(&first.out.join("model.safetensors")).unwrap();
    assert_eq!(copied, saved);

    let mut second = tiny(&tmp.path().join("stage2"));
    second.steps = 8;
    // A learning rate too small to move the weights: the losses are the first stage's model's.
    second.lr = 1e-7;
    second.init_from = Some(first.out.clone());
    // The model directory decides the sizes and tokenizer, whatever these options say.
    second.sizes.hidden = 64;
    second.vocab_size = 512;
    let stage2 = train(&second, |_| {}).unwrap();
    for f in ["tokenizer.json", "config.json"] {
        assert_eq!(
            std::fs::read(first.out.join(f)).unwrap(),
            std::fs::read(second.out.join(f)).unwrap(),
            "{f} is not the first stage's"
        );
    }
    // Steps 0..8 draw the same tasks and batches in both runs: from the trained weights the
    // loss is below where the fresh run started.
    let fresh: Vec<f32> = stage1.losses[..8].iter().map(|l| l.2).collect();
    let continued: Vec<f32> = stage2.losses.iter().map(|l| l.2).collect();
    for (a, b) in stage1.losses[..8].iter().zip(&stage2.losses) {
        assert_eq!(a.1, b.1, "same task at step {}", a.0);
    }
    assert!(
        mean(&continued) < mean(&fresh),
        "second stage started from scratch: {:.3} vs fresh {:.3}",
        mean(&continued),
        mean(&fresh)
    );
}

#[test]
fn a_bad_init_from_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let mut first = tiny(&tmp.path().join("stage1"));
    first.steps = 1;
    train(&first, |_| {}).unwrap();
    let copy = |name: &str| {
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for e in std::fs::read_dir(&first.out).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
            }
        }
        dir
    };
    let check = |from: PathBuf, needle: &str| {
        let mut o = tiny(&tmp.path().join(format!("out-{}", needle.len())));
        o.init_from = Some(from);
        let err = train(&o, |_| {}).unwrap_err().to_string();
        assert!(err.contains(needle), "{err}");
        assert!(!o.out.join("model.safetensors").exists(), "{err}");
    };
    check(
        tmp.path().join("nowhere"),
        "nowhere/model.safetensors: not found",
    );

    let no_tokenizer = copy("no-tokenizer");
    std::fs::remove_file(no_tokenizer.join("tokenizer.json")).unwrap();
    check(no_tokenizer, "no-tokenizer/tokenizer.json: not found");

    let truncated = copy("truncated");
    let weights = truncated.join("model.safetensors");
    let bytes = std::fs::read(&weights).unwrap();
    std::fs::write(&weights, &bytes[..bytes.len() / 2]).unwrap();
    check(truncated, "truncated/model.safetensors: bad checkpoint");

    let missing = copy("missing-tensor");
    let weights = missing.join("model.safetensors");
    let mut tensors = wave_train::checkpoint::read_safetensors(&weights).unwrap();
    tensors.remove("model.norm.weight").unwrap();
    wave_train::checkpoint::write_safetensors(&weights, &tensors).unwrap();
    check(missing, "model.norm.weight is missing");
}

#[test]
fn a_run_can_be_limited_to_some_tasks() {
    let tmp = tempfile::tempdir().unwrap();
    let mut all = tiny(&tmp.path().join("all"));
    all.steps = 1;
    let every_clip = train(&all, |_| {}).unwrap().media_encoded;

    let mut some = tiny(&tmp.path().join("some"));
    some.steps = 4;
    some.tasks = Some(vec![Task::TextVideo, Task::Qa]);
    let report = train(&some, |_| {}).unwrap();
    let drawn: std::collections::BTreeSet<&str> =
        report.losses.iter().map(|l| l.1.as_str()).collect();
    assert_eq!(drawn, ["QA", "T<->V"].into_iter().collect());
    // Only the clips those tasks read are encoded (no audio-only clips, no hums).
    assert!(
        report.media_encoded < every_clip,
        "{} of {every_clip} clips encoded",
        report.media_encoded
    );

    // A task named twice gets two batches in every cycle, whatever the order given.
    let mut weighted = tiny(&tmp.path().join("weighted"));
    weighted.steps = 6;
    weighted.tasks = Some(vec![Task::Qa, Task::TextVideo, Task::Qa]);
    let report = train(&weighted, |_| {}).unwrap();
    let qa = report.losses.iter().filter(|l| l.1 == "QA").count();
    assert_eq!((qa, report.losses.len() - qa), (4, 2));

    some.tasks = Some(Vec::new());
    let err = train(&some, |_| {}).unwrap_err().to_string();
    assert!(err.contains("at least one task"), "{err}");
}

#[test]
fn hums_and_clips_can_be_trained_against_their_tunes_names() {
    let split = wave_train::corpus::Split::open(&corpus().join("train")).unwrap();
    let hums: Vec<&wave_train::corpus::Hum> = split.scenes.values().flat_map(|s| &s.hums).collect();
    assert!(hums.len() >= 2, "the tiny corpus has {} hums", hums.len());
    assert!(hums.iter().all(|h| h
        .caption
        .as_deref()
        .is_some_and(|c| c.starts_with("someone ") && c.ends_with(" tune"))));
    let clips_with_tunes: Vec<&str> = split
        .scenes
        .values()
        .filter(|s| s.audio_video.is_some())
        .filter_map(|s| s.tune_caption.as_deref())
        .collect();
    assert!(clips_with_tunes.len() >= 2, "{clips_with_tunes:?}");
    assert!(clips_with_tunes
        .iter()
        .all(|c| c.starts_with("the ") && c.ends_with(" tune")));

    let tmp = tempfile::tempdir().unwrap();
    let mut opts = tiny(&tmp.path().join("model"));
    opts.steps = 16;
    opts.lr = 1e-3;
    opts.tasks = Some(vec![Task::TextHum]);
    let report = train(&opts, |_| {}).unwrap();
    assert!(report.losses.iter().all(|l| l.1 == "T<->hum"));
    // The hums are the only clips the task reads.
    assert_eq!(report.media_encoded, hums.len());
    let losses: Vec<f32> = report.losses.iter().map(|l| l.2).collect();
    let (first, last) = (mean(&losses[..4]), mean(&losses[12..]));
    assert!(
        last < 0.85 * first,
        "loss did not fall: first four steps {first:.3}, last four {last:.3}: {:?}",
        report.losses
    );

    // Tune <-> audio-video reads the clips that play a tune, and nothing else.
    let mut tunes = tiny(&tmp.path().join("tunes"));
    tunes.steps = 2;
    tunes.tasks = Some(vec![Task::TuneAudioVideo]);
    let report = train(&tunes, |_| {}).unwrap();
    assert!(report.losses.iter().all(|l| l.1 == "tune<->AV"));
    assert_eq!(report.media_encoded, clips_with_tunes.len());
}

#[test]
fn the_vision_blocks_and_patch_embedding_train_only_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let mut first = tiny(&tmp.path().join("stage1"));
    first.steps = 1;
    train(&first, |_| {}).unwrap();
    let read = |dir: &Path| {
        wave_train::checkpoint::read_safetensors(&dir.join("model.safetensors")).unwrap()
    };
    let start = read(&first.out);
    let stage = |name: &str, vision_blocks: bool, patch_embed: bool| {
        let mut o = tiny(&tmp.path().join(name));
        o.steps = 3;
        o.tasks = Some(vec![Task::TextVideo]);
        o.init_from = Some(first.out.clone());
        o.vision_blocks_lr_scale = vision_blocks.then_some(0.5);
        o.patch_embed_lr_scale = patch_embed.then_some(0.5);
        train(&o, |_| {}).unwrap();
        (read(&o.out), o)
    };
    let moved = |weights: &std::collections::BTreeMap<_, _>, prefix: &str| -> Vec<String> {
        start
            .iter()
            .filter(|(n, t)| n.starts_with(prefix) && weights.get(*n) != Some(*t))
            .map(|(n, _)| n.clone())
            .collect()
    };
    let (frozen, _) = stage("frozen", false, false);
    assert!(moved(&frozen, "visual.blocks.").is_empty());
    assert!(!moved(&frozen, "visual.merger.").is_empty());

    let (trained, _) = stage("trained", true, false);
    let blocks = moved(&trained, "visual.blocks.");
    let all_blocks = start
        .keys()
        .filter(|n| n.starts_with("visual.blocks."))
        .count();
    assert_eq!(blocks.len(), all_blocks, "moved: {blocks:?}");
    // The media cache holds the patch embedding's output: it is not trained.
    assert!(moved(&trained, "visual.patch_embed.").is_empty());

    // Asked for, the patch embedding trains, from pixel patches the cache keeps as the 8-bit
    // values they were decoded from.
    let (pixels, opts) = stage("patch-embed", false, true);
    assert_eq!(
        moved(&pixels, "visual.patch_embed."),
        ["visual.patch_embed.proj.weight"]
    );
    assert!(moved(&pixels, "visual.blocks.").is_empty());
    let fps = wave_engine::preprocess::PreprocessConfig::from_model_dir(&opts.out)
        .unwrap()
        .sampling
        .fps();
    let cache = wave_train::media_cache::load(
        &opts.out.join(wave_train::trainer::MEDIA_CACHE),
        &wave_train::media_cache::frozen_fingerprint(&start, fps, VisionCut::Pixels),
    )
    .expect("a cache of pixel patches");
    let videos: Vec<_> = cache.values().filter_map(|m| m.video.as_ref()).collect();
    assert!(!videos.is_empty());
    for (input, [t, h, w], _) in videos {
        let wave_engine::encoded::HostVision::Pixels(p) = input else {
            panic!("a video cached as its patch embedding in a run that trains it");
        };
        // (C·T·p·p) = 3·2·14·14 values a patch.
        assert_eq!(p.shape, [t * h * w, 1176]);
    }
    // A run that does not train it cannot take that cache for its own.
    assert!(wave_train::media_cache::load(
        &opts.out.join(wave_train::trainer::MEDIA_CACHE),
        &wave_train::media_cache::frozen_fingerprint(&start, fps, VisionCut::PatchEmbedding),
    )
    .is_none());
}

#[test]
fn a_stage_can_sample_video_at_another_rate() {
    let tmp = tempfile::tempdir().unwrap();
    let mut first = tiny(&tmp.path().join("stage1"));
    first.steps = 1;
    first.tasks = Some(vec![Task::TextVideo]);
    train(&first, |_| {}).unwrap();
    let stage = |name: &str, fps: Option<f64>| {
        let mut o = tiny(&tmp.path().join(name));
        o.steps = 1;
        o.tasks = Some(vec![Task::TextVideo]);
        o.init_from = Some(first.out.clone());
        o.video_fps = fps;
        train(&o, |_| {}).unwrap();
        o.out
    };
    let same = stage("same", None);
    let faster = stage("faster", Some(4.0));

    // The model directory records the rate, where ingest and search read it.
    let rate = |dir: &Path| {
        wave_engine::preprocess::PreprocessConfig::from_model_dir(dir)
            .unwrap()
            .sampling
            .fps()
    };
    assert_eq!(rate(&first.out), 2.0);
    assert_eq!(rate(&same), 2.0);
    assert_eq!(rate(&faster), 4.0);

    // The cached clips were sampled at it: twice the temporal patches, each half as long.
    let weights =
        wave_train::checkpoint::read_safetensors(&first.out.join("model.safetensors")).unwrap();
    let cache = |dir: &Path, fps: f64| {
        let fingerprint =
            wave_train::media_cache::frozen_fingerprint(&weights, fps, VisionCut::PatchEmbedding);
        wave_train::media_cache::load(&dir.join(wave_train::trainer::MEDIA_CACHE), &fingerprint)
            .expect("the run's media cache, made at its rate")
    };
    let (at2, at4) = (cache(&same, 2.0), cache(&faster, 4.0));
    assert!(wave_train::media_cache::load(
        &faster.join(wave_train::trainer::MEDIA_CACHE),
        &wave_train::media_cache::frozen_fingerprint(&weights, 2.0, VisionCut::PatchEmbedding)
    )
    .is_none());
    let mut videos = 0;
    for (id, slow) in &at2 {
        let (Some((_, g2, spg2)), Some((_, g4, spg4))) = (&slow.video, &at4[id].video) else {
            continue;
        };
        videos += 1;
        // Clips last 2.5-3.5 s: 3 or 4 patches of 1 s at 2 fps, 5 to 7 of 0.5 s at 4 fps.
        assert!(
            g4[0] >= 2 * g2[0] - 1 && g4[0] > g2[0],
            "{id}: {g2:?} vs {g4:?}"
        );
        assert_eq!((g2[1], g2[2]), (g4[1], g4[2]), "{id}");
        // About half (frame counts are whole, so not exactly).
        assert!(
            (1.6..2.5).contains(&(spg2 / spg4)),
            "{id}: {spg2} vs {spg4}"
        );
    }
    assert!(videos > 0);
}

#[test]
fn remembered_negatives_join_the_batch_once_a_batch_is_remembered() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |name: &str, memory: usize| {
        let mut o = tiny(&tmp.path().join(name));
        o.steps = 3;
        // Batches of 3 of the 8 scenes, so a remembered batch holds scenes the next one lacks.
        o.batch = 3;
        o.tasks = Some(vec![Task::TextVideo]);
        o.negative_memory = memory;
        train(&o, |_| {})
            .unwrap()
            .losses
            .iter()
            .map(|l| l.2)
            .collect::<Vec<f32>>()
    };
    let plain = run("plain", 0);
    let remembered = run("remembered", 4);
    // Step 0 has nothing remembered: the same loss, so the same update.
    assert!(
        (plain[0] - remembered[0]).abs() < 1e-6,
        "{plain:?} vs {remembered:?}"
    );
    // Step 1 ranks the same batch against step 0's pairs too: more candidates, a higher loss.
    assert!(
        remembered[1] > plain[1] + 1e-3,
        "{plain:?} vs {remembered:?}"
    );
}

/// A clip of sound and pictures that no training scene has: a rising tone over moving bars.
fn probe_inputs() -> Vec<wave_engine::embedder::Input> {
    use wave_engine::embedder::{FrameTiming, Input, VideoFrames};
    let sample_rate = 16_000;
    let pcm: Vec<f32> = (0..2 * sample_rate)
        .map(|i| {
            let t = i as f32 / sample_rate as f32;
            0.3 * (2.0 * std::f32::consts::PI * (300.0 + 200.0 * t) * t).sin()
        })
        .collect();
    let (num_frames, height, width) = (8, 56, 56);
    let data: Vec<u8> = (0..num_frames * height * width * 3)
        .map(|i| {
            let (f, x) = (i / (height * width * 3), (i / 3) % width);
            (((x + 4 * f) / 7 % 2) * 200 + (i % 3) * 20) as u8
        })
        .collect();
    let frames = VideoFrames {
        data,
        num_frames,
        height,
        width,
        timing: FrameTiming::Native { fps: 4.0 },
    };
    vec![
        Input::Text("a blue circle bounces while a flute plays".into()),
        Input::Audio {
            pcm: pcm.clone(),
            sample_rate,
            prompt: None,
        },
        Input::Video {
            frames: frames.clone(),
            prompt: None,
        },
        Input::AudioVideo {
            pcm,
            sample_rate,
            frames,
            prompt: None,
        },
    ]
}

#[test]
fn a_grown_model_embeds_as_the_model_it_grew_from() {
    let tmp = tempfile::tempdir().unwrap();
    let mut first = tiny(&tmp.path().join("stage1"));
    first.steps = 20;
    train(&first, |_| {}).unwrap();

    let mut grown = tiny(&tmp.path().join("grown"));
    grown.init_from = Some(first.out.clone());
    grown.grow.llm_layers = 2;
    grown.grow.audio_layers = 1;
    grown.grow.vision_blocks = 2;
    grown.vision_blocks_lr_scale = Some(1.0);
    grown.steps = 1;
    // Too small a step to move the weights: the embeddings are the grown model's at step 0.
    grown.lr = 1e-9;
    train(&grown, |_| {}).unwrap();

    // The grown directory asks for twice the layers, and the weights hold them.
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(grown.out.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["text_config"]["num_hidden_layers"], 4);
    assert_eq!(config["audio_config"]["encoder_layers"], 2);
    let first_config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(first.out.join("config.json")).unwrap()).unwrap();
    let first_depth = first_config["vision_config"]["depth"].as_u64().unwrap();
    assert_eq!(config["vision_config"]["depth"], first_depth + 2);
    let weights =
        wave_train::checkpoint::read_safetensors(&grown.out.join("model.safetensors")).unwrap();
    assert!(weights.contains_key("model.layers.3.mlp.down_proj.weight"));
    assert!(weights.contains_key("audio_tower.layers.1.fc2.bias"));
    let last_block = format!("visual.blocks.{}.attn.proj.weight", first_depth + 1);
    assert!(weights.contains_key(&last_block), "{last_block} missing");
    assert_eq!(weights["classify_linear.0.weight"].shape, vec![32, 32 * 4]);

    let load = |dir: &Path| {
        wave_engine::embedder::Embedder::<wave_engine::CpuBackend>::load(dir, &Default::default())
            .unwrap()
    };
    let inputs = probe_inputs();
    let before = load(&first.out).embed(&inputs).unwrap();
    let after = load(&grown.out).embed(&inputs).unwrap();
    for (which, (a, b)) in ["text", "audio", "video", "audio-video"]
        .iter()
        .zip(before.iter().zip(&after))
    {
        let scale = a.iter().map(|x| x.abs()).fold(0.0f32, f32::max);
        let diff = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        assert!(
            diff <= 1e-4 * scale.max(1.0),
            "{which}: grown model differs by {diff} (largest value {scale})"
        );
    }

    // Training the grown model moves its new layers off the identity.
    let mut trained = tiny(&tmp.path().join("grown-trained"));
    trained.init_from = Some(first.out.clone());
    trained.grow.llm_layers = 2;
    trained.grow.vision_blocks = 1;
    trained.vision_blocks_lr_scale = Some(1.0);
    trained.steps = 4;
    train(&trained, |_| {}).unwrap();
    let weights =
        wave_train::checkpoint::read_safetensors(&trained.out.join("model.safetensors")).unwrap();
    let new_o_proj = &weights["model.layers.1.self_attn.o_proj.weight"].values;
    assert!(new_o_proj.iter().any(|&v| v != 0.0));
    let new_block_proj = &weights[&format!("visual.blocks.{first_depth}.attn.proj.weight")].values;
    assert!(new_block_proj.iter().any(|&v| v != 0.0));
}

#[test]
fn growing_needs_a_model_to_grow() {
    let tmp = tempfile::tempdir().unwrap();
    let mut o = tiny(&tmp.path().join("model"));
    o.grow.llm_layers = 2;
    let err = train(&o, |_| {}).unwrap_err().to_string();
    assert!(err.contains("needs --init-from"), "{err}");
}

#[test]
fn growing_vision_blocks_needs_them_trained() {
    let tmp = tempfile::tempdir().unwrap();
    let mut o = tiny(&tmp.path().join("model"));
    o.init_from = Some(tmp.path().join("model"));
    o.grow.vision_blocks = 1;
    let err = train(&o, |_| {}).unwrap_err().to_string();
    assert!(err.contains("needs --train-vision-blocks"), "{err}");
}
