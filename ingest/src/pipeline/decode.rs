//! Decode stage: a worker takes work items one at a time, skips what the store already holds,
//! decodes the rest clip by clip and sends the clips on. A worker holds at most one decoded
//! clip outside the channel, so memory is bounded by the channel, not by the file or folder.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use std::time::Instant;

use wave_engine::embedder::{FrameTiming, Input, VideoFrames};
use wave_index::{Item, Modality, Store};

use crate::decode::audio::decode_audio_with;
use crate::decode::probe::probe_media;
use crate::decode::text::load_text;
use crate::decode::video::{decode_video, Video, VideoKind, VideoOptions};
use crate::decode::TARGET_RATE;
use crate::error::IngestError;
use crate::item::{Source, WorkItem};
use crate::kind::MediaKind;
use crate::pipeline::hash::content_hash;
use crate::pipeline::msg::{ClipPayload, FilePlan, Gauge, Label, Msg};
use crate::pipeline::PipelineConfig;
use crate::segment::{segment, ClipSpan};

/// Store ids are at most this long; clip ids add `#<index>`.
const MAX_ID_LEN: usize = 1000;

/// What every worker shares.
pub(crate) struct DecodeCtx<'a> {
    pub store: &'a Store,
    pub model_id: &'a str,
    pub recipe: String,
    pub cfg: &'a PipelineConfig,
    pub gauge: &'a Gauge,
    pub next: AtomicUsize,
    pub stop: AtomicBool,
    /// Nanoseconds spent hashing, probing and decoding (not waiting on the channel).
    pub busy_ns: AtomicU64,
}

/// A sender that measures how long it blocks (back-pressure is not decode time) and notices
/// when the downstream stages have gone.
struct Out<'a, 'g> {
    tx: &'a SyncSender<Msg<'g>>,
    waited_ns: u64,
    closed: bool,
}

impl<'g> Out<'_, 'g> {
    fn send(&mut self, msg: Msg<'g>) {
        if self.closed {
            return;
        }
        let t = Instant::now();
        self.closed = self.tx.send(msg).is_err();
        self.waited_ns += t.elapsed().as_nanos() as u64;
    }
}

/// Why a work item did not make it through decoding.
enum Bad {
    Input(IngestError),
    Other(String),
}

impl From<IngestError> for Bad {
    fn from(e: IngestError) -> Self {
        Bad::Input(e)
    }
}

pub(crate) fn worker<'g>(ctx: &DecodeCtx<'g>, work: &[WorkItem], tx: SyncSender<Msg<'g>>) {
    loop {
        if ctx.stop.load(Ordering::Relaxed) {
            return;
        }
        let key = ctx.next.fetch_add(1, Ordering::Relaxed);
        let Some(item) = work.get(key) else { return };
        let label = Arc::new(Label {
            key,
            id: item.id.clone(),
            path: match &item.source {
                Source::File(p) => p.display().to_string(),
                Source::Inline(_) => item.id.clone(),
            },
        });
        let started = Instant::now();
        let mut out = Out {
            tx: &tx,
            waited_ns: 0,
            closed: false,
        };
        if let Err(bad) = process(ctx, item, &label, &mut out) {
            let error = match bad {
                Bad::Input(e) => e.to_string(),
                Bad::Other(s) => s,
            };
            out.send(Msg::Failed { label, error });
        }
        let busy = (started.elapsed().as_nanos() as u64).saturating_sub(out.waited_ns);
        ctx.busy_ns.fetch_add(busy, Ordering::Relaxed);
        if out.closed {
            ctx.stop.store(true, Ordering::Relaxed);
            return;
        }
    }
}

fn process<'g>(
    ctx: &DecodeCtx<'g>,
    w: &WorkItem,
    label: &Arc<Label>,
    out: &mut Out<'_, 'g>,
) -> Result<(), Bad> {
    if w.id.len() > MAX_ID_LEN || w.id.contains('\0') || w.id.is_empty() {
        return Err(Bad::Other(format!(
            "{}: id is empty, longer than {MAX_ID_LEN} bytes or holds a NUL byte",
            label.path
        )));
    }
    let hash = content_hash(w, &ctx.recipe)?;
    let existing = ctx
        .store
        .get(&w.id)
        .map_err(|e| Bad::Other(format!("{}: reading the store: {e}", label.path)))?;
    if let Some(old) = &existing {
        if old.content_hash.as_deref() == Some(hash.as_str())
            && old.model.as_deref() == Some(ctx.model_id)
        {
            out.send(Msg::Skipped {
                label: label.clone(),
            });
            return Ok(());
        }
    }
    let base = Item {
        id: w.id.clone(),
        modality: Modality::Text,
        source: w.path().map(|p| p.display().to_string()),
        span: None,
        parent: None,
        title: w.title.clone(),
        caption: w.caption.clone(),
        transcript: None,
        tags: w.tags.clone(),
        content_hash: Some(hash),
        model: Some(ctx.model_id.to_string()),
    };
    let planner = Planner {
        ctx,
        w,
        base,
        label: label.clone(),
        had_old: existing.is_some(),
    };
    match (w.kind, &w.source) {
        (MediaKind::Text, Source::Inline(text)) => planner.text(text.clone(), out),
        (MediaKind::Text, Source::File(path)) => planner.text(load_text(path)?, out),
        (MediaKind::Audio, Source::File(path)) => {
            let audio = decode_audio_with(path, &ctx.cfg.audio)?;
            let clips = segment(audio.duration, &ctx.cfg.segment);
            if clips.is_empty() {
                return Err(Bad::Input(IngestError::Corrupt {
                    path: path.clone(),
                    reason: "no audio samples".into(),
                }));
            }
            out.send(Msg::Plan(planner.plan(&clips, Modality::Audio)?));
            for clip in &clips {
                let pcm = audio.between(clip.start, clip.end).to_vec();
                let input = Input::Audio {
                    pcm,
                    sample_rate: TARGET_RATE,
                    prompt: None,
                };
                planner.send_clip(clip.index, Modality::Audio, input, out);
            }
            Ok(())
        }
        (MediaKind::Video, Source::File(path)) => planner.video(path, out),
        (kind, Source::Inline(_)) => Err(Bad::Other(format!(
            "{}: inline content must be text, not {kind:?}",
            label.path
        ))),
    }
}

