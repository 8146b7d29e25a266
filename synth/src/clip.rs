//! Rendering one planned scene into its files (silent video, audio, audio-video, hum) and its
//! records (those plus three captions and the questions).

use std::path::Path;

use crate::audio::{melody_notes, scene_audio};
use crate::caption::{captions, questions};
use crate::encode::write_mp4;
use crate::error::{Result, SynthError};
use crate::hum::render_hum;
use crate::melody::Tune;
use crate::motion::{dancing_pose, pose};
use crate::record::{Modality, Record};
use crate::render::{background, draw_shape, Frame};
use crate::scene::Scene;
use crate::speech::speak;
use crate::wav::encode_wav;
use crate::world::{key_name, Motion};

/// Sample rate of every sound in the corpus (what WAVE's audio front end takes).
pub const SAMPLE_RATE: u32 = 16_000;

/// Frame geometry and rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoFormat {
    pub width: usize,
    pub height: usize,
    pub fps: u32,
}

/// The frames of a scene.
pub fn scene_frames(scene: &Scene, tunes: &[Tune], format: VideoFormat) -> Vec<Frame> {
    let bg = background(scene.background, format.width, format.height);
    let notes = melody_notes(scene, tunes);
    let count = (scene.duration_s * f64::from(format.fps)).round() as usize;
    (0..count)
        .map(|f| {
            let t = f as f64 / f64::from(format.fps);
            let mut frame = bg.clone();
            for thing in &scene.objects {
                let p = if thing.motion == Motion::Dancing {
                    dancing_pose(thing, &notes, t)
                } else {
                    pose(thing, t, scene.duration_s)
                };
                draw_shape(&mut frame, thing.kind, thing.colour, thing.size, p);
            }
            frame
        })
        .collect()
}

/// Tags shared by every item of a scene.
fn scene_tags(scene: &Scene, tunes: &[Tune]) -> Vec<String> {
    let mut tags = vec![
        format!("split:{}", scene.split.word()),
        format!("scene:{}", scene.id),
    ];
    for t in &scene.objects {
        tags.push(format!("kind:{}", t.kind.word()));
        tags.push(format!("colour:{}", t.colour.word()));
        tags.push(format!("motion:{}", t.motion.word()));
        tags.push(format!("instrument:{}", t.kind.instrument().word()));
    }
    tags.push(format!("background:{}", scene.background.word()));
    if let Some(m) = &scene.melody {
        tags.push(format!("melody:{}", m.tune));
        if let Some(t) = tunes.get(m.tune) {
            tags.push(format!("melody_name:{}", t.name));
        }
    }
    if !scene.held_out.is_empty() {
        tags.push("held_out".into());
    }
    tags
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| SynthError::io(path, e))
}

