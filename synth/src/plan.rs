//! Planning the corpus: which combinations are held out of train, and every scene of every
//! split, drawn so that train never shows a held-out combination and val/test always show one
//! of theirs.

use serde::Serialize;

use crate::melody::{tune_seconds, Tune};
use crate::rng::Rng;
use crate::scene::{HumPlan, HumStyle, MelodyPlay, Scene, Speech, Split, Thing};
use crate::speech::VOICES;
use crate::world::{Background, Colour, Instrument, Kind, Motion};

/// One combination of attributes that may be held out of train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Combo {
    /// A shape kind in a colour (e.g. red star).
    KindColour { kind: Kind, colour: Colour },
    /// A motion over a background (e.g. spinning on the checkerboard).
    MotionBackground {
        motion: Motion,
        background: Background,
    },
    /// A tune played on an instrument.
    TuneInstrument { tune: usize, instrument: Instrument },
}

impl Combo {
    /// A short label, as written in the records' `held_out` field.
    pub fn label(&self) -> String {
        match self {
            Combo::KindColour { kind, colour } => {
                format!("kind_colour:{}+{}", colour.word(), kind.word())
            }
            Combo::MotionBackground { motion, background } => {
                format!("motion_background:{}+{}", motion.word(), background.word())
            }
            Combo::TuneInstrument { tune, instrument } => {
                format!("tune_instrument:{}+{}", tune, instrument.word())
            }
        }
    }
}

/// The combinations held out of train, for val and for test (disjoint).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HoldOuts {
    pub val: Vec<Combo>,
    pub test: Vec<Combo>,
}

impl HoldOuts {
    /// Draws the held-out sets for `seed`: one colour per kind (a Latin-square diagonal, so
    /// every kind and every colour is still seen in train), three motion/background pairs and
    /// one instrument per tune, for each of val and test.
    pub fn new(seed: u64, tunes: usize) -> Self {
        let mut rng = Rng::derive(seed, "holdouts", 0);
        let mut colours: Vec<Colour> = Colour::ALL.to_vec();
        rng.shuffle(&mut colours);
        let mut motions: Vec<Motion> = Motion::FREE.to_vec();
        rng.shuffle(&mut motions);
        let nb = Background::ALL.len();
        let ni = Instrument::ALL.len();
        let (bg_shift, inst_shift) = (rng.below(nb), rng.below(ni));
        let mut sets = [Vec::new(), Vec::new()];
        for (s, set) in sets.iter_mut().enumerate() {
            for (k, kind) in Kind::ALL.iter().enumerate() {
                set.push(Combo::KindColour {
                    kind: *kind,
                    colour: colours[(k + s) % colours.len()],
                });
            }
            for i in 0..3 {
                set.push(Combo::MotionBackground {
                    motion: motions[3 * s + i],
                    background: Background::ALL[(i + bg_shift) % nb],
                });
            }
            for t in 0..tunes {
                set.push(Combo::TuneInstrument {
                    tune: t,
                    instrument: Instrument::ALL[(t + inst_shift + 3 * s) % ni],
                });
            }
        }
        let [val, test] = sets;
        HoldOuts { val, test }
    }

    /// The split a combination is held out for, if any.
    pub fn held_for(&self, c: &Combo) -> Option<Split> {
        if self.val.contains(c) {
            Some(Split::Val)
        } else if self.test.contains(c) {
            Some(Split::Test)
        } else {
            None
        }
    }

    /// Whether a scene with these combinations may go to `split`: train has none held out;
    /// val and test have at least one of theirs and none of the other's.
    pub fn admits(&self, split: Split, combos: &[Combo]) -> bool {
        let held: Vec<Option<Split>> = combos.iter().map(|c| self.held_for(c)).collect();
        match split {
            Split::Train => held.iter().all(Option::is_none),
            s => held.contains(&Some(s)) && held.iter().all(|h| h.is_none() || *h == Some(s)),
        }
    }
}

/// The combinations a scene shows.
pub fn combos(scene: &Scene) -> Vec<Combo> {
    let mut out = Vec::new();
    for t in &scene.objects {
        out.push(Combo::KindColour {
            kind: t.kind,
            colour: t.colour,
        });
        if t.motion != Motion::Dancing {
            out.push(Combo::MotionBackground {
                motion: t.motion,
                background: scene.background,
            });
        }
    }
    if let (Some(m), Some(player)) = (&scene.melody, scene.objects.first()) {
        out.push(Combo::TuneInstrument {
            tune: m.tune,
            instrument: player.kind.instrument(),
        });
    }
    out
}

