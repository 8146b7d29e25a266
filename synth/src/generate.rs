//! The whole corpus: options, the output folder, planning every split, rendering scenes in
//! parallel and writing the manifests.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use serde::Serialize;

use crate::clip::{render_scene, VideoFormat, SAMPLE_RATE};
use crate::encode::check_ffmpeg;
use crate::error::{Result, SynthError};
use crate::melody::{catalogue, Tune};
use crate::plan::{draw_scene, is_melody_scene, restrict_style, HoldOuts, Timing};
use crate::record::{ManifestEntry, Record};
use crate::scene::{HumStyle, Scene, Split};
use crate::speech::check_espeak;
use crate::world::{Ambience, Background, Colour, Instrument, Kind, Motion};

/// Version of the corpus layout, written to `corpus.json`.
pub const FORMAT_VERSION: u32 = 1;

/// Preset corpus sizes: scenes per split (train, val, test).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorpusSize {
    /// 320 scenes (about 2 000 searchable items): quick experiments.
    Small,
    /// 2 000 scenes (about 12 800 items): training the default model.
    Full,
}

impl CorpusSize {
    /// Scenes in train, val and test.
    pub fn scenes(self) -> [usize; 3] {
        match self {
            CorpusSize::Small => [240, 40, 40],
            CorpusSize::Full => [1600, 200, 200],
        }
    }

    /// The option word.
    pub fn word(self) -> &'static str {
        match self {
            CorpusSize::Small => "small",
            CorpusSize::Full => "full",
        }
    }
}

impl FromStr for CorpusSize {
    type Err = SynthError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "small" => Ok(CorpusSize::Small),
            "full" => Ok(CorpusSize::Full),
            other => Err(SynthError::InvalidArgument(format!(
                "unknown corpus size {other:?} (expected small or full)"
            ))),
        }
    }
}

/// Fewest scenes `count` may ask for: two per split, so each split has an object scene and a
/// melody scene.
pub const MIN_COUNT: usize = 6;

/// What to generate and where.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthOptions {
    pub seed: u64,
    pub out: PathBuf,
    pub size: CorpusSize,
    /// Total scenes instead of the size preset (80 % train, 10 % val, 10 % test).
    pub count: Option<usize>,
    /// Write into a non-empty `out` (replacing a corpus already there).
    pub force: bool,
    /// Frame side in pixels (square frames).
    pub frame_side: usize,
    pub fps: u32,
    /// The voices hum queries are performed in (all three by default).
    pub hum_styles: Vec<HumStyle>,
    /// The splits to write (all three by default).
    pub splits: Vec<Split>,
    /// Index of the first train scene to write: the earlier ones are skipped, and every scene
    /// written is byte for byte the one a full run writes (0 by default). With a larger
    /// `count`, this adds new train scenes to a corpus already generated without redrawing
    /// the ones it has.
    pub train_from: usize,
}

impl SynthOptions {
    /// Defaults: small size, 112×112 frames at 8 fps.
    pub fn new(seed: u64, out: impl Into<PathBuf>) -> Self {
        SynthOptions {
            seed,
            out: out.into(),
            size: CorpusSize::Small,
            count: None,
            force: false,
            frame_side: 112,
            fps: 8,
            hum_styles: HumStyle::ALL.to_vec(),
            splits: Split::ALL.to_vec(),
            train_from: 0,
        }
    }

    /// Scenes per split (train, val, test), checked.
    pub fn scenes_per_split(&self) -> Result<[usize; 3]> {
        match self.count {
            None => Ok(self.size.scenes()),
            Some(n) if n < MIN_COUNT => Err(SynthError::InvalidArgument(format!(
                "count must be at least {MIN_COUNT} (two scenes per split), got {n}"
            ))),
            Some(n) => {
                let held = (n / 10).max(2);
                Ok([n - 2 * held, held, held])
            }
        }
    }

    fn validate(&self) -> Result<()> {
        let [train, ..] = self.scenes_per_split()?;
        if self.splits.is_empty() {
            return Err(SynthError::InvalidArgument(
                "at least one split is needed".into(),
            ));
        }
        if self.train_from > 0 && !self.splits.contains(&Split::Train) {
            return Err(SynthError::InvalidArgument(format!(
                "train-from {} asks for train scenes, but train is not among the splits to write",
                self.train_from
            )));
        }
        if self.train_from >= train && self.splits.contains(&Split::Train) {
            return Err(SynthError::InvalidArgument(format!(
                "train-from must be below the {train} train scenes, got {}",
                self.train_from
            )));
        }
        if self.hum_styles.is_empty() {
            return Err(SynthError::InvalidArgument(
                "at least one hum style is needed".into(),
            ));
        }
        if !(16..=1024).contains(&self.frame_side) || !self.frame_side.is_multiple_of(2) {
            return Err(SynthError::InvalidArgument(format!(
                "frame side must be even and within 16..=1024, got {}",
                self.frame_side
            )));
        }
        if !(1..=60).contains(&self.fps) || !SAMPLE_RATE.is_multiple_of(self.fps) {
            return Err(SynthError::InvalidArgument(format!(
                "fps must be within 1..=60 and divide {SAMPLE_RATE}, got {}",
                self.fps
            )));
        }
        Ok(())
    }
}

