//! The two halves of the idempotency key: what an item was built from (content hash) and which
//! model embedded it (model id).

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{IngestError, Result};
use crate::item::{Source, WorkItem};
use crate::subtitles::Transcript;

/// Bumped when the way items are cut or described changes, so old records are redone.
const RECIPE_VERSION: &str = "wave-ingest/1";

/// Bytes of each end of a weight file that go into the model id.
const MODEL_SAMPLE_BYTES: u64 = 1 << 20;

/// The content hash of a work item: SHA-256 over the media bytes (or inline text), the
/// metadata that travels with it (title, caption, tags, transcript) and `recipe` (the
/// segmentation and decoding settings), so that changing any of them re-ingests the item.
/// Returned as `sha256:<hex>`.
pub fn content_hash(item: &WorkItem, recipe: &str) -> Result<String> {
    let mut h = Sha256::new();
    field(&mut h, RECIPE_VERSION.as_bytes());
    field(&mut h, recipe.as_bytes());
    match &item.source {
        Source::Inline(text) => field(&mut h, text.as_bytes()),
        Source::File(path) => hash_file(&mut h, path)?,
    }
    for text in [&item.title, &item.caption] {
        field(&mut h, text.as_deref().unwrap_or("").as_bytes());
    }
    field(&mut h, item.tags.join("\u{1f}").as_bytes());
    let transcript = match &item.transcript {
        None => String::new(),
        Some(Transcript::Plain(t)) => format!("plain:{t}"),
        Some(Transcript::Timed(cues)) => cues
            .iter()
            .map(|c| format!("{}-{}:{}", c.start, c.end, c.text))
            .collect::<Vec<_>>()
            .join("\u{1e}"),
    };
    field(&mut h, transcript.as_bytes());
    Ok(format!("sha256:{}", hex(&h.finalize())))
}

/// A length-prefixed field, so that `("ab", "c")` and `("a", "bc")` hash differently.
fn field(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

fn hash_file(h: &mut Sha256, path: &Path) -> Result<()> {
    let mut file = std::fs::File::open(path).map_err(|e| IngestError::io(path, e))?;
    let mut buf = vec![0u8; 1 << 16];
    let mut len = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(|e| IngestError::io(path, e))?;
        if n == 0 {
            break;
        }
        len += n as u64;
        h.update(&buf[..n]);
    }
    h.update(len.to_le_bytes());
    Ok(())
}

/// The id of the model in `dir`: `<dir name>-<12 hex digits>`, the digits a SHA-256 over
/// `config.json`, the tokenizer and preprocessor files, and for every weight file its name,
/// size, first and last MiB. Sampling the weights keeps this instant on a multi-GB checkpoint
/// while any retrained or swapped checkpoint still changes it.
pub fn model_id(dir: &Path) -> Result<String> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .and_then(|rd| rd.collect::<std::io::Result<Vec<_>>>())
        .map_err(|e| IngestError::io(dir, e))?
        .into_iter()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    entries.sort();
    if !entries
        .iter()
        .any(|p| p.file_name() == Some("config.json".as_ref()))
    {
        return Err(IngestError::Config(format!(
            "{} is not a model directory (no config.json)",
            dir.display()
        )));
    }
    let mut h = Sha256::new();
    for path in &entries {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let ext = crate::kind::extension(path);
        match ext.as_str() {
            "json" => {
                field(&mut h, name.as_bytes());
                field(
                    &mut h,
                    &std::fs::read(path).map_err(|e| IngestError::io(path, e))?,
                );
            }
            "safetensors" | "bin" | "pt" | "pth" => {
                field(&mut h, name.as_bytes());
                sample_file(&mut h, path)?;
            }
            _ => {}
        }
    }
    let name = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "model".into());
    Ok(format!("{name}-{}", &hex(&h.finalize())[..12]))
}

fn sample_file(h: &mut Sha256, path: &Path) -> Result<()> {
    use std::io::{Seek, SeekFrom};
    let io = |e| IngestError::io(path, e);
    let mut file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    h.update(len.to_le_bytes());
    let mut buf = Vec::new();
    (&mut file)
        .take(MODEL_SAMPLE_BYTES)
        .read_to_end(&mut buf)
        .map_err(io)?;
    if len > MODEL_SAMPLE_BYTES {
        file.seek(SeekFrom::Start(
            len.saturating_sub(MODEL_SAMPLE_BYTES)
                .max(MODEL_SAMPLE_BYTES),
        ))
        .map_err(io)?;
        file.take(MODEL_SAMPLE_BYTES)
            .read_to_end(&mut buf)
            .map_err(io)?;
    }
    field(h, &buf);
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
