//! Captions say what is rendered: the named colours are drawn (and no other shape colour),
//! the named motion is the one the frames show, and the audio caption names the instrument,
//! ambience and words.

use wave_synth::caption::captions;
use wave_synth::scene::{Scene, Thing};
use wave_synth::world::{Colour, Motion};
use wave_synth::{plan, scene_frames, Frame, SynthOptions, VideoFormat};

const FORMAT: VideoFormat = VideoFormat {
    width: 112,
    height: 112,
    fps: 8,
};

fn scenes(count: usize) -> (Vec<Scene>, Vec<wave_synth::melody::Tune>) {
    let opts = SynthOptions {
        count: Some(count),
        ..SynthOptions::new(21, "unused")
    };
    let p = plan(&opts).expect("plan");
    (p.scenes, p.tunes)
}

type Blob = Option<(f64, f64, usize)>;

/// For every shape colour: centroid (fractions of the frame) and count of its pixels.
fn blobs(frame: &Frame) -> Vec<Blob> {
    let wants: Vec<[i32; 3]> = Colour::ALL.iter().map(|c| c.rgb().map(i32::from)).collect();
    let mut acc = vec![(0.0, 0.0, 0usize); wants.len()];
    for y in 0..frame.height {
        for x in 0..frame.width {
            let p = frame.pixel(x, y).map(i32::from);
            for (want, a) in wants.iter().zip(acc.iter_mut()) {
                let d: i32 = (0..3).map(|k| (p[k] - want[k]).abs()).sum();
                if d < 40 {
                    a.0 += x as f64;
                    a.1 += y as f64;
                    a.2 += 1;
                }
            }
        }
    }
    acc.into_iter()
        .map(|(sx, sy, n)| {
            (n > 0).then(|| {
                (
                    sx / n as f64 / frame.width as f64,
                    sy / n as f64 / frame.height as f64,
                    n,
                )
            })
        })
        .collect()
}

fn range(v: impl Iterator<Item = f64> + Clone) -> f64 {
    v.clone().fold(f64::MIN, f64::max) - v.fold(f64::MAX, f64::min)
}

#[test]
fn captions_name_what_is_drawn_and_heard() {
    let (scenes, tunes) = scenes(40);
    let motions: std::collections::BTreeSet<Motion> = scenes
        .iter()
        .flat_map(|s| s.objects.iter().map(|o| o.motion))
        .collect();
    assert_eq!(motions.len(), Motion::ALL.len(), "every motion is checked");
    for scene in &scenes {
        let caps = captions(scene, &tunes);
        assert!(caps.full.contains(&caps.visual) && caps.full.contains(&caps.audio));
        assert!(
            caps.visual
                .to_lowercase()
                .contains(scene.background.phrase()),
            "{}",
            caps.visual
        );
        assert!(
            caps.audio.contains(scene.background.ambience().word()),
            "{}",
            caps.audio
        );
        if let Some(sp) = &scene.speech {
            assert!(
                caps.audio.contains(&format!("\"{}\"", sp.text)),
                "{}",
                caps.audio
            );
        }
        if let Some(m) = &scene.melody {
            assert!(caps.audio.contains(&tunes[m.tune].name), "{}", caps.audio);
        }
        let frames = scene_frames(scene, &tunes, FORMAT);
        let seen: Vec<Vec<Blob>> = frames.iter().map(blobs).collect();
        assert_eq!(frames.len(), (scene.duration_s * 8.0).round() as usize);
        for colour in Colour::ALL {
            let named = scene.objects.iter().any(|o| o.colour == *colour);
            let drawn = seen
                .iter()
                .map(|b| b[colour.index()].map(|b| b.2).unwrap_or(0))
                .max()
                .unwrap_or(0);
            let said = caps
                .visual
                .split([' ', ',', '.', ':'])
                .any(|w| w == colour.word());
            assert_eq!(named, said, "{:?} in {:?}", colour, caps.visual);
            if named {
                assert!(
                    drawn > 60,
                    "{colour:?} named but {drawn} pixels drawn ({})",
                    scene.id
                );
            } else {
                assert!(
                    drawn < 5,
                    "{colour:?} not named but {drawn} pixels drawn ({})",
                    scene.id
                );
            }
        }
        for thing in &scene.objects {
            assert!(caps.visual.contains(&thing.name()), "{}", caps.visual);
            assert!(caps.visual.contains(thing.motion.verb()), "{}", caps.visual);
            assert!(
                caps.audio.contains(thing.kind.instrument().word()),
                "{}",
                caps.audio
            );
            assert!(
                caps.audio.contains(thing.colour.register_word()),
                "{}",
                caps.audio
            );
            check_motion(scene, thing, &frames, &seen);
        }
    }
}

