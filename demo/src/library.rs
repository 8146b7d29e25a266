//! The demo library: a synthetic corpus (`wave-synth`) whose audio-video clips are the videos
//! to find and whose hum recordings are sample queries. Generated once per (seed, count) and
//! reused afterwards.

use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;
use wave_synth::SynthOptions;

use crate::error::DemoError;

/// Scenes the default demo library has: one audio-video clip each, so at least 100 videos.
pub const DEFAULT_COUNT: usize = 100;
/// Seed of the default demo library.
pub const DEFAULT_SEED: u64 = 7;

/// The ingest manifest of the library's videos, inside the library folder.
const VIDEOS_MANIFEST: &str = "demo-videos.jsonl";
/// Folder of the videos' thumbnails (`<id>.jpg`), inside the library folder.
const THUMBS_DIR: &str = "thumbs";

/// A video of the library (one synthetic scene's audio-video clip).
#[derive(Debug, Clone, Serialize)]
pub struct LibraryVideo {
    /// Item id in the store.
    pub id: String,
    pub path: PathBuf,
    pub title: String,
    pub caption: String,
    pub duration_s: f64,
    /// Catalogue id of the tune it plays, for melody scenes.
    pub melody: Option<u64>,
    pub tags: Vec<String>,
}

/// A hum recording of the corpus: a ready query.
#[derive(Debug, Clone, Serialize)]
pub struct LibraryHum {
    pub id: String,
    pub path: PathBuf,
    pub caption: String,
    /// The video (item id) it was hummed after.
    pub video_id: String,
    pub melody: Option<u64>,
    pub melody_name: String,
    pub duration_s: f64,
}

/// A generated demo library on disk.
#[derive(Debug, Clone)]
pub struct DemoLibrary {
    pub root: PathBuf,
    pub videos: Vec<LibraryVideo>,
    pub hums: Vec<LibraryHum>,
}

/// Where a demo keeps its files: `<dir>/library-s<seed>-n<count>` and
/// `<dir>/store-s<seed>-n<count>`.
#[derive(Debug, Clone)]
pub struct DemoPaths {
    pub library: PathBuf,
    pub store: PathBuf,
}

impl DemoPaths {
    pub fn new(dir: &Path, seed: u64, count: usize) -> DemoPaths {
        DemoPaths {
            library: dir.join(format!("library-s{seed}-n{count}")),
            store: dir.join(format!("store-s{seed}-n{count}")),
        }
    }
}

