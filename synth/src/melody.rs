//! The melody catalogue: a fixed set of distinct tunes, each a short sequence of notes given as
//! semitones above the tonic and lengths in beats. The catalogue does not depend on the corpus
//! seed, so a tune keeps its identity (and name) across corpora.

use serde::Serialize;

use crate::rng::Rng;

/// How many tunes the catalogue holds.
pub const TUNE_COUNT: usize = 36;

/// Every tune lasts this many beats.
pub const TUNE_BEATS: f64 = 6.0;

/// The seed the catalogue is generated from (fixed: tunes are part of the world, not the draw).
const CATALOGUE_SEED: u64 = 0x7475_6e65_735f_7631;

/// Smallest distance (sum over the half-beat grid of the semitone difference, after aligning
/// the first notes) between two tunes of the catalogue: tunes must differ, even transposed.
pub const MIN_TUNE_DISTANCE: i32 = 14;

/// One note of a tune.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TuneNote {
    /// Semitones above the tonic.
    pub semitone: i32,
    /// Length in beats.
    pub beats: f64,
}

/// A tune of the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tune {
    /// Position in the catalogue.
    pub id: usize,
    /// Its name, as captions and answers say it ("the amber river tune").
    pub name: String,
    /// Major or minor.
    pub mode: &'static str,
    /// The notes.
    pub notes: Vec<TuneNote>,
}

/// A note placed in time, at a pitch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct NoteEvent {
    /// Onset, seconds from the clip start.
    pub start_s: f64,
    /// Length in seconds.
    pub dur_s: f64,
    /// Pitch in Hz.
    pub hz: f64,
}

const ADJECTIVES: [&str; TUNE_COUNT] = [
    "amber",
    "silver",
    "quiet",
    "morning",
    "winter",
    "golden",
    "hollow",
    "velvet",
    "paper",
    "copper",
    "misty",
    "sunny",
    "rusty",
    "gentle",
    "crooked",
    "lonely",
    "merry",
    "sleepy",
    "windy",
    "frozen",
    "bright",
    "dusty",
    "early",
    "faded",
    "humble",
    "little",
    "marble",
    "northern",
    "olive",
    "proud",
    "restless",
    "salty",
    "tender",
    "wandering",
    "young",
    "wild",
];
const NOUNS: [&str; TUNE_COUNT] = [
    "river",
    "lantern",
    "meadow",
    "harbour",
    "sparrow",
    "window",
    "garden",
    "mountain",
    "candle",
    "orchard",
    "bridge",
    "island",
    "feather",
    "valley",
    "kettle",
    "compass",
    "forest",
    "pebble",
    "ribbon",
    "chapel",
    "market",
    "anchor",
    "thimble",
    "cottage",
    "willow",
    "beacon",
    "fiddle",
    "meadowlark",
    "puddle",
    "saddle",
    "tower",
    "wagon",
    "harvest",
    "lighthouse",
    "mirror",
    "clover",
];

const MAJOR: [i32; 10] = [0, 2, 4, 5, 7, 9, 11, 12, 14, 16];
const MINOR: [i32; 10] = [0, 2, 3, 5, 7, 8, 10, 12, 14, 15];

/// The catalogue, always the same [`TUNE_COUNT`] tunes in the same order.
pub fn catalogue() -> Vec<Tune> {
    let mut rng = Rng::new(CATALOGUE_SEED);
    let mut tunes: Vec<Tune> = Vec::with_capacity(TUNE_COUNT);
    while tunes.len() < TUNE_COUNT {
        let id = tunes.len();
        let minor = id % 3 == 2;
        let candidate = Tune {
            id,
            name: format!("{} {}", ADJECTIVES[id], NOUNS[(id * 7) % TUNE_COUNT]),
            mode: if minor { "minor" } else { "major" },
            notes: draw_notes(&mut rng, if minor { &MINOR } else { &MAJOR }),
        };
        // Rejection sampling keeps the catalogue well separated.
        if tunes
            .iter()
            .all(|t| tune_distance(t, &candidate) >= MIN_TUNE_DISTANCE)
        {
            tunes.push(candidate);
        }
    }
    tunes
}

/// A random walk over the scale with a rhythm that fills exactly [`TUNE_BEATS`].
fn draw_notes(rng: &mut Rng, scale: &[i32; 10]) -> Vec<TuneNote> {
    const LENGTHS: [f64; 4] = [0.5, 0.5, 1.0, 1.5];
    let mut degree = *rng.pick(&[0usize, 2, 4]);
    let mut left = TUNE_BEATS;
    let mut notes = Vec::new();
    while left > 0.0 {
        let mut beats = *rng.pick(&LENGTHS);
        if left <= 2.0 || beats > left {
            beats = left; // the last note holds to the end of the tune
        }
        notes.push(TuneNote {
            semitone: scale[degree],
            beats,
        });
        left -= beats;
        let step = *rng.pick(&[-2i32, -1, -1, 1, 1, 2, 3]);
        let next = degree as i32 + step;
        degree = if (0..scale.len() as i32).contains(&next) {
            next as usize
        } else {
            (degree as i32 - step).clamp(0, scale.len() as i32 - 1) as usize
        };
        // A repeated pitch would merge with the previous note when hummed.
        if scale[degree] == notes.last().map(|n| n.semitone).unwrap_or(-1) {
            degree = if degree + 1 < scale.len() {
                degree + 1
            } else {
                degree - 1
            };
        }
    }
    notes
}

/// The tune's pitch on a half-beat grid, relative to its first note.
pub fn contour(tune: &Tune) -> Vec<i32> {
    let first = tune.notes.first().map(|n| n.semitone).unwrap_or(0);
    let mut grid = Vec::new();
    for n in &tune.notes {
        for _ in 0..(n.beats * 2.0).round() as usize {
            grid.push(n.semitone - first);
        }
    }
    grid
}

/// How different two tunes are, independent of key: L1 distance of their contours plus a
/// penalty for every note onset one has and the other lacks.
pub fn tune_distance(a: &Tune, b: &Tune) -> i32 {
    let (ca, cb) = (contour(a), contour(b));
    let pitch: i32 = ca.iter().zip(&cb).map(|(x, y)| (x - y).abs()).sum();
    let onsets = |t: &Tune| {
        let mut at = 0.0;
        let mut set = Vec::new();
        for n in &t.notes {
            set.push((at * 2.0f64).round() as i32);
            at += n.beats;
        }
        set
    };
    let (oa, ob) = (onsets(a), onsets(b));
    let rhythm = oa.iter().filter(|o| !ob.contains(o)).count()
        + ob.iter().filter(|o| !oa.contains(o)).count();
    pitch + 2 * rhythm as i32
}

/// The tune's notes in time: tonic at `tonic_hz`, `bpm` beats per minute, starting at
/// `start_s`. Each note sounds for `legato` of its length.
pub fn schedule(tune: &Tune, tonic_hz: f64, bpm: f64, start_s: f64, legato: f64) -> Vec<NoteEvent> {
    let beat_s = 60.0 / bpm;
    let mut at = start_s;
    tune.notes
        .iter()
        .map(|n| {
            let e = NoteEvent {
                start_s: at,
                dur_s: n.beats * beat_s * legato,
                hz: tonic_hz * 2f64.powf(f64::from(n.semitone) / 12.0),
            };
            at += n.beats * beat_s;
            e
        })
        .collect()
}

/// Seconds a tune lasts at `bpm`.
pub fn tune_seconds(bpm: f64) -> f64 {
    TUNE_BEATS * 60.0 / bpm
}
