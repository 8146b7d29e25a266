//! Write stage: gathers each work item's vectors until all its clips are in, then writes the
//! item (parent and clips) in one atomic store batch. A work item is in the store entirely or
//! not at all, which is what makes a killed run safe to resume: the file-level id exists only
//! once every clip of it does.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::Instant;

use wave_index::{IndexError, Item, Modality, Store, Write};

use crate::pipeline::msg::{FilePlan, Msg};
use crate::pipeline::report::{Failure, FileEvent, Outcome, Progress};

/// What the write stage did.
#[derive(Default)]
pub(crate) struct Written {
    pub ingested: usize,
    pub skipped: usize,
    pub failed: Vec<Failure>,
    pub clips: usize,
    pub busy_s: f64,
}

pub(crate) struct Spaces<'a> {
    pub clip: &'a str,
    pub file: &'a str,
    pub melody: &'a str,
}

struct Pending {
    plan: FilePlan,
    vectors: Vec<Option<Vec<f32>>>,
    melodies: Vec<Option<Vec<f32>>>,
    remaining: usize,
}

/// A completed work item, ready to write.
struct Ready {
    event: FileEvent,
    writes: Vec<Write>,
    stale: Vec<String>,
}

pub(crate) fn write_loop(
    store: &Store,
    rx: Receiver<Msg<'_>>,
    spaces: Spaces<'_>,
    write_batch: usize,
    progress: &dyn Progress,
) -> Result<Written, IndexError> {
    let mut done = Written::default();
    let mut pending: HashMap<usize, Pending> = HashMap::new();
    let mut ready: Vec<Ready> = Vec::new();
    // Keys already reported as failed (two clips of one item may both fail to embed).
    let mut failed = std::collections::HashSet::new();
    loop {
        let msg = match rx.try_recv() {
            Ok(m) => m,
            Err(TryRecvError::Empty) => {
                // Nothing waiting: make what is complete durable before blocking.
                flush(store, &mut ready, &mut done, progress)?;
                match rx.recv() {
                    Ok(m) => m,
                    Err(_) => break,
                }
            }
            Err(TryRecvError::Disconnected) => break,
        };
        match msg {
            Msg::Plan(plan) => {
                let n = plan.units.len();
                pending.insert(
                    plan.label.key,
                    Pending {
                        plan,
                        vectors: vec![None; n],
                        melodies: vec![None; n],
                        remaining: n,
                    },
                );
            }
            Msg::Vector {
                key,
                index,
                modality,
                vector,
                melody,
            } => {
                // Unknown key: the item already failed; its late clips are dropped.
                let Some(p) = pending.get_mut(&key) else {
                    continue;
                };
                let Some(slot) = p.vectors.get_mut(index) else {
                    continue;
                };
                if slot.is_none() {
                    p.remaining -= 1;
                }
                *slot = Some(vector);
                p.melodies[index] = melody;
                p.plan.units[index].modality = modality;
                if p.remaining == 0 {
                    if let Some(p) = pending.remove(&key) {
                        ready.push(assemble(p, &spaces));
                    }
                }
            }
            Msg::Failed { label, error } => {
                pending.remove(&label.key);
                if !failed.insert(label.key) {
                    continue;
                }
                let event = FileEvent {
                    id: label.id.clone(),
                    path: label.path.clone(),
                    outcome: Outcome::Failed(error.clone()),
                };
                progress.file(&event);
                done.failed.push(Failure {
                    path: label.path.clone(),
                    error,
                });
            }
            Msg::Skipped { label } => {
                done.skipped += 1;
                progress.file(&FileEvent {
                    id: label.id.clone(),
                    path: label.path.clone(),
                    outcome: Outcome::Skipped,
                });
            }
            Msg::Clip(_) => {}
        }
        if ready.iter().map(|r| r.writes.len()).sum::<usize>() >= write_batch {
            flush(store, &mut ready, &mut done, progress)?;
        }
    }
    flush(store, &mut ready, &mut done, progress)?;
    Ok(done)
}

