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
    /// Log lines at level error or fatal.
    pub fn errors(&self) -> Vec<&str> {
        self.log
            .lines()
            .filter(|l| l.contains("[error]") || l.contains("[fatal]"))
            .collect()
    }

    /// The classified failure of a run that did not succeed.
    pub fn failure(&self, path: &Path) -> IngestError {
        let errors = self.errors();
        let reason = errors.last().map(|l| l.to_string()).unwrap_or_else(|| {
            crate::decode::probe::last_line(&self.log, "ffmpeg exited with an error")
        });
        if errors
            .iter()
            .any(|l| l.contains("Decoder") && l.contains("not found"))
        {
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
