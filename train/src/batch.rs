//! Which scenes a retrieval batch holds.
//!
//! WAVE's sampler fills a batch at random. In our compositional world a random batch of 24
//! out of 1600 scenes seldom holds two scenes that differ in a single attribute, so the loss
//! rarely asks for the fine distinctions that rank the right clip first among 200. With
//! `--hard-negatives F`, that fraction of every batch is made of groups of near neighbours:
//! an anchor scene and the scenes whose caption shares most words with it. The rest of the
//! batch stays random, so the coarse distinctions keep their share of the loss.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::corpus::{Scene, Split};
use crate::model_dir::SplitMix64;
use crate::tasks::Task;

/// What makes two pairs each other's false negatives, so that they never share a batch and
/// are never remembered as each other's negatives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BatchKey {
    /// The caption, word for word (stages 1-17 of wave-tiny). Scenes that show the same
    /// things under captions worded differently count as negatives, and as each other's
    /// nearest neighbours they fill the groups of `--hard-negatives`.
    #[default]
    Caption,
    /// What the caption names, wording aside ([`crate::content`]).
    Content,
}

impl BatchKey {
    pub fn is_caption(&self) -> bool {
        *self == BatchKey::Caption
    }
}

/// Scenes per group of near neighbours: the anchor and the three closest to it.
const GROUP: usize = 4;

/// The scenes of `shuffled` reordered so that a batch taken from the front holds
/// `round(batch * hard_fraction)` scenes in groups of near neighbours, then random ones.
/// `key` names a scene's batch key; scenes with equal keys never count as neighbours (the
/// caller keeps one scene per key in a batch).
pub fn batch_order<'a>(
    task: Task,
    split: &Split,
    shuffled: &[&'a str],
    batch: usize,
    hard_fraction: f32,
    key: impl Fn(&str) -> String,
    rng: &mut SplitMix64,
) -> Vec<&'a str> {
    let hard = ((batch as f32) * hard_fraction).round() as usize;
    if hard < 2 {
        return shuffled.to_vec();
    }
    let words: Vec<Option<BTreeSet<String>>> = shuffled
        .iter()
        .map(|id| caption_of(task, &split.scenes[*id]).map(|c| word_set(&c)))
        .collect();
    let mut used = vec![false; shuffled.len()];
    let mut order = Vec::with_capacity(shuffled.len());
    let mut grouped = 0;
    // Anchors are taken at random so every scene gets to be one.
    let mut anchors: Vec<usize> = (0..shuffled.len()).collect();
    rng.shuffle(&mut anchors);
    for anchor in anchors {
        if grouped >= hard {
            break;
        }
        let Some(anchor_words) = &words[anchor] else {
            continue;
        };
        if used[anchor] {
            continue;
        }
        let anchor_key = key(shuffled[anchor]);
        let mut keys = BTreeSet::from([anchor_key]);
        let mut near: Vec<(f32, usize)> = (0..shuffled.len())
            .filter(|&i| !used[i] && i != anchor)
            .filter_map(|i| Some((jaccard(anchor_words, words[i].as_ref()?), i)))
            .collect();
        // Closest first; equal closeness keeps the shuffled order.
        near.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut group = vec![anchor];
        for (_, i) in near {
            if group.len() == GROUP.min(hard - grouped) {
                break;
            }
            if keys.insert(key(shuffled[i])) {
                group.push(i);
            }
        }
        if group.len() < 2 {
            continue;
        }
        for i in group {
            used[i] = true;
            order.push(shuffled[i]);
            grouped += 1;
        }
    }
    order.extend(
        shuffled
            .iter()
            .zip(&used)
            .filter(|(_, &u)| !u)
            .map(|(id, _)| *id),
    );
    order
}

/// The caption that describes both sides of a task's pair (none for hums: their pairs are
/// told apart by tune).
fn caption_of(task: Task, scene: &Scene) -> Option<String> {
    match task {
        Task::TextVideo => scene.text_visual.clone(),
        Task::TextAudio => scene.text_audio.clone(),
        Task::VideoAudio | Task::AudioVideoText => scene.text_full.clone(),
        Task::HumAudioVideo | Task::TextHum | Task::TuneAudioVideo | Task::Qa => None,
    }
}

fn word_set(caption: &str) -> BTreeSet<String> {
    caption
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn jaccard(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f32 {
    let shared = a.intersection(b).count();
    let all = a.len() + b.len() - shared;
    if all == 0 {
        0.0
    } else {
        shared as f32 / all as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    fn scene(visual: &str) -> Scene {
        Scene {
            audio: None,
            video: Some(format!("{visual}.v")),
            audio_video: None,
            text_full: None,
            text_visual: Some(visual.to_string()),
            text_audio: None,
            hums: Vec::new(),
            melody: None,
            tune_caption: None,
            content: None,
        }
    }

    #[test]
    fn groups_come_first_and_hold_the_closest_captions() {
        let captions = [
            "a red circle spins on grass",
            "a blue square bounces on sand",
            "a red circle spins on sand",
            "a green star pulses on water",
            "a red circle bounces on grass",
            "a blue star pulses on water",
            "a red square spins on grass",
            "a green circle slides on snow",
        ];
        let split = Split {
            dir: PathBuf::from("unused"),
            scenes: captions
                .iter()
                .map(|c| (c.to_string(), scene(c)))
                .collect::<BTreeMap<_, _>>(),
            questions: Vec::new(),
            media: BTreeMap::new(),
        };
        let ids: Vec<&str> = captions.to_vec();
        let key = |id: &str| id.to_string();
        let order = batch_order(
            Task::TextVideo,
            &split,
            &ids,
            8,
            0.5,
            key,
            &mut SplitMix64(3),
        );
        assert_eq!(
            order.len(),
            ids.len(),
            "every scene stays in the order once"
        );
        let set: BTreeSet<&str> = order.iter().copied().collect();
        assert_eq!(set.len(), ids.len());
        // The first four are one group: the anchor and the three captions closest to it.
        let (group, rest) = order.split_at(4);
        let anchor = word_set(group[0]);
        let closeness = |id: &str| jaccard(&anchor, &word_set(id));
        for member in &group[1..] {
            for other in rest {
                assert!(
                    closeness(member) >= closeness(other),
                    "{other:?} is closer to {:?} than group member {member:?}",
                    group[0]
                );
            }
        }
        // Without a hard fraction the shuffled order is kept.
        let plain = batch_order(
            Task::TextVideo,
            &split,
            &ids,
            8,
            0.0,
            |id: &str| id.to_string(),
            &mut SplitMix64(3),
        );
        assert_eq!(plain, ids);
    }
}