/// The store writes of a complete work item: one item per clip in the clip space and, for
/// media cut into several clips, the parent with the mean of its clips in the file space.
fn assemble(p: Pending, spaces: &Spaces<'_>) -> Ready {
    let Pending {
        plan,
        vectors,
        melodies,
        ..
    } = p;
    let vectors: Vec<Vec<f32>> = vectors.into_iter().flatten().collect();
    let mut writes = Vec::with_capacity(plan.units.len() + 1);
    if let Some(mut parent) = plan.parent {
        parent.modality = file_modality(&plan.units);
        writes.push(Write {
            item: parent,
            vectors: vec![(spaces.file.to_string(), mean(&vectors))],
        });
    }
    let clips = plan.units.len();
    for ((item, v), melody) in plan.units.into_iter().zip(vectors).zip(melodies) {
        let mut vectors = vec![(spaces.clip.to_string(), v)];
        vectors.extend(melody.map(|m| (spaces.melody.to_string(), m)));
        writes.push(Write { item, vectors });
    }
    Ready {
        event: FileEvent {
            id: plan.label.id.clone(),
            path: plan.label.path.clone(),
            outcome: Outcome::Ingested { clips },
        },
        writes,
        stale: plan.stale,
    }
}

/// Audio-video if any clip has sound, else what the clips are.
fn file_modality(units: &[Item]) -> Modality {
    if units.iter().any(|u| u.modality == Modality::AudioVideo) {
        Modality::AudioVideo
    } else {
        units.first().map(|u| u.modality).unwrap_or_default()
    }
}

fn mean(vectors: &[Vec<f32>]) -> Vec<f32> {
    let dim = vectors.first().map(|v| v.len()).unwrap_or(0);
    let mut m = vec![0.0f32; dim];
    for v in vectors {
        for (a, b) in m.iter_mut().zip(v) {
            *a += b;
        }
    }
    m
}

/// Writes every ready item: one batch for all of them; if the store rejects the batch for
/// something about an item, each item alone, so one bad item fails only itself.
fn flush(
    store: &Store,
    ready: &mut Vec<Ready>,
    done: &mut Written,
    progress: &dyn Progress,
) -> Result<(), IndexError> {
    if ready.is_empty() {
        return Ok(());
    }
    let started = Instant::now();
    let batch = std::mem::take(ready);
    let result = write_all(store, &batch);
    let outcome = match result {
        Ok(()) => Ok(batch.into_iter().map(|r| (r, None)).collect::<Vec<_>>()),
        Err(e) if is_item_error(&e) => {
            let mut out = Vec::new();
            for r in batch {
                match write_all(store, std::slice::from_ref(&r)) {
                    Ok(()) => out.push((r, None)),
                    Err(e) if is_item_error(&e) => out.push((r, Some(e.to_string()))),
                    Err(e) => return Err(e),
                }
            }
            Ok(out)
        }
        Err(e) => Err(e),
    };
    done.busy_s += started.elapsed().as_secs_f64();
    for (r, error) in outcome? {
        let event = match error {
            None => {
                done.ingested += 1;
                if let Outcome::Ingested { clips } = r.event.outcome {
                    done.clips += clips;
                }
                r.event
            }
            Some(error) => {
                let error = format!("{}: the store refused it: {error}", r.event.path);
                done.failed.push(Failure {
                    path: r.event.path.clone(),
                    error: error.clone(),
                });
                FileEvent {
                    outcome: Outcome::Failed(error),
                    ..r.event
                }
            }
        };
        progress.file(&event);
    }
    Ok(())
}

fn write_all(store: &Store, batch: &[Ready]) -> Result<(), IndexError> {
    // Stale clips of older versions go first: if the run dies in between, the old parent
    // (with its old hash) is still there, so the next run redoes the item.
    let stale: Vec<&str> = batch
        .iter()
        .flat_map(|r| r.stale.iter().map(String::as_str))
        .collect();
    if !stale.is_empty() {
        store.delete(&stale)?;
    }
    let writes: Vec<Write> = batch.iter().flat_map(|r| r.writes.clone()).collect();
    store.upsert(&writes)?;
    Ok(())
}

/// Errors about an item's content rather than the store itself.
fn is_item_error(e: &IndexError) -> bool {
    matches!(
        e,
        IndexError::BadId(_)
            | IndexError::EmptyRecord(_)
            | IndexError::UnknownSpace { .. }
            | IndexError::Dimension { .. }
            | IndexError::NonFinite { .. }
            | IndexError::ZeroVector { .. }
            | IndexError::DuplicateInBatch(_)
            | IndexError::BadItem { .. }
    )
}
