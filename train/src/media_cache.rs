//! The frozen encoders' output for every clip of a run, kept on disk beside the model so a
//! restarted or resumed run does not decode and encode the corpus again: the log-mel
//! features, BEATs' output and the vision patch embedding, or the pixel patches where the run
//! trains the patch embedding ([`HostMedia`]; pixels as 8-bit values). The file records a
//! fingerprint of the weights that produced them; a cache made with other encoders is ignored.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use wave_engine::encoded::{HostMedia, HostPixels, HostVision, PixelNorm, VisionCut};
use wave_engine::prompt::MediaKind;
use wave_engine::weights::HostTensor;

use crate::error::TrainError;
use crate::model_dir::{is_trainable, VisionTraining};

/// What a cached clip is, beside its tensors.
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    audio_video_or_video: bool,
    pieces: usize,
    video: Option<([usize; 3], f64)>,
    time_aligned: bool,
    /// For a video kept as pixel patches: the normalisation `(rescale, mean, std)` that
    /// restores them. Absent for the patch embedding (and in caches from before pixels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pixel_norm: Option<(f64, [f32; 3], [f32; 3])>,
}

/// What the cached tensors are; part of the fingerprint, so a cache of another layout (before
/// 2026-11, the vision blocks' output; or pixels where the patch embedding is wanted) is
/// ignored rather than misread.
fn layout(cut: VisionCut) -> &'static str {
    match cut {
        VisionCut::PatchEmbedding => "mel+beats+vision-blocks-in",
        VisionCut::Pixels => "mel+beats+vision-pixels",
    }
}

/// FNV-1a over the layout, the video frame rate and the names and values of every tensor
/// before the cache boundary (the frozen encoders; the patch embedding only where the cache
/// holds its output).
pub fn frozen_fingerprint(
    weights: &BTreeMap<String, HostTensor>,
    video_fps: f64,
    cut: VisionCut,
) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= *b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    eat(layout(cut).as_bytes());
    // Clips sampled at WAVE's 2 fps keep the fingerprint they had before the rate was a setting.
    if video_fps != 2.0 {
        eat(&video_fps.to_le_bytes());
    }
    let beyond_cache = VisionTraining {
        blocks: true,
        patch_embed: cut == VisionCut::Pixels,
    };
    for (name, t) in weights
        .iter()
        .filter(|(n, _)| !is_trainable(n, beyond_cache))
    {
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
        let video = match (e.video, e.pixel_norm) {
            (Some((grid, spg)), None) => Some((
                HostVision::Embedded(tensor(&format!("{id}.blocks_in"))?),
                grid,
                spg,
            )),
            (Some((grid, spg)), Some((rescale, mean, std))) => {
                let view = file.tensor(&format!("{id}.pixels")).ok()?;
                if view.dtype() != Dtype::U8 {
                    return None;
                }
                let shape: [usize; 2] = view.shape().try_into().ok()?;
                let pixels = HostPixels {
                    shape,
                    values: view.data().to_vec(),
                    norm: PixelNorm { rescale, mean, std },
                };
                Some((HostVision::Pixels(pixels), grid, spg))
            }
            (None, _) => None,
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

/// One tensor to write: dtype, name, shape, little-endian bytes.
type NamedBytes<'a> = (Dtype, String, Vec<usize>, Cow<'a, [u8]>);

/// Writes the cache (atomically).
pub fn save(
    path: &Path,
    fingerprint: &str,
    media: &BTreeMap<String, HostMedia>,
) -> Result<(), TrainError> {
    // Pixels are borrowed, not copied: a block's are gigabytes.
    let mut tensors: Vec<NamedBytes> = Vec::new();
    let mut entries = BTreeMap::new();
    let bytes =
        |t: &HostTensor| Cow::Owned(t.values.iter().flat_map(|v| v.to_le_bytes()).collect());
    for (id, m) in media {
        for (i, (mel, beats)) in m.audio.iter().enumerate() {
            let (mel_shape, beats_shape) = (mel.shape.clone(), beats.shape.clone());
            tensors.push((Dtype::F32, format!("{id}.mel.{i}"), mel_shape, bytes(mel)));
            tensors.push((
                Dtype::F32,
                format!("{id}.beats.{i}"),
                beats_shape,
                bytes(beats),
            ));
        }
        let mut pixel_norm = None;
        match &m.video {
            Some((HostVision::Embedded(blocks_in), _, _)) => tensors.push((
                Dtype::F32,
                format!("{id}.blocks_in"),
                blocks_in.shape.clone(),
                bytes(blocks_in),
            )),
            Some((HostVision::Pixels(p), _, _)) => {
                let n = p.norm;
                pixel_norm = Some((n.rescale, n.mean, n.std));
                tensors.push((
                    Dtype::U8,
                    format!("{id}.pixels"),
                    p.shape.to_vec(),
                    Cow::Borrowed(p.values.as_slice()),
                ));
            }
            None => {}
        }
        entries.insert(
            id.clone(),
            Entry {
                audio_video_or_video: m.kind == MediaKind::Video,
                pieces: m.audio.len(),
                video: m.video.as_ref().map(|v| (v.1, v.2)),
                time_aligned: m.time_aligned,
                pixel_norm,
            },
        );
    }
    let bad = |message: String| TrainError::Checkpoint {
        path: path.to_path_buf(),
        message,
    };
    let views = tensors
        .iter()
        .map(|(dtype, n, s, d)| {
            TensorView::new(*dtype, s.clone(), d)
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