/// Redraws `hum`'s style from `allowed` if its own is not among them, from a stream of its
/// own: hums already in an allowed style stay exactly as they are (with `allowed` = hum only,
/// the corpus is the one the generator wrote before it had styles).
pub fn restrict_style(hum: &mut HumPlan, allowed: &[HumStyle]) {
    if allowed.contains(&hum.style) || allowed.is_empty() {
        return;
    }
    let mut rng = Rng::derive(hum.seed, "hum-style-allowed", 0);
    hum.style = *rng.pick(allowed);
    hum.octaves_up = if hum.style == HumStyle::Whistle {
        rng.uniform(1.0, 2.0)
    } else {
        0.0
    };
}

/// Fixed timing of every clip.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    pub fps: u32,
}

impl Timing {
    /// `s` rounded up to a whole number of frames.
    fn frames_ceil(&self, s: f64) -> f64 {
        (s * f64::from(self.fps)).ceil() / f64::from(self.fps)
    }
}

/// Whether the `index`-th scene of a split plays a melody (two scenes in five, from the second).
pub fn is_melody_scene(index: usize) -> bool {
    matches!(index % 5, 1 | 3)
}

/// Draws scene `index` of `split` (its `melody_index`-th melody scene if it plays one).
pub fn draw_scene(
    seed: u64,
    split: Split,
    index: usize,
    melody_index: usize,
    tunes: &[Tune],
    holdouts: &HoldOuts,
    timing: Timing,
) -> Scene {
    let id = format!("{}-{:05}", split.word(), index);
    let mut rng = Rng::derive(seed, split.word(), index as u64);
    // Rejection sampling: val/test scenes are built around one of their held-out combinations,
    // so few draws are rejected.
    loop {
        let scene = if is_melody_scene(index) {
            draw_melody_scene(&mut rng, &id, split, melody_index, tunes, holdouts, timing)
        } else {
            draw_object_scene(&mut rng, &id, split, holdouts, timing)
        };
        let shown = combos(&scene);
        if holdouts.admits(split, &shown) {
            let held_out = shown
                .iter()
                .filter(|c| holdouts.held_for(c).is_some())
                .map(Combo::label)
                .collect();
            return Scene { held_out, ..scene };
        }
    }
}

fn forced(split: Split, holdouts: &HoldOuts) -> &[Combo] {
    match split {
        Split::Train => &[],
        Split::Val => &holdouts.val,
        Split::Test => &holdouts.test,
    }
}

fn draw_thing(
    rng: &mut Rng,
    kind: Kind,
    colour: Colour,
    motion: Motion,
    anchor: (f64, f64),
    span: f64,
) -> Thing {
    Thing {
        kind,
        colour,
        motion,
        semitone: rng.below(5) as i32,
        rate: rng.uniform(0.85, 1.15),
        phase: rng.unit(),
        anchor: (
            anchor.0 + rng.uniform(-0.04, 0.04),
            anchor.1 + rng.uniform(-0.04, 0.04),
        ),
        size: rng.uniform(0.09, 0.12) + 0.03 * (span - 0.5),
        span,
    }
}

fn draw_object_scene(
    rng: &mut Rng,
    id: &str,
    split: Split,
    holdouts: &HoldOuts,
    timing: Timing,
) -> Scene {
    let count = if rng.chance(0.5) { 1 } else { 2 };
    let mut background = *rng.pick(Background::ALL);
    let mut kinds: Vec<Kind> = Kind::ALL.to_vec();
    let mut colours: Vec<Colour> = Colour::ALL.to_vec();
    rng.shuffle(&mut kinds);
    rng.shuffle(&mut colours);
    let mut motions: Vec<Motion> = (0..count).map(|_| *rng.pick(Motion::FREE)).collect();
    // Val/test: make the first shape show one of the split's held-out combinations.
    let candidates: Vec<&Combo> = forced(split, holdouts)
        .iter()
        .filter(|c| !matches!(c, Combo::TuneInstrument { .. }))
        .collect();
    if !candidates.is_empty() {
        match **rng.pick(&candidates) {
            Combo::KindColour { kind, colour } => {
                kinds.retain(|k| *k != kind);
                kinds.insert(0, kind);
                colours.retain(|c| *c != colour);
                colours.insert(0, colour);
            }
            Combo::MotionBackground {
                motion,
                background: b,
            } => {
                motions[0] = motion;
                background = b;
            }
            Combo::TuneInstrument { .. } => {}
        }
    }
    let anchors = if count == 1 {
        vec![(0.5, 0.5)]
    } else {
        vec![(0.3, 0.5), (0.7, 0.5)]
    };
    let duration_s = timing.frames_ceil(rng.uniform(2.5, 3.5));
    let objects: Vec<Thing> = (0..count)
        .map(|i| {
            draw_thing(
                rng,
                kinds[i],
                colours[i],
                motions[i],
                anchors[i],
                1.0 / count as f64,
            )
        })
        .collect();
    let speech = if rng.chance(0.6) {
        let said = &objects[rng.below(count)];
        let text = match rng.below(3) {
            0 => said.name(),
            1 => said.kind.word().to_string(),
            _ => said.colour.word().to_string(),
        };
        Some(draw_speech(rng, text, duration_s))
    } else {
        None
    };
    Scene {
        id: id.to_string(),
        split,
        background,
        objects,
        melody: None,
        speech,
        snr_db: rng.uniform(15.0, 35.0),
        ambience_db: rng.uniform(6.0, 16.0),
        duration_s,
        held_out: Vec::new(),
        hums: Vec::new(),
        seed: rng.next_u64(),
    }
}

