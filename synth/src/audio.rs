//! A scene's soundtrack: every shape's sound (its instrument, register and rhythm), the tune if
//! one is played, the spoken words, the background's ambience and broadband noise.

use crate::ambience::{add_white, ambience, limit_peak, mix_below, rms};
use crate::instrument::add_note;
use crate::melody::{schedule, NoteEvent, Tune};
use crate::motion::{score, AmpMod, ScoreNote};
use crate::rng::Rng;
use crate::scene::Scene;

/// The tune's notes as the scene plays them (empty without a tune).
pub fn melody_notes(scene: &Scene, tunes: &[Tune]) -> Vec<NoteEvent> {
    match (
        &scene.melody,
        scene.melody.as_ref().and_then(|m| tunes.get(m.tune)),
    ) {
        (Some(m), Some(tune)) => schedule(tune, m.tonic_hz, m.bpm, m.start_s, 0.9),
        _ => Vec::new(),
    }
}

/// Mixes the scene's sound at `rate`; `speech` is the spoken words, already at `rate`.
pub fn scene_audio(scene: &Scene, tunes: &[Tune], speech: Option<&[f32]>, rate: u32) -> Vec<f32> {
    let len = (scene.duration_s * f64::from(rate)).round() as usize;
    let mut fg = vec![0f32; len];
    for thing in &scene.objects {
        for n in score(thing, scene.duration_s) {
            add_note(&mut fg, rate, thing.kind.instrument(), &n);
        }
    }
    if let Some(player) = scene.objects.first() {
        for note in melody_notes(scene, tunes) {
            let n = ScoreNote {
                note,
                glide: 0.0,
                amp: 1.0,
                modulation: AmpMod::Flat,
            };
            add_note(&mut fg, rate, player.kind.instrument(), &n);
        }
    }
    let music_rms = rms(&fg).max(1e-4);
    // Normalise the music, then lay the words over it at a comparable level.
    fg.iter_mut().for_each(|v| *v *= (0.12 / music_rms) as f32);
    if let (Some(words), Some(sp)) = (speech, &scene.speech) {
        let start = (sp.at_s * f64::from(rate)).round() as usize;
        let words_rms = rms(words).max(1e-4);
        let gain = (0.14 / words_rms) as f32;
        for (o, w) in fg.iter_mut().skip(start).zip(words) {
            *o += w * gain;
        }
    }
    let level = rms(&fg);
    let mut rng = Rng::derive(scene.seed, "noise", 0);
    let amb = ambience(scene.background.ambience(), len, rate, &mut rng);
    let mut out = fg;
    mix_below(&mut out, &amb, level, scene.ambience_db);
    add_white(&mut out, level, scene.snr_db, &mut rng);
    limit_peak(&mut out, 0.9);
    out
}
