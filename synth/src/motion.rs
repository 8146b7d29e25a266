//! Motion ↔ rhythm: where a shape is at time t, and the notes its motion makes. Both come from
//! the same timing (period, phase), so a bounce is heard exactly when it is seen.

use std::f64::consts::TAU;

use crate::melody::NoteEvent;
use crate::scene::Thing;
use crate::world::Motion;

/// Where and how a shape is drawn at one instant (fractions of the frame; angle in radians).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pose {
    pub x: f64,
    pub y: f64,
    pub angle: f64,
    pub scale: f64,
}

/// Loudness shaping applied over a note.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AmpMod {
    /// Constant.
    Flat,
    /// Amplitude modulation at `hz`, starting at `phase` (cycles).
    Tremolo { hz: f64, phase: f64 },
    /// Slow swell following the pulsing scale: period `period_s`, `phase` (cycles).
    Swell { period_s: f64, phase: f64 },
}

/// A note of an object's sound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreNote {
    pub note: NoteEvent,
    /// Pitch change over the note, semitones (a glide).
    pub glide: f64,
    pub amp: f64,
    pub modulation: AmpMod,
}

fn bounce_period(t: &Thing) -> f64 {
    0.8 / t.rate
}
fn spin_hz(t: &Thing) -> f64 {
    0.8 * t.rate
}
fn orbit_period(t: &Thing) -> f64 {
    2.0 / t.rate
}
fn zigzag_period(t: &Thing) -> f64 {
    1.0 / t.rate
}
fn pulse_period(t: &Thing) -> f64 {
    1.0 / t.rate
}

/// The pose of a free-moving shape at `time` (not `Dancing`: see [`dancing_pose`]).
pub fn pose(t: &Thing, time: f64, duration: f64) -> Pose {
    let (ax, ay) = t.anchor;
    let still = Pose {
        x: ax,
        y: ay,
        angle: 0.0,
        scale: 1.0,
    };
    match t.motion {
        Motion::Bouncing => {
            let u = (time / bounce_period(t) + t.phase).fract();
            Pose {
                y: ay + 0.15 - 1.2 * u * (1.0 - u),
                ..still
            }
        }
        Motion::Sliding => {
            let u = time / duration;
            let reach = 0.3 * t.span;
            let x = if t.phase < 0.5 {
                ax - reach + 2.0 * reach * u
            } else {
                ax + reach - 2.0 * reach * u
            };
            Pose { x, ..still }
        }
        Motion::Spinning => Pose {
            angle: TAU * (time * spin_hz(t) + t.phase),
            ..still
        },
        Motion::Orbiting => {
            let a = TAU * (time / orbit_period(t) + t.phase);
            let radius = 0.18 * t.span.sqrt();
            Pose {
                x: ax + radius * a.cos(),
                y: ay + radius * a.sin(),
                ..still
            }
        }
        Motion::Zigzagging => {
            let u = (time / zigzag_period(t) + t.phase).fract();
            let tri = if u < 0.5 {
                4.0 * u - 1.0
            } else {
                3.0 - 4.0 * u
            };
            Pose {
                x: ax + 0.2 * t.span * tri,
                y: ay - 0.2 + 0.4 * time / duration,
                ..still
            }
        }
        Motion::Pulsing => Pose {
            scale: 1.0 + 0.35 * (TAU * (time / pulse_period(t) + t.phase)).sin(),
            ..still
        },
        Motion::Dancing => still,
    }
}

/// The notes a free-moving shape makes over `duration` seconds.
pub fn score(t: &Thing, duration: f64) -> Vec<ScoreNote> {
    let base = t.base_hz();
    let fifth = base * 2f64.powf(7.0 / 12.0);
    let third = base * 2f64.powf(4.0 / 12.0);
    let note = |start_s: f64, dur_s: f64, hz: f64| ScoreNote {
        note: NoteEvent { start_s, dur_s, hz },
        glide: 0.0,
        amp: 1.0,
        modulation: AmpMod::Flat,
    };
    // Times in [0, duration) where `(time / period + phase)` crosses a multiple of `step`.
    let crossings = |period: f64, step: f64| -> Vec<(f64, i64)> {
        let first = ((t.phase) / step).floor() as i64 + 1;
        (first..)
            .map(|k| ((k as f64 * step - t.phase) * period, k))
            .take_while(|(time, _)| *time < duration)
            .collect()
    };
    match t.motion {
        Motion::Bouncing => crossings(bounce_period(t), 1.0)
            .into_iter()
            .map(|(at, _)| note(at, 0.18, base))
            .collect(),
        Motion::Sliding => {
            let mut n = note(0.05, duration - 0.15, base);
            n.glide = if t.phase < 0.5 { 3.0 } else { -3.0 };
            vec![n]
        }
        Motion::Spinning => {
            let mut n = note(0.05, duration - 0.15, base);
            n.modulation = AmpMod::Tremolo {
                hz: 8.0 * spin_hz(t),
                phase: 8.0 * t.phase,
            };
            vec![n]
        }
        Motion::Orbiting | Motion::Zigzagging => {
            // A new note at every half period: low/high as the shape is on one side or the other.
            let (period, high) = if t.motion == Motion::Orbiting {
                (orbit_period(t), fifth)
            } else {
                (zigzag_period(t), third)
            };
            let mut marks = vec![(0.0, (t.phase / 0.5).floor() as i64)];
            marks.extend(crossings(period, 0.5));
            let mut out = Vec::new();
            for (i, (at, k)) in marks.iter().enumerate() {
                let end = marks.get(i + 1).map(|m| m.0).unwrap_or(duration);
                let hz = if k.rem_euclid(2) == 0 { base } else { high };
                if end - at > 0.06 {
                    out.push(note(at + 0.01, (end - at) * 0.9, hz));
                }
            }
            out
        }
        Motion::Pulsing => {
            let mut n = note(0.05, duration - 0.15, base);
            n.modulation = AmpMod::Swell {
                period_s: pulse_period(t),
                phase: t.phase,
            };
            vec![n]
        }
        Motion::Dancing => Vec::new(),
    }
}

/// The pose of a shape playing `notes`: its height follows the pitch (higher note, higher on
/// screen), it hops at each onset and sways gently.
pub fn dancing_pose(t: &Thing, notes: &[NoteEvent], time: f64) -> Pose {
    let (lo, hi) = notes.iter().fold((f64::MAX, f64::MIN), |(lo, hi), n| {
        (lo.min(n.hz.log2()), hi.max(n.hz.log2()))
    });
    let current = notes
        .iter()
        .rev()
        .find(|n| n.start_s <= time)
        .or(notes.first());
    let (level, since) = match current {
        Some(n) if hi > lo => ((n.hz.log2() - lo) / (hi - lo), time - n.start_s),
        Some(n) => (0.5, time - n.start_s),
        None => (0.5, 1.0),
    };
    let hop = if (0.0..0.15).contains(&since) {
        0.25 * (1.0 - since / 0.15)
    } else {
        0.0
    };
    Pose {
        x: t.anchor.0 + 0.05 * (TAU * (0.5 * time + t.phase)).sin(),
        y: 0.78 - 0.56 * level,
        angle: 0.0,
        scale: 1.0 + hop,
    }
}