impl DemoLibrary {
    /// Generates the library into `root` unless a complete one (same seed and count) is there,
    /// then writes its video manifest and thumbnails. `progress(done, total)` follows the
    /// generation.
    pub fn prepare(
        root: &Path,
        seed: u64,
        count: usize,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<DemoLibrary, DemoError> {
        if !is_complete(root, seed) {
            let mut opts = SynthOptions::new(seed, root);
            opts.count = Some(count);
            // Replaces only what an interrupted earlier run of the generator left.
            opts.force = true;
            wave_synth::generate(&opts, progress)?;
        }
        let library = DemoLibrary::open(root)?;
        library.write_manifest()?;
        library.write_thumbnails()?;
        Ok(library)
    }

    /// Reads a generated library (every split's `corpus.jsonl`).
    pub fn open(root: &Path) -> Result<DemoLibrary, DemoError> {
        let root = root
            .canonicalize()
            .map_err(|e| DemoError::io(root, "opening the demo library", e))?;
        let mut videos = Vec::new();
        let mut hums = Vec::new();
        for split in ["train", "val", "test"] {
            let corpus = root.join(split).join("corpus.jsonl");
            let file = std::fs::File::open(&corpus)
                .map_err(|e| DemoError::io(&corpus, "reading the corpus", e))?;
            for (n, line) in BufReader::new(file).lines().enumerate() {
                let line = line.map_err(|e| DemoError::io(&corpus, "reading the corpus", e))?;
                let record: Value = serde_json::from_str(&line).map_err(|e| DemoError::Corpus {
                    path: corpus.clone(),
                    line: n + 1,
                    reason: e.to_string(),
                })?;
                let split_dir = root.join(split);
                match record["modality"].as_str() {
                    Some("audio_video") => videos.push(video_of(&record, &split_dir)),
                    Some("hum") => hums.push(hum_of(&record, &split_dir)),
                    _ => {}
                }
            }
        }
        videos.retain(|v| v.path.is_file());
        hums.retain(|h| h.path.is_file());
        Ok(DemoLibrary { root, videos, hums })
    }

    pub fn manifest_path(&self) -> PathBuf {
        self.root.join(VIDEOS_MANIFEST)
    }

    pub fn thumbs_dir(&self) -> PathBuf {
        self.root.join(THUMBS_DIR)
    }

    /// The thumbnail of video `id` (a library id, so a plain file name).
    pub fn thumbnail_path(&self, id: &str) -> PathBuf {
        self.thumbs_dir().join(format!("{id}.jpg"))
    }

    pub fn video(&self, id: &str) -> Option<&LibraryVideo> {
        self.videos.iter().find(|v| v.id == id)
    }

    pub fn hum(&self, id: &str) -> Option<&LibraryHum> {
        self.hums.iter().find(|h| h.id == id)
    }

    /// The ingest manifest of the videos (absolute paths, titles, captions, tags); hums stay
    /// out of the library: they are the queries.
    fn write_manifest(&self) -> Result<(), DemoError> {
        let path = self.manifest_path();
        let mut out = Vec::new();
        for v in &self.videos {
            let line = serde_json::json!({
                "path": v.path,
                "id": v.id,
                "title": v.title,
                "caption": v.caption,
                "tags": v.tags,
            });
            serde_json::to_writer(&mut out, &line).map_err(|e| DemoError::Corpus {
                path: path.clone(),
                line: 0,
                reason: e.to_string(),
            })?;
            out.push(b'\n');
        }
        write_atomically(&path, &out)
    }

    /// One frame from the middle of each video, 224 px square; existing ones are kept.
    fn write_thumbnails(&self) -> Result<(), DemoError> {
        let dir = self.thumbs_dir();
        std::fs::create_dir_all(&dir).map_err(|e| DemoError::io(&dir, "creating", e))?;
        for v in &self.videos {
            let thumb = self.thumbnail_path(&v.id);
            if !thumb.is_file() {
                crate::thumbnail::extract_frame(&v.path, v.duration_s / 2.0, &thumb)?;
            }
        }
        Ok(())
    }
}

/// Whether `root` holds a finished corpus of `seed` (the generator writes `corpus.json` last).
fn is_complete(root: &Path, seed: u64) -> bool {
    let Ok(text) = std::fs::read_to_string(root.join("corpus.json")) else {
        return false;
    };
    serde_json::from_str::<Value>(&text)
        .map(|v| v["seed"].as_u64() == Some(seed))
        .unwrap_or(false)
}

fn str_of(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

fn video_of(r: &Value, split_dir: &Path) -> LibraryVideo {
    let title = match r["melody_name"].as_str() {
        Some(tune) => format!(
            "“{tune}” on {} in {}",
            r["instrument"].as_str().unwrap_or("an instrument"),
            r["key"].as_str().unwrap_or("some key")
        ),
        None => {
            let o = &r["objects"][0];
            format!(
                "{} {}, {}",
                o["colour"].as_str().unwrap_or_default(),
                o["kind"].as_str().unwrap_or("shape"),
                o["motion"].as_str().unwrap_or_default()
            )
        }
    };
    LibraryVideo {
        id: str_of(r, "id"),
        path: split_dir.join(str_of(r, "path")),
        title,
        caption: str_of(r, "caption"),
        duration_s: r["duration_s"].as_f64().unwrap_or(0.0),
        melody: r["melody"].as_u64(),
        tags: r["tags"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn hum_of(r: &Value, split_dir: &Path) -> LibraryHum {
    LibraryHum {
        id: str_of(r, "id"),
        path: split_dir.join(str_of(r, "path")),
        caption: str_of(r, "caption"),
        // Every scene's clips share `pair_of`; its audio-video clip is `<scene>.av`.
        video_id: format!("{}.av", str_of(r, "pair_of")),
        melody: r["melody"].as_u64(),
        melody_name: str_of(r, "melody_name"),
        duration_s: r["duration_s"].as_f64().unwrap_or(0.0),
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), DemoError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| DemoError::io(dir, "creating a file in", e))?;
    tmp.write_all(bytes)
        .map_err(|e| DemoError::io(path, "writing", e))?;
    tmp.persist(path)
        .map_err(|e| DemoError::io(path, "writing", e.error))?;
    Ok(())
}
