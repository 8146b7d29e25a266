//! The training tasks. As in WAVE's `TypeAwareBatchSampler`, every batch is drawn from one
//! task: a retrieval pair type (text↔video, text↔audio, video↔audio, audio-video↔text,
//! hum↔audio-video; text↔hum and tune↔audio-video, not WAVE's) or question answering.

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
    /// A hum and what it is ("someone hums the tender candle tune"): the tune's name, which
    /// the audio-video captions also carry, as a clean anchor for the hum side. Not in WAVE's
    /// recipe and not among the default tasks.
    TextHum,
    /// A clip and the name of the tune it plays ("the tender candle tune"), so that a clip's
    /// embedding holds its tune, which a hum can then find. Not WAVE's, not a default task.
    TuneAudioVideo,
}

impl Task {
    /// Every task. A batch cycle orders its tasks as listed here, so a new task goes last
    /// (an earlier stage's `--tasks` then cycles as it did).
    pub const ALL: [Task; 8] = [
        Task::TextVideo,
        Task::TextAudio,
        Task::VideoAudio,
        Task::AudioVideoText,
        Task::HumAudioVideo,
        Task::Qa,
        Task::TextHum,
        Task::TuneAudioVideo,
    ];

    /// The tasks trained when `--tasks` is not given: WAVE's pair types and QA, the first six
    /// of [`Task::ALL`].
    pub const DEFAULT: &'static [Task] = Task::ALL.split_at(6).0;

    pub fn name(self) -> &'static str {
        match self {
            Task::TextVideo => "T<->V",
            Task::TextAudio => "T<->A",
            Task::VideoAudio => "V<->A",
            Task::AudioVideoText => "AV<->T",
            Task::HumAudioVideo => "hum<->AV",
            Task::Qa => "QA",
            Task::TextHum => "T<->hum",
            Task::TuneAudioVideo => "tune<->AV",
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
            Task::TextHum => "t-hum",
            Task::TuneAudioVideo => "tune-av",
        }
    }

    pub fn from_key(key: &str) -> Option<Task> {
        Task::ALL.into_iter().find(|t| t.key() == key)
    }

    /// Whether the task's pairs are a scene's hums (one pair per hum).
    pub fn pairs_hums(self) -> bool {
        matches!(self, Task::HumAudioVideo | Task::TextHum)
    }

    /// Whether the task's pairs are told apart by tune alone (one pair per tune in a batch).
    pub fn keyed_by_tune(self) -> bool {
        matches!(
            self,
            Task::HumAudioVideo | Task::TextHum | Task::TuneAudioVideo
        )
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
        let picks = if task.pairs_hums() {
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
            let hum = scene.hum(pick)?;
            Some((Side::Media(hum.id.clone()), media(&scene.audio_video)?))
        }
        Task::TextHum => {
            let hum = scene.hum(pick)?;
            Some((text(&hum.caption)?, Side::Media(hum.id.clone())))
        }
        Task::TuneAudioVideo => Some((text(&scene.tune_caption)?, media(&scene.audio_video)?)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::Hum;

    #[test]
    fn default_tasks_cycle_as_before_text_hum_was_added() {
        // A cycle orders its tasks by `ALL`: the default tasks keep their places in it.
        assert_eq!(
            Task::DEFAULT,
            [
                Task::TextVideo,
                Task::TextAudio,
                Task::VideoAudio,
                Task::AudioVideoText,
                Task::HumAudioVideo,
                Task::Qa
            ]
        );
        assert!(!Task::DEFAULT.contains(&Task::TextHum));
        assert!(!Task::DEFAULT.contains(&Task::TuneAudioVideo));
        assert_eq!(Task::from_key("t-hum"), Some(Task::TextHum));
        assert_eq!(Task::from_key("tune-av"), Some(Task::TuneAudioVideo));
    }

    #[test]
    fn text_hum_pairs_each_hum_with_its_caption_and_tune_av_a_clip_with_its_tune() {
        let hum = |n: usize, caption: Option<&str>| Hum {
            id: format!("s.hum{n}"),
            caption: caption.map(str::to_string),
        };
        let scene = Scene {
            audio_video: Some("s.av".into()),
            tune_caption: Some("the amber river tune".into()),
            hums: vec![
                hum(0, Some("someone hums the amber river tune")),
                hum(1, Some("someone whistles the amber river tune")),
            ],
            melody: Some(0),
            ..Scene::default()
        };
        assert_eq!(
            pair(Task::TextHum, &scene, 3),
            Some((
                Side::Text("someone whistles the amber river tune".into()),
                Side::Media("s.hum1".into())
            ))
        );
        assert_eq!(
            pair(Task::HumAudioVideo, &scene, 3),
            Some((Side::Media("s.hum1".into()), Side::Media("s.av".into())))
        );
        assert_eq!(
            pair(Task::TuneAudioVideo, &scene, 3),
            Some((
                Side::Text("the amber river tune".into()),
                Side::Media("s.av".into())
            ))
        );
        // A hum without a caption (an older corpus) gives no text<->hum pair.
        let uncaptioned = Scene {
            hums: vec![hum(0, None)],
            ..scene.clone()
        };
        assert_eq!(pair(Task::TextHum, &uncaptioned, 0), None);
        let split = Split {
            dir: "corpus/train".into(),
            scenes: [("s".to_string(), scene)].into_iter().collect(),
            questions: Vec::new(),
            media: Default::default(),
        };
        assert_eq!(media_of(Task::TextHum, &split), ["s.hum0", "s.hum1"]);
        assert_eq!(media_of(Task::TuneAudioVideo, &split), ["s.av"]);
    }
}
