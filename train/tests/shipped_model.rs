//! The shipped default model (`models/wave-tiny`) loads through the regular path and
//! reproduces the numbers its report records for a corpus the test regenerates.

use std::path::PathBuf;

use serde_json::Value;
use wave_train::eval::{evaluate, EvalOptions};

fn model_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/wave-tiny")
}

#[test]
fn the_shipped_model_reproduces_its_report() {
    let dir = model_dir();
    let text = std::fs::read_to_string(dir.join("eval-check.json"))
        .expect("models/wave-tiny/eval-check.json");
    let check: Value = serde_json::from_str(&text).unwrap();
    let seed = check["corpus"]["seed"].as_u64().unwrap();
    let count = check["corpus"]["count"].as_u64().unwrap() as usize;

    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    let mut opts = wave_synth::SynthOptions::new(seed, &corpus);
    opts.count = Some(count);
    wave_synth::generate(&opts, &|_, _| {}).unwrap();

    let report = evaluate(&EvalOptions {
        model: dir.clone(),
        data: corpus.join("test"),
        max_scenes: None,
        misses: 0,
    })
    .unwrap();
    let expected = &check["report"];
    let got = serde_json::to_value(&report).unwrap();
    let rows = |v: &Value| -> Vec<Value> {
        let mut rows = v["retrieval"].as_array().unwrap().clone();
        for hum in ["hum", "hum_melody"] {
            rows.extend(v[hum].as_object().map(|o| Value::Object(o.clone())));
        }
        rows
    };
    let (want, have) = (rows(expected), rows(&got));
    assert_eq!(want.len(), have.len());
    for (w, h) in want.iter().zip(&have) {
        assert_eq!(w["direction"], h["direction"]);
        assert_eq!(w["queries"], h["queries"]);
        // Float rounding on another CPU may move one query by one rank, no more.
        let slack = 1.0 / w["queries"].as_f64().unwrap() + 1e-9;
        for key in ["r1", "r5", "r10", "mrr"] {
            let (a, b) = (w[key].as_f64().unwrap(), h[key].as_f64().unwrap());
            assert!(
                (a - b).abs() <= slack,
                "{} {key}: report {a}, now {b}",
                w["direction"]
            );
        }
    }
    let qa = |v: &Value, k: &str| v["qa"][k].as_f64().unwrap();
    let slack = 1.0 / expected["qa"]["questions"].as_f64().unwrap() + 1e-9;
    for k in ["question_prompt_accuracy", "generic_prompt_accuracy"] {
        assert!((qa(expected, k) - qa(&got, k)).abs() <= slack, "QA {k}");
    }
}

/// Training stages before the one whose weights are shipped.
const EARLIER_STAGES: u32 = 28;
/// Those of them whose model averaged two runs (the second run's files carry `-b`).
const EARLIER_STAGES_OF_TWO_RUNS: [u32; 2] = [25, 26];

#[test]
fn the_shipped_model_is_small_and_complete() {
    let dir = model_dir();
    // The model, its reports, and every stage's log and loss curve (the last stage's are
    // `training-log.json` and `loss.svg`).
    let mut files: Vec<String> = [
        "config.json",
        "beats_cfg.json",
        "tokenizer.json",
        "model.safetensors",
        "preprocessor_config.json",
        "eval.json",
        "eval-check.json",
        "TRAINING.md",
        "loss.svg",
        "training-log.json",
    ]
    .map(String::from)
    .into();
    for stage in 1..=EARLIER_STAGES {
        files.push(format!("training-log-stage{stage}.json"));
        files.push(format!("loss-stage{stage}.svg"));
    }
    for stage in EARLIER_STAGES_OF_TWO_RUNS {
        files.push(format!("training-log-b-stage{stage}.json"));
        files.push(format!("loss-b-stage{stage}.svg"));
    }
    let mut total = 0;
    for f in &files {
        let meta = std::fs::metadata(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        total += meta.len();
    }
    assert!(total <= 40 << 20, "{total} bytes");
    // config.json has WAVE-7B's layout: a Qwen2.5-Omni thinker with the three sub-configs.
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["model_type"], "qwen2_5_omni_thinker");
    for sub in ["text_config", "audio_config", "vision_config"] {
        assert!(config[sub].is_object(), "{sub}");
    }
}
