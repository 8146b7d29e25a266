//! What one scene is: the objects in it, how they move, what plays, what is said, the
//! background and noise. A scene is fully decided here (all random draws happen at planning
//! time); rendering it is then a pure function of this description.

use serde::Serialize;

use crate::world::{Background, Colour, Kind, Motion};

/// The three splits of the corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Val,
    Test,
}

impl Split {
    /// All splits, in output order.
    pub const ALL: [Split; 3] = [Split::Train, Split::Val, Split::Test];

    /// Folder and tag name.
    pub fn word(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Val => "val",
            Split::Test => "test",
        }
    }
}

/// One shape in a scene.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Thing {
    pub kind: Kind,
    pub colour: Colour,
    pub motion: Motion,
    /// Semitones above the colour's register floor that this shape's sound starts from.
    #[serde(skip)]
    pub semitone: i32,
    /// Speed factor of the motion (and so of its rhythm), around 1.
    #[serde(skip)]
    pub rate: f64,
    /// Phase of the motion in [0, 1).
    #[serde(skip)]
    pub phase: f64,
    /// Where the motion is centred, as fractions of the frame (x right, y down).
    #[serde(skip)]
    pub anchor: (f64, f64),
    /// Radius as a fraction of the frame side.
    #[serde(skip)]
    pub size: f64,
    /// Width of the shape's lane as a fraction of the frame: 1 alone, 0.5 when two shapes
    /// share the frame (sideways motions shrink so shapes never cross).
    #[serde(skip)]
    pub span: f64,
}

impl Thing {
    /// "red star".
    pub fn name(&self) -> String {
        format!("{} {}", self.colour.word(), self.kind.word())
    }

    /// The pitch this shape's sound is built on.
    pub fn base_hz(&self) -> f64 {
        self.colour.register_hz() * 2f64.powf(f64::from(self.semitone) / 12.0)
    }
}

/// A tune played in a scene.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MelodyPlay {
    /// Catalogue id of the tune.
    pub tune: usize,
    /// Pitch of the tonic, Hz.
    pub tonic_hz: f64,
    /// Tempo, beats per minute.
    pub bpm: f64,
    /// When the first note starts, seconds.
    pub start_s: f64,
}

/// Words spoken in a scene, by espeak-ng.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Speech {
    pub text: String,
    /// espeak-ng voice name.
    pub voice: String,
    /// Words per minute.
    pub speed: u32,
    /// espeak-ng pitch, 0-99.
    pub pitch: u32,
    /// When the words start, seconds.
    pub at_s: f64,
}

/// How a hum query voices its tune (issue 7: humming, whistling and singing "la la" all count
/// as hums).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HumStyle {
    /// A nasal "mm": a soft harmonic voice through low formants.
    Hum,
    /// A near-pure tone one to two octaves above the hum register, with breath noise.
    Whistle,
    /// A sung open "a", each note started by an "l".
    LaLa,
}

impl HumStyle {
    /// All styles, in the order they are drawn.
    pub const ALL: [HumStyle; 3] = [HumStyle::Hum, HumStyle::Whistle, HumStyle::LaLa];

    /// Tag and record word (`hum`, `whistle`, `la_la`).
    pub fn word(self) -> &'static str {
        match self {
            HumStyle::Hum => "hum",
            HumStyle::Whistle => "whistle",
            HumStyle::LaLa => "la_la",
        }
    }

    /// The verb captions use ("someone whistles the amber river tune"; "la la" is sung).
    pub fn verb(self) -> &'static str {
        match self {
            HumStyle::Hum => "hums",
            HumStyle::Whistle => "whistles",
            HumStyle::LaLa => "sings",
        }
    }
}

/// A hum query: a tune hummed by a synthetic voice, transposed and at another tempo.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HumPlan {
    pub id: String,
    pub tune: usize,
    /// Tonic of the hummed tune, Hz.
    pub tonic_hz: f64,
    /// Semitones from the scene's tonic to the hum's.
    pub transpose_semitones: f64,
    /// Hum tempo / scene tempo, in [0.8, 1.2].
    pub tempo_factor: f64,
    pub bpm: f64,
    pub start_s: f64,
    pub duration_s: f64,
    /// Vibrato rate (Hz) and depth (cents).
    pub vibrato_hz: f64,
    pub vibrato_cents: f64,
    /// Formant centre frequencies, Hz.
    pub formants: [f64; 3],
    /// Signal-to-noise ratio of the added noise, dB.
    pub snr_db: f64,
    #[serde(skip)]
    pub seed: u64,
    /// The voice. Drawn from its own stream (derived from `seed`), so every field above is
    /// what it was before styles existed.
    pub style: HumStyle,
    /// Octaves the voice sounds above `tonic_hz` (0 except for whistles: 1 to 2).
    pub octaves_up: f64,
}

impl HumPlan {
    /// Tonic actually sounded, Hz (`tonic_hz` raised by `octaves_up`).
    pub fn sung_tonic_hz(&self) -> f64 {
        self.tonic_hz * 2f64.powf(self.octaves_up)
    }

    /// Semitones from the scene's tonic to the sounded one.
    pub fn sung_transpose_semitones(&self) -> f64 {
        self.transpose_semitones + 12.0 * self.octaves_up
    }
}

/// A fully decided scene.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scene {
    pub id: String,
    pub split: Split,
    pub background: Background,
    pub objects: Vec<Thing>,
    pub melody: Option<MelodyPlay>,
    pub speech: Option<Speech>,
    /// Signal-to-noise ratio of the broadband noise, dB.
    pub snr_db: f64,
    /// How far the ambient sound sits below the foreground, dB.
    pub ambience_db: f64,
    pub duration_s: f64,
    /// The held-out combinations this scene shows (empty in train).
    pub held_out: Vec<String>,
    pub hums: Vec<HumPlan>,
    /// Seed of the scene's own noise streams.
    #[serde(skip)]
    pub seed: u64,
}
