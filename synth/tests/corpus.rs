//! A generated corpus: every modality in every split, files wave-ingest reads back (silent
//! videos without an audio stream, 16 kHz mono WAVs), manifests ingest accepts, records that
//! pair up, questions with distractors, hum queries whose pitch follows their tune.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{jsonl, stream_types};
use serde_json::Value;
use wave_ingest::{decode_audio, decode_video, read_manifest, MediaKind, VideoKind, VideoOptions};
use wave_synth::melody::catalogue;
use wave_synth::wav::decode_wav;

/// One corpus shared by the tests of this file (12 scenes: 8 train, 2 val, 2 test).
fn shared() -> &'static Path {
    static CORPUS: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &CORPUS.get_or_init(|| common::corpus(5, 12)).1
}

fn str_field<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

#[test]
fn every_split_has_every_modality() {
    let root = shared();
    for split in ["train", "val", "test"] {
        let records = jsonl(&root.join(split).join("corpus.jsonl"));
        let modalities: BTreeSet<&str> = records.iter().map(|r| str_field(r, "modality")).collect();
        let want: BTreeSet<&str> = ["text", "audio", "video", "audio_video", "hum", "qa"]
            .into_iter()
            .collect();
        assert_eq!(modalities, want, "{split}");
        for r in &records {
            assert_eq!(str_field(r, "split"), split);
        }
        // Every scene has its three captions and three media files, all sharing `pair_of`.
        let mut per_scene: HashMap<&str, Vec<&str>> = HashMap::new();
        for r in &records {
            per_scene
                .entry(str_field(r, "pair_of"))
                .or_default()
                .push(str_field(r, "modality"));
        }
        for (scene, mods) in per_scene {
            for m in ["audio", "video", "audio_video"] {
                assert_eq!(mods.iter().filter(|x| **x == m).count(), 1, "{scene} {m}");
            }
            assert_eq!(mods.iter().filter(|x| **x == "text").count(), 3, "{scene}");
            assert!(mods.iter().filter(|x| **x == "qa").count() >= 2, "{scene}");
        }
    }
}

#[test]
fn media_files_are_what_ingest_reads() {
    let root = shared();
    let dir = root.join("test");
    for r in jsonl(&dir.join("corpus.jsonl")) {
        let Some(path) = r["path"].as_str() else {
            continue;
        };
        let path = dir.join(path);
        match str_field(&r, "modality") {
            "video" => {
                assert_eq!(
                    stream_types(&path),
                    ["video"],
                    "silent video must have no audio stream"
                );
                let v = decode_video(&path, &VideoOptions::default()).expect("ingest decodes");
                assert_eq!(v.kind, VideoKind::Silent);
                assert_eq!((v.width, v.height), (112, 112));
                assert!(v.num_frames() >= 5, "{} frames at 2 fps", v.num_frames());
            }
            "audio_video" => {
                assert_eq!(stream_types(&path), ["video", "audio"]);
                let v = decode_video(&path, &VideoOptions::default()).expect("ingest decodes");
                assert_eq!(v.kind, VideoKind::AudioVideo);
                let audio = v.audio.expect("audio track");
                let secs = r["duration_s"].as_f64().expect("duration");
                assert!(
                    (audio.duration - secs).abs() < 0.1,
                    "{} vs {secs}",
                    audio.duration
                );
            }
            "audio" | "hum" => {
                let bytes = std::fs::read(&path).expect("read wav");
                let pcm = decode_wav(&bytes).expect("16-bit PCM");
                assert_eq!(pcm.rate, 16_000);
                assert_eq!(u16::from_le_bytes([bytes[22], bytes[23]]), 1, "mono");
                let secs = pcm.samples.len() as f64 / 16_000.0;
                assert!((2.0..=5.0).contains(&secs), "{secs} s");
                let a = decode_audio(&path).expect("ingest decodes");
                assert!(!a.is_silent());
            }
            other => panic!("a {other} record with a path"),
        }
    }
}