/// The frames show the motion the caption names.
fn check_motion(scene: &Scene, thing: &Thing, frames: &[Frame], seen: &[Vec<Blob>]) {
    let (motion, span) = (thing.motion, thing.span);
    let track: Vec<(f64, f64, usize)> = seen
        .iter()
        .filter_map(|b| b[thing.colour.index()])
        .collect();
    assert_eq!(track.len(), frames.len(), "{} stays in view", scene.id);
    // Fully in view: the shape never loses more than a sliver to the frame edge or the other
    // shape (checked by its size staying put unless it pulses or dances).
    let xs = track.iter().map(|t| t.0);
    let ys = track.iter().map(|t| t.1);
    let sizes = track.iter().map(|t| t.2 as f64);
    let (dx, dy) = (range(xs.clone()), range(ys.clone()));
    let size_ratio = sizes.clone().fold(f64::MIN, f64::max) / sizes.fold(f64::MAX, f64::min);
    let what = format!(
        "{} {:?}: dx {dx:.2} dy {dy:.2} size ×{size_ratio:.2}",
        scene.id, motion
    );
    match motion {
        Motion::Bouncing => assert!(dy > 0.15 && dx < 0.03 && size_ratio < 1.3, "{what}"),
        Motion::Sliding => {
            let travel = (track[track.len() - 1].0 - track[0].0).abs();
            assert!(
                travel > 0.45 * span && dy < 0.03 && size_ratio < 1.3,
                "{what}, travel {travel:.2}"
            );
        }
        Motion::Spinning => {
            assert!(dx < 0.04 && dy < 0.04, "{what}");
            assert!(
                frames.windows(2).any(|w| w[0] != w[1]),
                "{what}: nothing turns"
            );
        }
        Motion::Orbiting => {
            assert!(
                dx > 0.25 * span.sqrt() && dy > 0.25 * span.sqrt() && size_ratio < 1.3,
                "{what}"
            )
        }
        Motion::Zigzagging => assert!(dx > 0.25 * span && dy > 0.2 && size_ratio < 1.3, "{what}"),
        Motion::Pulsing => assert!(size_ratio > 1.8 && dx < 0.03 && dy < 0.03, "{what}"),
        Motion::Dancing => assert!(dy > 0.1, "{what}"),
    }
}

/// A question cannot be answered from the clip's gist: among its distractors are things the
/// clip does show or sound (of another kind than asked), so only the question singles out
/// the answer.
#[test]
fn questions_offer_the_clips_own_facts_as_distractors() {
    let (scenes, tunes) = scenes(40);
    let mut asked = 0;
    for scene in &scenes {
        let mut facts: Vec<String> = vec![
            scene.background.word().to_string(),
            scene.background.ambience().word().to_string(),
            ["one", "two", "three", "four"][scene.objects.len().clamp(1, 4) - 1].to_string(),
        ];
        if let Some(m) = &scene.melody {
            facts.push(wave_synth::world::tempo_word(m.bpm).to_string());
            facts.push(tunes[m.tune].name.clone());
        }
        for thing in &scene.objects {
            facts.push(thing.colour.word().to_string());
            facts.push(thing.kind.word().to_string());
            facts.push(thing.motion.word().to_string());
            facts.push(thing.kind.instrument().word().to_string());
        }
        for q in wave_synth::caption::questions(scene, &tunes) {
            asked += 1;
            assert_eq!(q.distractors.len(), 3, "{q:?}");
            assert!(!q.distractors.contains(&q.answer), "{q:?}");
            let own = q.distractors.iter().filter(|d| facts.contains(d)).count();
            assert!(own >= 1, "no distractor of {q:?} is true of the clip");
            let question = q.question.to_lowercase();
            for d in q.distractors.iter().filter(|d| facts.contains(d)) {
                assert!(!question.contains(d.as_str()), "{q:?} names its distractor");
            }
        }
    }
    assert!(asked >= 80, "only {asked} questions");
}