/// What was generated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorpusSummary {
    pub seed: u64,
    pub size: &'static str,
    pub format_version: u32,
    pub sample_rate: u32,
    pub frame_width: usize,
    pub frame_height: usize,
    pub fps: u32,
    /// Scenes, manifest items and questions per split.
    pub splits: Vec<SplitSummary>,
    pub vocabulary: Vocabulary,
    pub held_out: HoldOuts,
    pub melodies: Vec<Tune>,
}

/// Counts for one split.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitSummary {
    pub split: Split,
    pub scenes: usize,
    pub items: usize,
    pub questions: usize,
    pub hums: usize,
    /// Index of the split's first scene (non-zero only for train written with `train_from`).
    #[serde(skip_serializing_if = "is_zero")]
    pub first_scene: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The world's words and the ties between what is seen and heard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Vocabulary {
    pub kinds: Vec<Kind>,
    pub colours: Vec<Colour>,
    pub motions: Vec<Motion>,
    pub backgrounds: Vec<Background>,
    pub instruments: Vec<Instrument>,
    pub ambiences: Vec<Ambience>,
    /// kind → instrument, colour → lowest pitch of its register (Hz), background → ambience.
    pub kind_instrument: Vec<(Kind, Instrument)>,
    pub colour_register_hz: Vec<(Colour, f64)>,
    pub background_ambience: Vec<(Background, Ambience)>,
}

impl Vocabulary {
    fn new() -> Self {
        Vocabulary {
            kinds: Kind::ALL.to_vec(),
            colours: Colour::ALL.to_vec(),
            motions: Motion::ALL.to_vec(),
            backgrounds: Background::ALL.to_vec(),
            instruments: Instrument::ALL.to_vec(),
            ambiences: Ambience::ALL.to_vec(),
            kind_instrument: Kind::ALL.iter().map(|k| (*k, k.instrument())).collect(),
            colour_register_hz: Colour::ALL.iter().map(|c| (*c, c.register_hz())).collect(),
            background_ambience: Background::ALL.iter().map(|b| (*b, b.ambience())).collect(),
        }
    }
}

/// Every scene of the corpus, planned but not rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub tunes: Vec<Tune>,
    pub holdouts: HoldOuts,
    pub scenes: Vec<Scene>,
}

/// Plans the scenes `opts` writes (cheap: no audio, video or files).
pub fn plan(opts: &SynthOptions) -> Result<Plan> {
    opts.validate()?;
    let tunes = catalogue();
    let holdouts = HoldOuts::new(opts.seed, tunes.len());
    let timing = Timing { fps: opts.fps };
    let mut scenes = Vec::new();
    for (split, count) in Split::ALL.into_iter().zip(opts.scenes_per_split()?) {
        if !opts.splits.contains(&split) {
            continue;
        }
        let first = first_scene(opts, split);
        // A melody scene's tune is drawn by its rank among the split's melody scenes, so the
        // skipped ones are still counted.
        let mut melody_index = (0..first).filter(|i| is_melody_scene(*i)).count();
        for index in first..count {
            let mut scene = draw_scene(
                opts.seed,
                split,
                index,
                melody_index,
                &tunes,
                &holdouts,
                timing,
            );
            for hum in &mut scene.hums {
                restrict_style(hum, &opts.hum_styles);
            }
            scenes.push(scene);
            if is_melody_scene(index) {
                melody_index += 1;
            }
        }
    }
    Ok(Plan {
        tunes,
        holdouts,
        scenes,
    })
}

/// Index of the first scene of `split` that `opts` writes.
fn first_scene(opts: &SynthOptions, split: Split) -> usize {
    if split == Split::Train {
        opts.train_from
    } else {
        0
    }
}

/// The files of a corpus this crate writes at the top of `out` (removed by `force`).
const OWNED: [&str; 4] = ["train", "val", "test", "corpus.json"];

