//! The frozen encoders' output for every clip of a run, kept on disk beside the model so a
//! restarted or resumed run does not decode and encode the corpus again: the log-mel
//! features, BEATs' output and the vision patch embedding ([`HostMedia`]). The file records a
//! fingerprint of the weights that produced them; a cache made with other encoders is ignored.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use wave_engine::encoded::HostMedia;
use wave_engine::prompt::MediaKind;
use wave_engine::weights::HostTensor;

use crate::error::TrainError;
use crate::model_dir::is_trainable;

/// What a cached clip is, beside its tensors.
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    audio_video_or_video: bool,
    pieces: usize,
    video: Option<([usize; 3], f64)>,
    time_aligned: bool,
}

/// What the cached tensors are; part of the fingerprint, so a cache of another layout (before
/// 2026-11, the vision blocks' output) is ignored rather than misread.
const LAYOUT: &str = "mel+beats+vision-blocks-in";

/// FNV-1a over the layout, the video frame rate and the names and values of every tensor no
/// run ever trains (the encoders before the cache boundary among them).
pub fn frozen_fingerprint(weights: &BTreeMap<String, HostTensor>, video_fps: f64) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= *b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    eat(LAYOUT.as_bytes());
    // Clips sampled at WAVE's 2 fps keep the fingerprint they had before the rate was a setting.
    if video_fps != 2.0 {
        eat(&video_fps.to_le_bytes());
    }
    for (name, t) in weights.iter().filter(|(n, _)| !is_trainable(n, true)) {
        eat(name.as_bytes());
        for v in &t.values {
            eat(&v.to_le_bytes());
        }
    }
    format!("{h:016x}")
}

/// Loads the cache if it exists and was made by encoders with `fingerprint`.
pub fn load(path: &Path, fingerprint: &str) -> Option<BTreeMap<String, HostMedia>> {
    let bytes = std::fs::read(path).ok()?;
    let (_, meta) = SafeTensors::read_metadata(&bytes).ok()?;
    let meta = meta.metadata().as_ref()?;
    if meta.get("fingerprint").map(String::as_str) != Some(fingerprint) {
        return None;
    }
    let entries: BTreeMap<String, Entry> = serde_json::from_str(meta.get("media")?).ok()?;
    let file = SafeTensors::deserialize(&bytes).ok()?;
    let tensor = |name: &str| -> Option<HostTensor> {
        let view = file.tensor(name).ok()?;
        let values = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        Some(HostTensor {
            values,
            shape: view.shape().to_vec(),
        })
    };
    let mut out = BTreeMap::new();
    for (id, e) in entries {
        let audio = (0..e.pieces)
            .map(|i| {
                Some((
                    tensor(&format!("{id}.mel.{i}"))?,
                    tensor(&format!("{id}.beats.{i}"))?,
                ))
            })
            .collect::<Option<Vec<_>>>()?;
        let video = match e.video {
            Some((grid, spg)) => Some((tensor(&format!("{id}.blocks_in"))?, grid, spg)),
            None => None,
        };
        let kind = if e.audio_video_or_video {
            MediaKind::Video
        } else {
            MediaKind::Audio
        };
        out.insert(
            id,
            HostMedia {
                kind,
                audio,
                video,
                time_aligned: e.time_aligned,
            },
        );
    }
    Some(out)
}

/// Writes the cache (atomically).
pub fn save(
    path: &Path,
    fingerprint: &str,
    media: &BTreeMap<String, HostMedia>,
) -> Result<(), TrainError> {
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    let mut entries = BTreeMap::new();
    let bytes = |t: &HostTensor| t.values.iter().flat_map(|v| v.to_le_bytes()).collect();
    for (id, m) in media {
        for (i, (mel, beats)) in m.audio.iter().enumerate() {
            tensors.push((format!("{id}.mel.{i}"), mel.shape.clone(), bytes(mel)));
            tensors.push((format!("{id}.beats.{i}"), beats.shape.clone(), bytes(beats)));
        }
        if let Some((blocks_in, _, _)) = &m.video {
            tensors.push((
                format!("{id}.blocks_in"),
                blocks_in.shape.clone(),
                bytes(blocks_in),
            ));
        }
        entries.insert(
            id.clone(),
            Entry {
                audio_video_or_video: m.kind == MediaKind::Video,
                pieces: m.audio.len(),
                video: m.video.as_ref().map(|v| (v.1, v.2)),
                time_aligned: m.time_aligned,
            },
        );
    }
    let bad = |message: String| TrainError::Checkpoint {
        path: path.to_path_buf(),
        message,
    };
    let views = tensors
        .iter()
        .map(|(n, s, d)| {
            TensorView::new(Dtype::F32, s.clone(), d)
                .map(|v| (n.clone(), v))
                .map_err(|e| bad(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let meta = HashMap::from([
        ("fingerprint".to_string(), fingerprint.to_string()),
        (
            "media".to_string(),
            serde_json::to_string(&entries).expect("JSON"),
        ),
    ]);
    let tmp = path.with_extension("tmp");
    safetensors::tensor::serialize_to_file(views, Some(meta), &tmp)
        .map_err(|e| bad(e.to_string()))?;
    std::fs::rename(&tmp, path).map_err(|e| TrainError::io(path, e))
}
