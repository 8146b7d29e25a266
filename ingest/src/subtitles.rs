//! Transcripts that travel with media: SRT/VTT cues with timestamps, or plain text.
//!
//! A clip cut from the media later asks for [`Transcript::text_between`] its `[start, end]`, so
//! cue times are kept, not flattened.

use std::path::Path;

use crate::error::{IngestError, Result};

/// One subtitle cue: text shown from `start` to `end` seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    pub start: f64,
    pub end: f64,
    /// Cue text with markup (`<i>`, `<v Speaker>`, `{\an8}`) removed and lines joined by a space.
    pub text: String,
}

/// Text that belongs to a media item.
#[derive(Debug, Clone, PartialEq)]
pub enum Transcript {
    /// Time-coded cues, sorted by start time (from `.srt` / `.vtt`).
    Timed(Vec<Cue>),
    /// Untimed text (from a `.txt` sidecar or a manifest `transcript` field): it applies to
    /// every clip of the item.
    Plain(String),
}

impl Transcript {
    /// The text of the cues that overlap `[start, end]` seconds, joined by spaces, in time
    /// order; a plain transcript returns all of its text.
    pub fn text_between(&self, start: f64, end: f64) -> String {
        match self {
            Transcript::Plain(text) => text.clone(),
            Transcript::Timed(cues) => join(cues.iter().filter(|c| {
                // A zero-length cue counts when its instant lies inside the range.
                (c.start < end && c.end > start)
                    || (c.start == c.end && c.start >= start && c.start < end)
            })),
        }
    }

    /// All of the text.
    pub fn full_text(&self) -> String {
        match self {
            Transcript::Plain(text) => text.clone(),
            Transcript::Timed(cues) => join(cues.iter()),
        }
    }
}

fn join<'a>(cues: impl Iterator<Item = &'a Cue>) -> String {
    cues.map(|c| c.text.as_str())
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads a sidecar file: `.srt` and `.vtt` become [`Transcript::Timed`], anything else
/// (`.txt`) [`Transcript::Plain`]. Text that is not UTF-8 is read as Latin-1, the usual
/// encoding of old subtitle files.
pub fn load_sidecar(path: &Path) -> Result<Transcript> {
    let bytes = std::fs::read(path).map_err(|e| IngestError::io(path, e))?;
    let text = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => e.into_bytes().iter().map(|&b| b as char).collect(),
    };
    match crate::kind::extension(path).as_str() {
        "srt" | "vtt" => Ok(Transcript::Timed(parse_cues(&text, path)?)),
        _ => Ok(Transcript::Plain(text.trim().to_string())),
    }
}

/// Parses SRT or WebVTT text into cues sorted by start time. Cue numbers, the `WEBVTT` header,
/// `NOTE`/`STYLE`/`REGION` blocks and cue settings are skipped; a block with text but no
/// `-->` timing line, or a timestamp that does not parse, is an error naming the line.
pub fn parse_cues(text: &str, path: &Path) -> Result<Vec<Cue>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let mut cues = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim().is_empty() {
            i += 1;
            continue;
        }
        // A block runs to the next blank line.
        let first = i;
        while i < lines.len() && !lines[i].trim().is_empty() {
            i += 1;
        }
        let block = &lines[first..i];
        let head = block[0].trim_start();
        if head.starts_with("WEBVTT")
            || head.starts_with("NOTE")
            || head == "STYLE"
            || head == "REGION"
        {
            continue;
        }
        // The timing line is the first or (after a cue id) the second line of the block.
        let Some(t) = block.iter().take(2).position(|l| l.contains("-->")) else {
            return Err(bad(
                path,
                first,
                "cue without a `start --> end` timing line",
            ));
        };
        let line_no = first + t;
        let (start, end) = parse_timing(block[t]).ok_or_else(|| {
            bad(
                path,
                line_no,
                &format!("cannot parse timing {:?}", block[t]),
            )
        })?;
        if end < start {
            return Err(bad(path, line_no, "cue ends before it starts"));
        }
        let text = block[t + 1..]
            .iter()
            .map(|l| strip_markup(l))
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        cues.push(Cue { start, end, text });
    }
    cues.sort_by(|a, b| a.start.total_cmp(&b.start));
    Ok(cues)
}

fn bad(path: &Path, index: usize, reason: &str) -> IngestError {
    IngestError::Subtitle {
        path: path.to_path_buf(),
        line: index + 1,
        reason: reason.to_string(),
    }
}

/// `00:00:01,000 --> 00:00:04,000 [vtt settings]` → (1.0, 4.0).
fn parse_timing(line: &str) -> Option<(f64, f64)> {
    let (a, b) = line.split_once("-->")?;
    let end = b.split_whitespace().next()?;
    Some((parse_timestamp(a.trim())?, parse_timestamp(end)?))
}

/// `hh:mm:ss,mmm`, `hh:mm:ss.mmm` or `mm:ss.mmm` → seconds.
fn parse_timestamp(s: &str) -> Option<f64> {
    let s = s.replace(',', ".");
    let parts: Vec<&str> = s.split(':').collect();
    let (h, m, sec) = match parts.as_slice() {
        [h, m, sec] => (h.parse::<u64>().ok()?, m.parse::<u64>().ok()?, *sec),
        [m, sec] => (0, m.parse::<u64>().ok()?, *sec),
        _ => return None,
    };
    if !sec.chars().all(|c| c.is_ascii_digit() || c == '.') || m >= 60 {
        return None;
    }
    let sec: f64 = sec.parse().ok()?;
    if sec >= 60.0 {
        return None;
    }
    Some(h as f64 * 3600.0 + m as f64 * 60.0 + sec)
}

/// Removes `<...>` tags and `{...}` override blocks and decodes the common HTML entities.
fn strip_markup(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut closer = None;
    for c in line.chars() {
        match (closer, c) {
            (None, '<') => closer = Some('>'),
            (None, '{') => closer = Some('}'),
            (None, _) => out.push(c),
            (Some(close), _) if c == close => closer = None,
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
        .trim()
        .to_string()
}