/// Makes `out` ready: created if missing; if it has entries, refused unless `force`, which
/// removes only what a previous corpus wrote there.
fn prepare_out(out: &Path, force: bool, splits: &[Split]) -> Result<()> {
    if out.exists() {
        if !out.is_dir() {
            return Err(SynthError::InvalidArgument(format!(
                "{} is not a folder",
                out.display()
            )));
        }
        let mut entries = std::fs::read_dir(out).map_err(|e| SynthError::io(out, e))?;
        if entries.next().is_some() {
            if !force {
                return Err(SynthError::OutputNotEmpty {
                    path: out.to_path_buf(),
                });
            }
            for name in OWNED {
                let p = out.join(name);
                let removed = if p.is_dir() {
                    std::fs::remove_dir_all(&p)
                } else if p.exists() {
                    std::fs::remove_file(&p)
                } else {
                    Ok(())
                };
                removed.map_err(|e| SynthError::io(&p, e))?;
            }
        }
    }
    for split in Split::ALL {
        if !splits.contains(&split) {
            continue;
        }
        let media = out.join(split.word()).join("media");
        std::fs::create_dir_all(&media).map_err(|e| SynthError::io(&media, e))?;
    }
    Ok(())
}

fn write_lines<T: Serialize>(path: &Path, lines: impl Iterator<Item = T>) -> Result<()> {
    let file = File::create(path).map_err(|e| SynthError::io(path, e))?;
    let mut w = BufWriter::new(file);
    for line in lines {
        serde_json::to_writer(&mut w, &line)?;
        w.write_all(b"\n").map_err(|e| SynthError::io(path, e))?;
    }
    w.flush().map_err(|e| SynthError::io(path, e))
}

/// Generates the corpus into `opts.out`. `progress(done, total)` is called after each scene
/// (from worker threads).
pub fn generate(
    opts: &SynthOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<CorpusSummary> {
    let plan = plan(opts)?;
    check_ffmpeg()?;
    check_espeak()?;
    prepare_out(&opts.out, opts.force, &opts.splits)?;
    let format = VideoFormat {
        width: opts.frame_side,
        height: opts.frame_side,
        fps: opts.fps,
    };
    let total = plan.scenes.len();
    let done = AtomicUsize::new(0);
    // Workers spend much of their time waiting on ffmpeg and espeak-ng child processes, so
    // twice as many workers as cores keeps the cores busy.
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2 * cores)
        .build()
        .map_err(|e| SynthError::InvalidArgument(format!("cannot start worker threads: {e}")))?;
    let mut splits = Vec::new();
    for split in Split::ALL {
        if !opts.splits.contains(&split) {
            continue;
        }
        let dir = opts.out.join(split.word());
        let scenes: Vec<&Scene> = plan.scenes.iter().filter(|s| s.split == split).collect();
        // Scenes are independent (each has its own seed), so rendering order cannot change a byte.
        let rendered: Vec<Vec<Record>> = pool.install(|| {
            scenes
                .par_iter()
                .map(|scene| {
                    let records = render_scene(scene, &plan.tunes, &dir, format);
                    progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                    records
                })
                .collect::<Result<_>>()
        })?;
        let records: Vec<&Record> = rendered.iter().flatten().collect();
        write_lines(&dir.join("corpus.jsonl"), records.iter())?;
        write_lines(
            &dir.join("manifest.jsonl"),
            records.iter().filter_map(|r| ManifestEntry::from_record(r)),
        )?;
        let count = |m: crate::record::Modality| records.iter().filter(|r| r.modality == m).count();
        splits.push(SplitSummary {
            split,
            scenes: scenes.len(),
            items: records
                .iter()
                .filter(|r| ManifestEntry::from_record(r).is_some())
                .count(),
            questions: count(crate::record::Modality::Qa),
            hums: count(crate::record::Modality::Hum),
            first_scene: first_scene(opts, split),
        });
    }
    let summary = CorpusSummary {
        seed: opts.seed,
        size: if opts.count.is_some() {
            "count"
        } else {
            opts.size.word()
        },
        format_version: FORMAT_VERSION,
        sample_rate: SAMPLE_RATE,
        frame_width: format.width,
        frame_height: format.height,
        fps: format.fps,
        splits,
        vocabulary: Vocabulary::new(),
        held_out: plan.holdouts,
        melodies: plan.tunes,
    };
    let path = opts.out.join("corpus.json");
    let json = serde_json::to_vec_pretty(&summary)?;
    std::fs::write(&path, json).map_err(|e| SynthError::io(&path, e))?;
    Ok(summary)
}