struct Planner<'c, 'g> {
    ctx: &'c DecodeCtx<'g>,
    w: &'c WorkItem,
    base: Item,
    label: Arc<Label>,
    had_old: bool,
}

impl<'g> Planner<'_, 'g> {
    fn text(&self, body: String, out: &mut Out<'_, 'g>) -> Result<(), Bad> {
        if body.trim().is_empty() {
            return Err(Bad::Other(format!("{}: text is blank", self.label.path)));
        }
        let mut item = self.base.clone();
        // The body is the document's searchable text; a manifest transcript is added to it.
        let extra = self.w.transcript.as_ref().map(|t| t.full_text());
        item.transcript = Some(match extra {
            Some(t) if !t.trim().is_empty() => format!("{body}\n{t}"),
            _ => body.clone(),
        });
        let plan = FilePlan {
            label: self.label.clone(),
            parent: None,
            units: vec![item],
            stale: self.stale(0)?,
        };
        out.send(Msg::Plan(plan));
        self.send_clip(0, Modality::Text, Input::Text(body), out);
        Ok(())
    }

    fn video(&self, path: &std::path::Path, out: &mut Out<'_, 'g>) -> Result<(), Bad> {
        let info = probe_media(path)?;
        let declared = info
            .duration
            .or(info.video.as_ref().and_then(|v| v.duration));
        let opts = VideoOptions {
            start_s: 0.0,
            duration_s: None,
            ..self.ctx.cfg.video
        };
        let planned = declared.map(|d| segment(d, &self.ctx.cfg.segment));
        if let Some(clips) = planned.filter(|c| c.len() > 1) {
            // Long media: decode one clip's range at a time so memory holds one clip.
            out.send(Msg::Plan(self.plan(&clips, Modality::Video)?));
            for clip in &clips {
                let v = decode_video(
                    path,
                    &VideoOptions {
                        start_s: clip.start,
                        duration_s: Some(clip.duration()),
                        ..opts
                    },
                )?;
                check_clip_complete(path, &v, clip, opts.fps)?;
                let all = 0..v.num_frames();
                // This decode starts at the clip, and so does its audio.
                let (modality, input) = self.video_input(&v, all, clip, clip.start);
                self.send_clip(clip.index, modality, input, out);
                if out.closed {
                    break;
                }
            }
            return Ok(());
        }
        // Short (or of unknown length): one decode; cut by the decoded length.
        let v = decode_video(path, &opts)?;
        let last = v.frame_times.last().copied().unwrap_or(0.0) + 1.0 / opts.fps;
        let duration = v.info.duration.unwrap_or(last);
        let clips = segment(duration, &self.ctx.cfg.segment);
        if clips.is_empty() {
            return Err(Bad::Input(IngestError::Corrupt {
                path: path.to_path_buf(),
                reason: format!("duration {duration} s"),
            }));
        }
        out.send(Msg::Plan(self.plan(&clips, Modality::Video)?));
        for clip in &clips {
            let range = v.frames_between(clip.start, clip.end);
            if range.is_empty() {
                return Err(Bad::Input(IngestError::Truncated {
                    path: path.to_path_buf(),
                    reason: format!("no frame in [{:.2}, {:.2}] s", clip.start, clip.end),
                }));
            }
            let (modality, input) = self.video_input(&v, range, clip, 0.0);
            self.send_clip(clip.index, modality, input, out);
        }
        Ok(())
    }

    /// The embedder input for frames `range` of `v` (and its audio over the clip, whose first
    /// sample is at `audio_start` seconds of the file).
    fn video_input(
        &self,
        v: &Video,
        range: std::ops::Range<usize>,
        clip: &ClipSpan,
        audio_start: f64,
    ) -> (Modality, Input) {
        let picks = thin(range, self.ctx.cfg.max_clip_frames);
        let mut data = Vec::with_capacity(picks.len() * v.width * v.height * 3);
        for &i in &picks {
            data.extend_from_slice(v.frame(i).unwrap_or_default());
        }
        let frames = VideoFrames {
            data,
            num_frames: picks.len(),
            height: v.height,
            width: v.width,
            timing: FrameTiming::Sampled {
                duration_s: clip.duration(),
            },
        };
        match (&v.audio, v.kind) {
            (Some(audio), VideoKind::AudioVideo) => (
                Modality::AudioVideo,
                Input::AudioVideo {
                    pcm: audio
                        .between(clip.start - audio_start, clip.end - audio_start)
                        .to_vec(),
                    sample_rate: TARGET_RATE,
                    frames,
                    prompt: None,
                },
            ),
            _ => (
                Modality::Video,
                Input::Video {
                    frames,
                    prompt: None,
                },
            ),
        }
    }

    /// The items of a work item cut into `clips`: one unit per clip, plus a parent record when
    /// there is more than one.
    fn plan(&self, clips: &[ClipSpan], modality: Modality) -> Result<FilePlan, Bad> {
        let transcript = |s: f64, e: f64| {
            self.w
                .transcript
                .as_ref()
                .map(|t| t.text_between(s, e))
                .filter(|t| !t.trim().is_empty())
        };
        let duration = clips.last().map(|c| c.end).unwrap_or(0.0);
        let mut whole = self.base.clone();
        whole.modality = modality;
        whole.span = Some((0.0, duration));
        whole.transcript = self
            .w
            .transcript
            .as_ref()
            .map(|t| t.full_text())
            .filter(|t| !t.trim().is_empty());
        if clips.len() == 1 {
            return Ok(FilePlan {
                label: self.label.clone(),
                parent: None,
                units: vec![whole],
                stale: self.stale(0)?,
            });
        }
        let units = clips
            .iter()
            .map(|c| {
                let mut item = self.base.clone();
                item.id = clip_id(&self.w.id, c.index);
                item.modality = modality;
                item.span = Some((c.start, c.end));
                item.parent = Some(self.w.id.clone());
                item.transcript = transcript(c.start, c.end);
                item
            })
            .collect();
        Ok(FilePlan {
            label: self.label.clone(),
            parent: Some(whole),
            units,
            stale: self.stale(clips.len())?,
        })
    }

    /// Clip ids of the stored older version beyond the `count` clips the new one writes (0 when
    /// the new version is a single item).
    fn stale(&self, count: usize) -> Result<Vec<String>, Bad> {
        if !self.had_old {
            return Ok(Vec::new());
        }
        let prefix = format!("{}#", self.w.id);
        let ids = self
            .ctx
            .store
            .item_ids()
            .map_err(|e| Bad::Other(format!("{}: reading the store: {e}", self.label.path)))?;
        let keep: std::collections::HashSet<String> =
            (0..count).map(|i| clip_id(&self.w.id, i)).collect();
        Ok(ids
            .into_iter()
            .filter(|id| id.starts_with(&prefix) && !keep.contains(id))
            .collect())
    }

    fn send_clip(&self, index: usize, modality: Modality, input: Input, out: &mut Out<'_, 'g>) {
        let slot = self.ctx.gauge.acquire();
        let melody = if self.ctx.cfg.melody_vectors {
            crate::melody::clip_melody(&input)
        } else {
            None
        };
        out.send(Msg::Clip(ClipPayload {
            label: self.label.clone(),
            index,
            modality,
            input,
            melody,
            slot,
        }));
    }
}

/// The id of clip `index` of item `id`.
pub fn clip_id(id: &str, index: usize) -> String {
    format!("{id}#{index}")
}

/// At most `max` indices spread uniformly over `range` (all of them when it fits).
fn thin(range: std::ops::Range<usize>, max: usize) -> Vec<usize> {
    let n = range.len();
    if n <= max || max == 0 {
        return range.collect();
    }
    (0..max)
        .map(|i| range.start + (i * (n - 1)) / (max - 1).max(1))
        .collect()
}

/// A clip decoded from a range must reach (nearly) the end of the range: a file whose data
/// stops before its declared duration is truncated.
fn check_clip_complete(
    path: &std::path::Path,
    v: &Video,
    clip: &ClipSpan,
    fps: f64,
) -> Result<(), Bad> {
    let reached = v.frame_times.last().copied().unwrap_or(clip.start) + 1.0 / fps;
    let tolerance = (clip.duration() * 0.02).max(0.5);
    if reached + tolerance < clip.end {
        return Err(Bad::Input(IngestError::Truncated {
            path: path.to_path_buf(),
            reason: format!(
                "frames stop at {reached:.2} s inside the clip [{:.2}, {:.2}] s",
                clip.start, clip.end
            ),
        }));
    }
    Ok(())
}
