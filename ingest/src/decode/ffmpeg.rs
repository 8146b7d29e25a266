//! Running the system `ffmpeg` (through ffmpeg-sidecar, which never downloads a binary here)
//! and collecting its raw stdout and its log.

use std::io::Read;
use std::path::Path;

use ffmpeg_sidecar::command::FfmpegCommand;

use crate::error::{IngestError, Result};

/// What one ffmpeg run produced.
pub(crate) struct FfmpegRun {
    /// Everything written to stdout (raw samples or frames).
    pub stdout: Vec<u8>,
    /// The log, each line prefixed with its level (`[info]`, `[error]`, …).
    pub log: String,
    pub success: bool,
}

impl FfmpegRun {
    /// The last error-level log lines, cleaned up, if any.
    pub fn error_summary(&self, path: &Path) -> Option<String> {
        summarize_log(&self.log, path, true)
    }

    /// The classified failure of a run that did not succeed.
    pub fn failure(&self, path: &Path) -> IngestError {
        let reason = self
            .error_summary(path)
            .or_else(|| summarize_log(&self.log, path, false))
            .unwrap_or_else(|| "ffmpeg exited with an error".into());
        if self.log.contains("Decoder (codec") && self.log.contains("not found") {
            IngestError::UnsupportedCodec {
                path: path.to_path_buf(),
                codec: reason,
            }
        } else {
            IngestError::Corrupt {
                path: path.to_path_buf(),
                reason,
            }
        }
    }
}

/// The last three non-empty lines of an ffmpeg/ffprobe log (only `[error]`/`[fatal]` ones if
/// `only_errors`), joined by "; ", without the `[demuxer @ 0x…]` and `[level]` prefixes or
/// the repeated file name.
pub(crate) fn summarize_log(log: &str, path: &Path, only_errors: bool) -> Option<String> {
    let url = file_url(path).to_string_lossy().into_owned();
    let lines: Vec<String> = log
        .lines()
        .filter(|l| !only_errors || l.contains("[error]") || l.contains("[fatal]"))
        .map(|l| {
            let mut l = l.trim();
            // Leading bracketed tags: the component (`[mp3 @ 0x55…]`) and the level.
            while l.starts_with('[') {
                match l.find(']') {
                    Some(end) => l = l[end + 1..].trim_start(),
                    None => break,
                }
            }
            l.replace(&format!("{url}: "), "").trim().to_string()
        })
        .filter(|l| !l.is_empty())
        .collect();
    (!lines.is_empty()).then(|| lines[lines.len().saturating_sub(3)..].join("; "))
}

/// Runs `ffmpeg -nostdin -nostats <pre_input> -i <path> <args>` and waits for it. `args` must
/// send the output to `-` (stdout). Failing to start ffmpeg is [`IngestError::Ffmpeg`]; a
/// non-zero exit is reported in [`FfmpegRun::success`] for the caller to classify.
pub(crate) fn run_ffmpeg(path: &Path, pre_input: &[String], args: &[String]) -> Result<FfmpegRun> {
    let cannot = |e: std::io::Error| IngestError::Ffmpeg {
        path: path.to_path_buf(),
        reason: format!("cannot run ffmpeg: {e}"),
    };
    let mut child = FfmpegCommand::new()
        .args(["-nostdin", "-nostats"])
        .args(pre_input)
        .input(file_url(path))
        .args(args)
        .spawn()
        .map_err(cannot)?;
    // No input on stdin: close it so ffmpeg never waits for a key press.
    drop(child.take_stdin());
    let mut stderr = child.take_stderr();
    let log_thread = std::thread::spawn(move || {
        let mut log = Vec::new();
        if let Some(s) = stderr.as_mut() {
            // A read error only truncates the log; the exit status still tells the outcome.
            let _ = s.read_to_end(&mut log);
        }
        String::from_utf8_lossy(&log).into_owned()
    });
    let mut stdout = Vec::new();
    let read = child
        .take_stdout()
        .map(|mut s| s.read_to_end(&mut stdout))
        .transpose();
    let status = child.wait().map_err(cannot)?;
    let log = log_thread.join().unwrap_or_default();
    read.map_err(cannot)?;
    Ok(FfmpegRun {
        stdout,
        log,
        success: status.success(),
    })
}

/// `file:<path>`: makes ffmpeg treat the argument as a plain file even when the name contains
/// `:` (which would otherwise select a protocol such as `http:` or `concat:`).
pub(crate) fn file_url(path: &Path) -> std::ffi::OsString {
    let mut url = std::ffi::OsString::from("file:");
    url.push(path.as_os_str());
    url
}