fn draw_speech(rng: &mut Rng, text: String, duration_s: f64) -> Speech {
    Speech {
        text,
        voice: rng.pick(&VOICES).to_string(),
        speed: 140 + rng.below(50) as u32,
        pitch: 30 + rng.below(40) as u32,
        at_s: rng.uniform(0.1, (duration_s - 1.4).max(0.15)),
    }
}

fn draw_melody_scene(
    rng: &mut Rng,
    id: &str,
    split: Split,
    melody_index: usize,
    tunes: &[Tune],
    holdouts: &HoldOuts,
    timing: Timing,
) -> Scene {
    // Tunes go round-robin so every split hears every tune about equally often.
    let tune = melody_index % tunes.len().max(1);
    let held: Vec<Instrument> = holdouts
        .val
        .iter()
        .chain(&holdouts.test)
        .filter_map(|c| match c {
            Combo::TuneInstrument {
                tune: t,
                instrument,
            } if *t == tune => Some(*instrument),
            _ => None,
        })
        .collect();
    let forced_instrument = forced(split, holdouts).iter().find_map(|c| match c {
        Combo::TuneInstrument {
            tune: t,
            instrument,
        } if *t == tune => Some(*instrument),
        _ => None,
    });
    let instrument = match forced_instrument {
        Some(i) => i,
        None => {
            let free: Vec<Instrument> = Instrument::ALL
                .iter()
                .copied()
                .filter(|i| !held.contains(i))
                .collect();
            *rng.pick(&free)
        }
    };
    let colour = *rng.pick(Colour::ALL);
    let background = *rng.pick(Background::ALL);
    let tonic_hz = colour.register_hz() * 2f64.powf(rng.below(7) as f64 / 12.0);
    let bpm = rng.uniform(110.0, 150.0);
    let start_s = 0.2;
    let duration_s = timing.frames_ceil(start_s + tune_seconds(bpm) + 0.3);
    let player = draw_thing(
        rng,
        instrument.kind(),
        colour,
        Motion::Dancing,
        (0.5, 0.5),
        1.0,
    );
    let speech = if rng.chance(0.5) {
        let text = if rng.chance(0.5) {
            tunes.get(tune).map(|t| t.name.clone()).unwrap_or_default()
        } else {
            instrument.word().to_string()
        };
        Some(draw_speech(rng, text, duration_s))
    } else {
        None
    };
    // The hum: a voice register tonic (not tied to any key), tempo within ±20 %.
    let hum_tonic = 110.0 * 2f64.powf(rng.uniform(0.0, 12.0) / 12.0);
    let tempo_factor = rng.uniform(0.8, 1.2);
    let hum_bpm = bpm * tempo_factor;
    let hum_start = rng.uniform(0.15, 0.35);
    let mut hum = HumPlan {
        id: format!("{id}.hum"),
        tune,
        tonic_hz: hum_tonic,
        transpose_semitones: 12.0 * (hum_tonic / tonic_hz).log2(),
        tempo_factor,
        bpm: hum_bpm,
        start_s: hum_start,
        duration_s: timing.frames_ceil(hum_start + tune_seconds(hum_bpm) + 0.3),
        vibrato_hz: rng.uniform(4.5, 6.5),
        vibrato_cents: rng.uniform(15.0, 45.0),
        formants: [
            rng.uniform(250.0, 380.0),
            rng.uniform(900.0, 1400.0),
            rng.uniform(2200.0, 2800.0),
        ],
        snr_db: rng.uniform(12.0, 30.0),
        seed: rng.next_u64(),
        style: HumStyle::Hum,
        octaves_up: 0.0,
    };
    // The style comes from a stream of its own, so the scene's draws stay as they were.
    let mut style_rng = Rng::derive(hum.seed, "hum-style", 0);
    hum.style = *style_rng.pick(&HumStyle::ALL);
    if hum.style == HumStyle::Whistle {
        hum.octaves_up = style_rng.uniform(1.0, 2.0);
    }
    Scene {
        id: id.to_string(),
        split,
        background,
        objects: vec![player],
        melody: Some(MelodyPlay {
            tune,
            tonic_hz,
            bpm,
            start_s,
        }),
        speech,
        snr_db: rng.uniform(15.0, 35.0),
        ambience_db: rng.uniform(8.0, 18.0),
        duration_s,
        held_out: Vec::new(),
        hums: vec![hum],
        seed: rng.next_u64(),
    }
}
