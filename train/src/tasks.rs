//! The training tasks. As in WAVE's `TypeAwareBatchSampler`, every batch is drawn from one
//! task: a retrieval pair type (text↔video, text↔audio, video↔audio, audio-video↔text,
//! hum↔audio-video) or question answering.

use serde::{Deserialize, Serialize};

use crate::corpus::{Scene, Split};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Task {
    TextVideo,
    TextAudio,
    VideoAudio,
    AudioVideoText,
    HumAudioVideo,
    Qa,
}

impl Task {
    pub const ALL: [Task; 6] = [
        Task::TextVideo,
        Task::TextAudio,
        Task::VideoAudio,
        Task::AudioVideoText,
        Task::HumAudioVideo,
        Task::Qa,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Task::TextVideo => "T<->V",
            Task::TextAudio => "T<->A",
            Task::VideoAudio => "V<->A",
            Task::AudioVideoText => "AV<->T",
            Task::HumAudioVideo => "hum<->AV",
            Task::Qa => "QA",
        }
    }

    /// The task's name on the command line (`--tasks t-v,qa`).
    pub fn key(self) -> &'static str {
        match self {
            Task::TextVideo => "t-v",
            Task::TextAudio => "t-a",
            Task::VideoAudio => "v-a",
            Task::AudioVideoText => "av-t",
            Task::HumAudioVideo => "hum-av",
            Task::Qa => "qa",
        }
    }

    pub fn from_key(key: &str) -> Option<Task> {
        Task::ALL.into_iter().find(|t| t.key() == key)
    }
}

/// The media ids a task reads: both media sides of its pairs (every hum of a scene), or the
/// clips its questions ask about.
pub fn media_of(task: Task, split: &Split) -> Vec<String> {
    if task == Task::Qa {
        return split.questions.iter().map(|q| q.clip.clone()).collect();
    }
    let mut ids = Vec::new();
    for id in scenes_for(task, split) {
        let scene = &split.scenes[id];
        let picks = if task == Task::HumAudioVideo {
            scene.hums.len()
        } else {
            1
        };
        for pick in 0..picks {
            if let Some((a, b)) = pair(task, scene, pick) {
                for side in [a, b] {
                    if let Side::Media(m) = side {
                        ids.push(m);
                    }
                }
            }
        }
    }
    ids
}

/// One side of a retrieval pair.
#[derive(Debug, Clone, PartialEq)]
pub enum Side {
    Text(String),
    /// A media id of the split (its encoding is cached).
    Media(String),
}

/// The pair a scene gives for a retrieval task, if it has both sides.
pub fn pair(task: Task, scene: &Scene, pick: usize) -> Option<(Side, Side)> {
    let text = |t: &Option<String>| t.clone().map(Side::Text);
    let media = |m: &Option<String>| m.clone().map(Side::Media);
    match task {
        Task::TextVideo => Some((text(&scene.text_visual)?, media(&scene.video)?)),
        Task::TextAudio => Some((text(&scene.text_audio)?, media(&scene.audio)?)),
        Task::VideoAudio => Some((media(&scene.video)?, media(&scene.audio)?)),
        Task::AudioVideoText => Some((text(&scene.text_full)?, media(&scene.audio_video)?)),
        Task::HumAudioVideo => {
            let hum = scene.hums.get(pick % scene.hums.len().max(1))?;
            Some((Side::Media(hum.clone()), media(&scene.audio_video)?))
        }
        Task::Qa => None,
    }
}

/// Scenes usable for `task`, in a stable order.
pub fn scenes_for(task: Task, split: &Split) -> Vec<&str> {
    split
        .scenes
        .iter()
        .filter(|(_, s)| pair(task, s, 0).is_some())
        .map(|(id, _)| id.as_str())
        .collect()
}