#[test]
fn manifests_are_accepted_by_ingest() {
    let root = shared();
    for split in ["train", "val", "test"] {
        let dir = root.join(split);
        let items: Vec<_> = read_manifest(&dir.join("manifest.jsonl"))
            .into_iter()
            .map(|r| r.expect("every manifest line is a valid item"))
            .collect();
        let records = jsonl(&dir.join("corpus.jsonl"));
        let searchable = records
            .iter()
            .filter(|r| str_field(r, "modality") != "qa")
            .count();
        assert_eq!(
            items.len(),
            searchable,
            "{split}: every non-question record is an item"
        );
        let kinds: BTreeSet<String> = items.iter().map(|i| format!("{:?}", i.kind)).collect();
        assert_eq!(
            kinds.len(),
            3,
            "{split}: text, audio and video items: {kinds:?}"
        );
        for item in &items {
            assert!(
                item.tags.iter().any(|t| t == &format!("split:{split}")),
                "{}",
                item.id
            );
            if item.kind != MediaKind::Text {
                assert!(
                    item.caption.as_deref().is_some_and(|c| !c.is_empty()),
                    "{}",
                    item.id
                );
            }
        }
    }
}

#[test]
fn questions_have_one_answer_and_three_distractors() {
    let root = shared();
    for split in ["train", "val", "test"] {
        let records = jsonl(&root.join(split).join("corpus.jsonl"));
        let ids: BTreeSet<&str> = records.iter().map(|r| str_field(r, "id")).collect();
        for q in records.iter().filter(|r| str_field(r, "modality") == "qa") {
            let answer = str_field(q, "answer");
            let distractors: Vec<&str> = q["distractors"]
                .as_array()
                .expect("distractors")
                .iter()
                .map(|d| d.as_str().expect("string"))
                .collect();
            assert_eq!(distractors.len(), 3, "{q}");
            assert!(!distractors.contains(&answer), "{q}");
            assert_eq!(distractors.iter().collect::<BTreeSet<_>>().len(), 3, "{q}");
            assert!(str_field(q, "text").ends_with('?'));
            let about = str_field(q, "about");
            assert!(ids.contains(about), "{about} is a record of the split");
            assert!(about.ends_with(".av"));
        }
    }
}

/// Fundamental frequency of `x` around sample `centre` by normalised autocorrelation over
/// `lo_hz`-`hi_hz`, taking the shortest lag whose peak is close to the best (avoids octave
/// errors).
fn pitch_at(x: &[f32], centre: usize, rate: f64, (lo_hz, hi_hz): (f64, f64)) -> f64 {
    let win = 640;
    let start = centre.saturating_sub(win / 2);
    let frame = &x[start..(start + win).min(x.len())];
    let (min_lag, max_lag) = ((rate / hi_hz) as usize, (rate / lo_hz) as usize);
    let n = frame.len() - max_lag;
    let corr: Vec<f64> = (0..=max_lag)
        .map(|lag| {
            let (mut num, mut e0, mut e1) = (0.0f64, 0.0f64, 0.0f64);
            for i in 0..n {
                let (a, b) = (f64::from(frame[i]), f64::from(frame[i + lag]));
                num += a * b;
                e0 += a * a;
                e1 += b * b;
            }
            num / (e0 * e1).sqrt().max(1e-12)
        })
        .collect();
    let best = (min_lag..max_lag).map(|l| corr[l]).fold(f64::MIN, f64::max);
    let lag = (min_lag + 1..max_lag)
        .find(|&l| corr[l] >= 0.9 * best && corr[l] >= corr[l - 1] && corr[l] >= corr[l + 1])
        .expect("a peak");
    // Parabolic refinement of the peak.
    let (a, b, c) = (corr[lag - 1], corr[lag], corr[lag + 1]);
    let shift = 0.5 * (a - c) / (a - 2.0 * b + c);
    rate / (lag as f64 + if shift.is_finite() { shift } else { 0.0 })
}

