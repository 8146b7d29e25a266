//! Embed stage: takes whatever clips are waiting (up to a batch), embeds them, and passes the
//! vectors on. Other messages are forwarded as they come.

use std::sync::mpsc::{Receiver, SyncSender};
use std::time::Instant;

use burn::tensor::backend::Backend;
use wave_engine::embedder::{EmbedError, Embedder, Input};

use crate::pipeline::msg::{ClipPayload, Msg};
use crate::pipeline::report::Progress;

/// Runs until the decode side is done or the write side has gone. Returns seconds spent
/// inside the embedder.
pub(crate) fn embed_loop<'g, B: Backend>(
    embedder: &Embedder<B>,
    rx: Receiver<Msg<'g>>,
    tx: SyncSender<Msg<'g>>,
    batch: usize,
    progress: &dyn Progress,
) -> f64 {
    let mut busy = 0.0;
    while let Ok(first) = rx.recv() {
        let mut clips = Vec::new();
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            match msg {
                Msg::Clip(c) => clips.push(c),
                other => {
                    if tx.send(other).is_err() {
                        return busy;
                    }
                }
            }
            // Batch only what is already waiting: never hold a clip back for a fuller batch.
            if clips.len() < batch.max(1) {
                next = rx.try_recv().ok();
            }
        }
        if clips.is_empty() {
            continue;
        }
        let n = clips.len();
        let started = Instant::now();
        let results = embed_clips(embedder, clips);
        busy += started.elapsed().as_secs_f64();
        progress.clips_embedded(n);
        for msg in results {
            if tx.send(msg).is_err() {
                return busy;
            }
        }
    }
    busy
}

/// Vectors (or per-file failures) for a batch of clips. A batch that fails is retried one clip
/// at a time, so one bad clip fails only its own file.
fn embed_clips<'g, B: Backend>(
    embedder: &Embedder<B>,
    clips: Vec<ClipPayload<'g>>,
) -> Vec<Msg<'g>> {
    let dim = embedder.dim();
    let (metas, inputs): (Vec<_>, Vec<Input>) = clips
        .into_iter()
        .map(|c| ((c.label, c.index, c.modality, c.melody, c.slot), c.input))
        .unzip();
    let results: Vec<Result<Vec<f32>, EmbedError>> = match embedder.embed(&inputs) {
        Ok(vs) if vs.len() == inputs.len() => vs.into_iter().map(Ok).collect(),
        Ok(vs) if inputs.len() == 1 => vec![Err(EmbedError::Input(format!(
            "{} vectors for one input",
            vs.len()
        )))],
        Err(e) if inputs.len() == 1 => vec![Err(e)],
        _ => inputs
            .iter()
            .map(|input| embedder.embed_one(input))
            .collect(),
    };
    // The decoded media is no longer needed: free its slots before the vectors move on.
    drop(inputs);
    metas
        .into_iter()
        .zip(results)
        .map(|((label, index, modality, melody, slot), r)| {
            drop(slot);
            match r {
                Ok(v) if v.len() == dim && v.iter().all(|x| x.is_finite()) => Msg::Vector {
                    key: label.key,
                    index,
                    modality,
                    vector: v,
                    melody,
                },
                Ok(v) => Msg::Failed {
                    error: format!(
                        "{}: clip {index}: the embedder returned an invalid vector \
                         ({} values, {} expected, or not finite)",
                        label.path,
                        v.len(),
                        dim
                    ),
                    label,
                },
                Err(e) => Msg::Failed {
                    error: format!("{}: clip {index}: embedding failed: {e}", label.path),
                    label,
                },
            }
        })
        .collect()
}
