//! Words about a scene: what is seen (visual caption), what is heard (audio caption), both
//! (full caption), and questions with one right answer and distractors.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::melody::Tune;
use crate::rng::Rng;
use crate::scene::{Scene, Thing};
use crate::world::{key_name, tempo_word, Ambience, Background, Colour, Instrument, Kind, Motion};

/// The three captions of a scene.
#[derive(Debug, Clone, PartialEq)]
pub struct Captions {
    pub visual: String,
    pub audio: String,
    pub full: String,
}

/// A question about a scene.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Question {
    /// What the question is about (`colour`, `kind`, `motion`, ...).
    pub about: &'static str,
    pub question: String,
    pub answer: String,
    pub distractors: Vec<String>,
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn join_and(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {}", init.join(", "), last),
    }
}

/// "a" or "an", by the next word's first letter.
fn a(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

fn seen(thing: &Thing) -> String {
    let name = thing.name();
    match thing.motion {
        Motion::Dancing => format!(
            "{} {name} dances, rising for high notes and falling for low ones",
            a(&name)
        ),
        m => format!("{} {name} {}", a(&name), m.verb()),
    }
}

fn heard(thing: &Thing) -> String {
    let register = thing.colour.register_word();
    format!(
        "{} {} {} playing {}",
        a(register),
        register,
        thing.kind.instrument().word(),
        thing.motion.rhythm_phrase()
    )
}

/// The scene's three captions, with wording varied by the scene's seed.
pub fn captions(scene: &Scene, tunes: &[Tune]) -> Captions {
    let mut rng = Rng::derive(scene.seed, "caption", 0);
    let things: Vec<String> = scene.objects.iter().map(seen).collect();
    let bg = scene.background.phrase();
    let visual = match rng.below(3) {
        0 => format!("{} over {}.", capitalise(&join_and(&things)), bg),
        1 => format!("Over {}, {}.", bg, join_and(&things)),
        _ => format!("{}: {}.", capitalise(bg), join_and(&things)),
    };
    let mut sounds: Vec<String> = Vec::new();
    if let (Some(m), Some(player)) = (&scene.melody, scene.objects.first()) {
        let name = tunes
            .get(m.tune)
            .map(|t| t.name.as_str())
            .unwrap_or("unknown");
        let mode = tunes.get(m.tune).map(|t| t.mode).unwrap_or("major");
        sounds.push(format!(
            "the {} tune played on {} {} {} in {} {} at a {} tempo",
            name,
            a(player.colour.register_word()),
            player.colour.register_word(),
            player.kind.instrument().word(),
            key_name(m.tonic_hz),
            mode,
            tempo_word(m.bpm)
        ));
    } else {
        sounds.extend(scene.objects.iter().map(heard));
    }
    let amb = scene.background.ambience().word();
    let mut audio = match rng.below(2) {
        0 => format!(
            "{}, with {} in the background.",
            capitalise(&join_and(&sounds)),
            amb
        ),
        _ => format!("Over the sound of {}, {}.", amb, join_and(&sounds)),
    };
    if let Some(sp) = &scene.speech {
        audio.push_str(&format!(" A voice says \"{}\".", sp.text));
    }
    let full = format!("{visual} {audio}");
    Captions {
        visual,
        audio,
        full,
    }
}

/// Three distractors, never the answer: `prefer` (another shape's value in the same scene, say)
/// first, then `pool` drawn by `rng`.
fn distractors(rng: &mut Rng, answer: &str, pool: &[String], prefer: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in prefer {
        if p != answer && !out.contains(p) {
            out.push(p.clone());
        }
    }
    let mut rest: Vec<String> = pool
        .iter()
        .filter(|p| *p != answer && !out.contains(p))
        .cloned()
        .collect();
    rng.shuffle(&mut rest);
    out.extend(rest);
    out.truncate(3);
    out
}

/// The words of a caption, question or answer, lower-cased, punctuation aside.
fn word_set(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Whether two phrases have a word in common.
fn shares_word(a: &str, b: &str) -> bool {
    !word_set(a).is_disjoint(&word_set(b))
}

fn words<T: Copy>(all: &[T], word: impl Fn(T) -> &'static str) -> Vec<String> {
    all.iter().map(|v| word(*v).to_string()).collect()
}

/// Two or three questions about the scene, with answers and three distractors each.
pub fn questions(scene: &Scene, tunes: &[Tune]) -> Vec<Question> {
    let mut rng = Rng::derive(scene.seed, "questions", 0);
    let colours = words(Colour::ALL, Colour::word);
    let kinds = words(Kind::ALL, Kind::word);
    let motions = words(Motion::FREE, Motion::word);
    let mut all: Vec<Question> = Vec::new();
    let others = |f: &dyn Fn(&Thing) -> String, me: &Thing| -> Vec<String> {
        scene.objects.iter().filter(|o| *o != me).map(f).collect()
    };
    for thing in &scene.objects {
        let colour = thing.colour.word().to_string();
        let q = Question {
            about: "colour",
            question: format!("What colour is the {}?", thing.kind.word()),
            distractors: distractors(
                &mut rng,
                &colour,
                &colours,
                &others(&|o| o.colour.word().into(), thing),
            ),
            answer: colour,
        };
        all.push(q);
        let kind = thing.kind.word().to_string();
        let q = Question {
            about: "kind",
            question: format!("Which shape is {}?", thing.colour.word()),
            distractors: distractors(
                &mut rng,
                &kind,
                &kinds,
                &others(&|o| o.kind.word().into(), thing),
            ),
            answer: kind,
        };
        all.push(q);
        if thing.motion != Motion::Dancing {
            let motion = thing.motion.word().to_string();
            let q = Question {
                about: "motion",
                question: format!("How is the {} moving?", thing.name()),
                distractors: distractors(
                    &mut rng,
                    &motion,
                    &motions,
                    &others(&|o| o.motion.word().into(), thing),
                ),
                answer: motion,
            };
            all.push(q);
        }
        let inst = thing.kind.instrument().word().to_string();
        let q = Question {
            about: "instrument",
            question: format!("Which instrument does the {} sound like?", thing.name()),
            distractors: distractors(
                &mut rng,
                &inst,
                &words(Instrument::ALL, Instrument::word),
                &others(&|o| o.kind.instrument().word().into(), thing),
            ),
            answer: inst,
        };
        all.push(q);
    }
    let bg = scene.background.word().to_string();
    all.push(Question {
        about: "background",
        question: "What is the background?".into(),
        distractors: distractors(
            &mut rng,
            &bg,
            &words(Background::ALL, Background::word),
            &[],
        ),
        answer: bg,
    });
    let amb = scene.background.ambience().word().to_string();
    all.push(Question {
        about: "ambience",
        question: "What can be heard in the background?".into(),
        distractors: distractors(&mut rng, &amb, &words(Ambience::ALL, Ambience::word), &[]),
        answer: amb,
    });
    let counts: Vec<String> = ["one", "two", "three", "four"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let count = counts[scene.objects.len().clamp(1, 4) - 1].clone();
    all.push(Question {
        about: "count",
        question: "How many shapes are there?".into(),
        distractors: distractors(&mut rng, &count, &counts, &[]),
        answer: count,
    });
    if let Some(m) = &scene.melody {
        let names: Vec<String> = tunes.iter().map(|t| t.name.clone()).collect();
        if let Some(t) = tunes.get(m.tune) {
            all.push(Question {
                about: "tune",
                question: "Which tune is played?".into(),
                distractors: distractors(&mut rng, &t.name, &names, &[]),
                answer: t.name.clone(),
            });
        }
        let tempo = tempo_word(m.bpm).to_string();
        let tempos: Vec<String> = ["slow", "moderate", "fast", "very fast"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        all.push(Question {
            about: "tempo",
            question: "Is the tune slow, moderate or fast?".into(),
            distractors: distractors(&mut rng, &tempo, &tempos, &[]),
            answer: tempo,
        });
    }
    if let Some(sp) = &scene.speech {
        // Distractors of the same form as the words said (a colour, a shape, a name...).
        let tune_names: Vec<String> = tunes.iter().map(|t| t.name.clone()).collect();
        let pools = [
            colours.clone(),
            kinds.clone(),
            words(Instrument::ALL, Instrument::word),
            tune_names,
        ];
        let pool = match pools.iter().find(|p| p.contains(&sp.text)) {
            Some(p) => p.clone(),
            None => Colour::ALL
                .iter()
                .flat_map(|c| {
                    Kind::ALL
                        .iter()
                        .map(move |k| format!("{} {}", c.word(), k.word()))
                })
                .collect(),
        };
        all.push(Question {
            about: "speech",
            question: "What does the voice say?".into(),
            distractors: distractors(&mut rng, &sp.text, &pool, &[]),
            answer: sp.text.clone(),
        });
    }
    // The clip's own facts of other kinds go first among the distractors ("organ" for "Which
    // shape is green?"): an embedding of the clip that ignores the question matches them as
    // well as the right answer, so only the question tells the answer apart.
    let facts: Vec<(&str, String)> = all.iter().map(|q| (q.about, q.answer.clone())).collect();
    for q in &mut all {
        let mut own: Vec<String> = facts
            .iter()
            // What the voice says is a phrase that may name the answer itself; a fact the
            // question names ("purple" for "Which shape is purple?") would be a giveaway.
            .filter(|(about, fact)| {
                *about != q.about
                    && *about != "speech"
                    && !shares_word(fact, &q.answer)
                    && !shares_word(fact, &q.question)
            })
            .map(|(_, fact)| fact.clone())
            .collect();
        own.sort();
        own.dedup();
        rng.shuffle(&mut own);
        own.truncate(2);
        for d in q.distractors.drain(..) {
            if !own.contains(&d) {
                own.push(d);
            }
        }
        own.truncate(3);
        q.distractors = own;
    }
    rng.shuffle(&mut all);
    let keep = 2 + rng.below(2);
    all.truncate(keep);
    all
}