#[test]
fn hum_pitch_follows_its_tune_transposed() {
    let root = shared();
    let tunes = catalogue();
    let mut checked = 0;
    let mut styles = BTreeSet::new();
    for split in ["train", "val", "test"] {
        let dir = root.join(split);
        let records = jsonl(&dir.join("corpus.jsonl"));
        let scenes: HashMap<&str, &Value> = records
            .iter()
            .filter(|r| str_field(r, "modality") == "audio_video")
            .map(|r| (str_field(r, "pair_of"), r))
            .collect();
        for hum in records.iter().filter(|r| str_field(r, "modality") == "hum") {
            let tune = &tunes[hum["melody"].as_u64().expect("melody") as usize];
            let scene = scenes[str_field(hum, "pair_of")];
            assert_eq!(
                scene["melody"], hum["melody"],
                "a hum is of its scene's tune"
            );
            // Voices sing in a hum register; whistles sound one to two octaves above it.
            let style = str_field(hum, "hum_style");
            let tonic = hum["tonic_hz"].as_f64().expect("tonic");
            let (register, search) = match style {
                "hum" | "la_la" => ((110.0, 220.0), (80.0, 700.0)),
                "whistle" => ((220.0, 880.0), (300.0, 2400.0)),
                other => panic!("hum style {other}"),
            };
            assert!(
                (register.0 - 1e-6..=register.1 + 1e-6).contains(&tonic),
                "{style} at tonic {tonic}"
            );
            assert!(
                str_field(hum, "caption").starts_with(match style {
                    "hum" => "someone hums",
                    "whistle" => "someone whistles",
                    _ => "someone sings",
                }),
                "{hum}"
            );
            styles.insert(style.to_string());
            let tempo = hum["tempo_factor"].as_f64().expect("tempo");
            assert!((0.8..=1.2).contains(&tempo), "{tempo}");
            let shift = hum["transpose_semitones"].as_f64().expect("transpose");
            let scene_tonic = scene["tonic_hz"].as_f64().expect("scene tonic");
            assert!((12.0 * (tonic / scene_tonic).log2() - shift).abs() < 1e-9);
            let bpm = hum["bpm"].as_f64().expect("bpm");
            assert!((bpm - scene["bpm"].as_f64().expect("scene bpm") * tempo).abs() < 1e-9);

            let pcm = decode_wav(&std::fs::read(dir.join(str_field(hum, "path"))).expect("read"))
                .expect("wav");
            let notes = hum["notes"].as_array().expect("notes");
            assert_eq!(notes.len(), tune.notes.len());
            for (note, want) in notes.iter().zip(&tune.notes) {
                let [start, end, hz] = [0, 1, 2].map(|i| note[i].as_f64().expect("number"));
                // The note is the tune's note, transposed to the hum's tonic...
                let expected = tonic * 2f64.powf(f64::from(want.semitone) / 12.0);
                assert!((hz / expected - 1.0).abs() < 1e-9, "{hz} vs {expected}");
                // ...at the hum's tempo...
                let beats = (end - start) / 0.92 * bpm / 60.0;
                assert!(
                    (beats - want.beats).abs() < 1e-6,
                    "{beats} vs {}",
                    want.beats
                );
                // ...and that is the pitch heard (within vibrato depth plus a margin: 60 cents).
                let heard = pitch_at(
                    &pcm.samples,
                    ((start + end) / 2.0 * 16_000.0) as usize,
                    16_000.0,
                    search,
                );
                let cents = 1200.0 * (heard / hz).log2();
                assert!(
                    cents.abs() < 60.0,
                    "{}: heard {heard:.1} Hz for {hz:.1} Hz ({cents:.0} cents)",
                    str_field(hum, "id")
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "only {checked} notes checked");
    assert!(styles.len() >= 2, "styles heard: {styles:?}");
}
