//! Design probe: hum→audio-video retrieval by melody vector alone on a synthetic corpus split,
//! for several tracker and embedding settings. `cargo run -p wave-melody --example probe --
//! SPLIT_DIR AV_WAV_DIR` (AV soundtracks extracted to 16 kHz WAV beforehand).

use std::path::Path;

use wave_melody::{embed_track, track_pitch, EmbeddingConfig, PitchConfig, PitchTrack};

fn load(path: &Path) -> (Vec<f32>, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let pcm = wave_synth::wav::decode_wav(&bytes).unwrap();
    (pcm.samples, pcm.rate)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let split = Path::new(&args[1]);
    let av_dir = Path::new(&args[2]);
    let corpus = std::fs::read_to_string(split.join("corpus.jsonl")).unwrap();
    let mut hums = vec![];
    let mut avs = vec![];
    for line in corpus.lines() {
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        let melody = r["melody"].as_u64();
        match r["modality"].as_str().unwrap() {
            "hum" => hums.push((split.join(r["path"].as_str().unwrap()), melody.unwrap())),
            "audio_video" => {
                let id = r["id"].as_str().unwrap();
                avs.push((av_dir.join(format!("{id}.wav")), melody));
            }
            _ => {}
        }
    }
    let thresholds: Vec<f32> = std::env::var("THRESHOLDS")
        .unwrap_or("0.2".into())
        .split(',')
        .map(|s| s.parse().unwrap())
        .collect();
    let hum_audio: Vec<_> = hums.iter().map(|(p, _)| load(p)).collect();
    let av_audio: Vec<_> = avs.iter().map(|(p, _)| load(p)).collect();
    for th in thresholds {
        let pc = PitchConfig {
            threshold: th,
            ..PitchConfig::default()
        };
        let track = |(s, r): &(Vec<f32>, u32)| track_pitch(s, *r, &pc).ok();
        let ht: Vec<Option<PitchTrack>> = hum_audio.iter().map(track).collect();
        let at: Vec<Option<PitchTrack>> = av_audio.iter().map(track).collect();
        let base = EmbeddingConfig::default();
        let configs = [
            ("default", base),
            (
                "hist only",
                EmbeddingConfig {
                    contour_weight: 0.0,
                    coarse_weight: 0.0,
                    slope_weight: 0.0,
                    ..base
                },
            ),
            (
                "hist 2",
                EmbeddingConfig {
                    histogram_weight: 2.0,
                    ..base
                },
            ),
            (
                "hist 3",
                EmbeddingConfig {
                    histogram_weight: 3.0,
                    ..base
                },
            ),
            (
                "hist 2 coarse",
                EmbeddingConfig {
                    histogram_weight: 2.0,
                    contour_weight: 0.0,
                    slope_weight: 0.5,
                    ..base
                },
            ),
            (
                "hist 1.5 coarse",
                EmbeddingConfig {
                    histogram_weight: 1.5,
                    contour_weight: 0.0,
                    slope_weight: 0.0,
                    ..base
                },
            ),
        ];
        for (name, cfg) in configs {
            let emb = |t: &Option<PitchTrack>| t.as_ref().and_then(|t| embed_track(t, &cfg).ok());
            let hv: Vec<_> = ht.iter().map(emb).collect();
            let av: Vec<_> = at.iter().map(emb).collect();
            let (mut top1, mut top10, mut mrr, mut missing) = (0, 0, 0.0, 0);
            for (h, (_, m)) in hv.iter().zip(&hums) {
                let Some(h) = h else {
                    missing += 1;
                    continue;
                };
                let mut scored: Vec<(f32, bool)> = av
                    .iter()
                    .zip(&avs)
                    .map(|(a, (_, am))| {
                        let s = a
                            .as_ref()
                            .map_or(-2.0, |a| a.iter().zip(h).map(|(x, y)| x * y).sum());
                        (s, *am == Some(*m))
                    })
                    .collect();
                scored.sort_by(|a, b| b.0.total_cmp(&a.0));
                if let Some(r) = scored.iter().position(|x| x.1) {
                    top1 += (r == 0) as usize;
                    top10 += (r < 10) as usize;
                    mrr += 1.0 / (r + 1) as f64;
                }
            }
            let n = hums.len() as f64;
            println!(
                "th {th} {name:14} top1 {:.3} top10 {:.3} mrr {:.3} (hums without vector {missing}, avs without {})",
                top1 as f64 / n,
                top10 as f64 / n,
                mrr / n,
                av.iter().filter(|a| a.is_none()).count()
            );
        }
    }
}