/// Renders `scene` into `split_dir/media/` and returns its records (media, captions, hum,
/// questions), in a fixed order.
pub fn render_scene(
    scene: &Scene,
    tunes: &[Tune],
    split_dir: &Path,
    format: VideoFormat,
) -> Result<Vec<Record>> {
    let frames = scene_frames(scene, tunes, format);
    let words = match &scene.speech {
        Some(sp) => Some(speak(sp, SAMPLE_RATE)?),
        None => None,
    };
    let sound = scene_audio(scene, tunes, words.as_deref(), SAMPLE_RATE);
    let rel = |suffix: &str| format!("media/{}.{}", scene.id, suffix);
    write(
        &split_dir.join(rel("a.wav")),
        &encode_wav(&sound, SAMPLE_RATE),
    )?;
    write_mp4(&split_dir.join(rel("v.mp4")), &frames, format.fps, None)?;
    write_mp4(
        &split_dir.join(rel("av.mp4")),
        &frames,
        format.fps,
        Some((&sound, SAMPLE_RATE)),
    )?;

    let caps = captions(scene, tunes);
    let tags = scene_tags(scene, tunes);
    let tune = scene.melody.as_ref().and_then(|m| tunes.get(m.tune));
    let base = Record {
        id: String::new(),
        split: scene.split,
        modality: Modality::Text,
        path: None,
        text: None,
        pair_of: scene.id.clone(),
        view: None,
        caption: String::new(),
        tags: Vec::new(),
        duration_s: Some(scene.duration_s),
        objects: scene.objects.clone(),
        background: scene.background,
        ambience: scene.background.ambience(),
        speech: scene.speech.as_ref().map(|s| s.text.clone()),
        melody: scene.melody.as_ref().map(|m| m.tune),
        melody_name: tune.map(|t| t.name.clone()),
        instrument: scene
            .melody
            .as_ref()
            .and(scene.objects.first())
            .map(|p| p.kind.instrument().word()),
        key: scene.melody.as_ref().map(|m| {
            format!(
                "{} {}",
                key_name(m.tonic_hz),
                tune.map(|t| t.mode).unwrap_or("major")
            )
        }),
        tonic_hz: scene.melody.as_ref().map(|m| m.tonic_hz),
        bpm: scene.melody.as_ref().map(|m| m.bpm),
        held_out: scene.held_out.clone(),
        transpose_semitones: None,
        hum_style: None,
        tempo_factor: None,
        notes: None,
        about: None,
        question_kind: None,
        answer: None,
        distractors: None,
    };
    let item = |suffix: &str, modality: Modality, caption: &str| {
        let mut tags = tags.clone();
        tags.push(format!("modality:{}", modality.word()));
        Record {
            id: format!("{}.{}", scene.id, suffix),
            modality,
            caption: caption.to_string(),
            tags,
            ..base.clone()
        }
    };
    let mut out = Vec::new();
    for (suffix, view, text) in [
        ("t", "full", &caps.full),
        ("tv", "visual", &caps.visual),
        ("ta", "audio", &caps.audio),
    ] {
        let mut r = item(suffix, Modality::Text, text);
        r.text = Some(text.clone());
        r.view = Some(view);
        r.duration_s = None;
        r.tags.push(format!("view:{view}"));
        out.push(r);
    }
    for (suffix, modality, caption) in [
        ("a", Modality::Audio, &caps.audio),
        ("v", Modality::Video, &caps.visual),
        ("av", Modality::AudioVideo, &caps.full),
    ] {
        let mut r = item(suffix, modality, caption);
        let ext = if modality == Modality::Audio {
            "wav"
        } else {
            "mp4"
        };
        r.path = Some(rel(&format!("{suffix}.{ext}")));
        out.push(r);
    }
    for (plan, tune) in scene
        .hums
        .iter()
        .filter_map(|h| tunes.get(h.tune).map(|t| (h, t)))
    {
        let hum = render_hum(plan, tune, SAMPLE_RATE);
        let file = format!("media/{}.wav", plan.id);
        write(
            &split_dir.join(&file),
            &encode_wav(&hum.samples, SAMPLE_RATE),
        )?;
        let mut r = item(
            "hum",
            Modality::Hum,
            &format!("someone {} the {} tune", plan.style.verb(), tune.name),
        );
        r.id = plan.id.clone();
        r.path = Some(file);
        r.duration_s = Some(plan.duration_s);
        r.speech = None;
        r.instrument = None;
        r.objects = Vec::new();
        r.tags = vec![
            format!("split:{}", scene.split.word()),
            format!("scene:{}", scene.id),
            format!("melody:{}", tune.id),
            format!("melody_name:{}", tune.name),
            "modality:hum".into(),
            format!("hum_style:{}", plan.style.word()),
        ];
        // What is heard: a whistle sounds octaves above the planned hum register.
        r.key = Some(format!("{} {}", key_name(plan.sung_tonic_hz()), tune.mode));
        r.tonic_hz = Some(plan.sung_tonic_hz());
        r.bpm = Some(plan.bpm);
        r.hum_style = Some(plan.style);
        r.transpose_semitones = Some(plan.sung_transpose_semitones());
        r.tempo_factor = Some(plan.tempo_factor);
        r.notes = Some(
            hum.notes
                .iter()
                .map(|n| [n.start_s, n.start_s + n.dur_s, n.hz])
                .collect(),
        );
        out.push(r);
    }
    for (i, q) in questions(scene, tunes).into_iter().enumerate() {
        let mut r = item(&format!("q{i}"), Modality::Qa, &q.question);
        r.text = Some(q.question);
        r.duration_s = None;
        r.about = Some(format!("{}.av", scene.id));
        r.question_kind = Some(q.about);
        r.answer = Some(q.answer);
        r.distractors = Some(q.distractors);
        out.push(r);
    }
    Ok(out)
}
