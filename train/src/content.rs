//! What a scene's captions name, independent of their wording.
//!
//! The generator words every caption in one of several sentence forms ("A red star bounces
//! over a dark night background." / "Over a dark night background, a red star bounces." / "A
//! dark night background: a red star bounces.") and its world repeats combinations, so two
//! scenes can show exactly the same things under different captions. For retrieval those are
//! the same answer: an evaluation hit either way, and never each other's negative in a
//! training batch. Their keys here are equal; scenes that differ in anything a caption names
//! get different keys.

use serde::Deserialize;

/// One shape as `corpus.jsonl` lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct ObjectRecord {
    pub kind: String,
    pub colour: String,
    pub motion: String,
}

/// The attributes a scene's three captions name, as comparable keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    /// What the silent video shows (the visual caption): background and shapes.
    pub seen: String,
    /// What the soundtrack plays (the audio caption): ambience, sounds or tune, spoken words.
    pub heard: String,
}

/// The fields of a `corpus.jsonl` line a scene's content is read from.
pub struct SceneFields<'a> {
    pub objects: &'a [ObjectRecord],
    pub background: &'a str,
    pub ambience: &'a str,
    pub speech: Option<&'a str>,
    pub melody: Option<usize>,
    /// The melody's key and mode, as captions name it ("G major").
    pub key: Option<&'a str>,
    pub bpm: Option<f64>,
}

impl Content {
    pub fn new(f: &SceneFields) -> Self {
        // Captions list two shapes in the scene's order but never say which is left: the
        // order is wording.
        let mut things: Vec<String> = f
            .objects
            .iter()
            .map(|o| format!("{} {} {}", o.colour, o.kind, o.motion))
            .collect();
        things.sort();
        let things = things.join(", ");
        let seen = format!("{} | {things}", f.background);
        let sounds = match (f.melody, f.objects.first()) {
            // A melody scene's audio caption names the tune, the player's instrument and
            // register, the key and a tempo word, not the exact tempo.
            (Some(tune), Some(player)) => format!(
                "tune {tune} on {} {} in {} at a {} tempo",
                player.colour,
                player.kind,
                f.key.unwrap_or("?"),
                f.bpm.map(tempo_word).unwrap_or("?")
            ),
            _ => things,
        };
        let heard = format!(
            "{} | {sounds} | says {}",
            f.ambience,
            f.speech.unwrap_or("nothing")
        );
        Content { seen, heard }
    }

    /// What the full caption names: what is seen and what is heard.
    pub fn full(&self) -> String {
        format!("{} || {}", self.seen, self.heard)
    }
}

/// The tempo word captions use (the generator's thresholds, synth/src/world.rs `tempo_word`).
fn tempo_word(bpm: f64) -> &'static str {
    if bpm < 108.0 {
        "slow"
    } else if bpm < 132.0 {
        "moderate"
    } else {
        "fast"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(kind: &str, colour: &str, motion: &str) -> ObjectRecord {
        ObjectRecord {
            kind: kind.into(),
            colour: colour.into(),
            motion: motion.into(),
        }
    }

    fn fields<'a>(objects: &'a [ObjectRecord], speech: Option<&'a str>) -> SceneFields<'a> {
        SceneFields {
            objects,
            background: "night",
            ambience: "crickets",
            speech,
            melody: None,
            key: None,
            bpm: None,
        }
    }

    #[test]
    fn the_order_of_two_shapes_is_wording() {
        let ab = [
            object("star", "red", "bouncing"),
            object("circle", "blue", "spinning"),
        ];
        let ba = [
            object("circle", "blue", "spinning"),
            object("star", "red", "bouncing"),
        ];
        assert_eq!(
            Content::new(&fields(&ab, None)),
            Content::new(&fields(&ba, None))
        );
    }

    #[test]
    fn spoken_words_are_heard_not_seen() {
        let one = [object("star", "red", "bouncing")];
        let quiet = Content::new(&fields(&one, None));
        let said = Content::new(&fields(&one, Some("star")));
        assert_eq!(quiet.seen, said.seen);
        assert_ne!(quiet.heard, said.heard);
        assert_ne!(quiet.full(), said.full());
    }

    #[test]
    fn a_melody_is_keyed_by_its_tempo_word_not_its_tempo() {
        let player = [object("cross", "red", "dancing")];
        let at = |bpm: f64| {
            Content::new(&SceneFields {
                melody: Some(3),
                key: Some("G major"),
                bpm: Some(bpm),
                ..fields(&player, None)
            })
        };
        assert_eq!(at(112.0), at(125.0));
        assert_ne!(at(125.0), at(140.0));
    }
}
