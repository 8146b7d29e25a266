//! The safetensors format: an 8-byte little-endian header length, a JSON header, then raw data.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::{StoredDtype, TensorEntry, WeightError};

/// The header of one safetensors file: tensor names and where their bytes lie.
pub struct SafetensorsFile {
    entries: BTreeMap<String, TensorEntry>,
}

#[derive(serde::Deserialize)]
struct HeaderEntry {
    dtype: String,
    shape: Vec<usize>,
    data_offsets: [u64; 2],
}

impl SafetensorsFile {
    pub fn open(path: &Path) -> Result<Self, WeightError> {
        let io = |e| WeightError::Io {
            path: path.to_path_buf(),
            source: e,
        };
        let corrupt = |m: String| WeightError::Corrupt {
            path: path.to_path_buf(),
            message: m,
        };
        let mut file = File::open(path).map_err(io)?;
        let file_len = file.metadata().map_err(io)?.len();
        let mut len_bytes = [0u8; 8];
        file.read_exact(&mut len_bytes)
            .map_err(|_| corrupt("file shorter than the 8-byte header length".into()))?;
        let header_len = u64::from_le_bytes(len_bytes);
        if header_len > 100_000_000 || 8 + header_len > file_len {
            return Err(corrupt(format!(
                "header length {header_len} exceeds the file ({file_len} bytes)"
            )));
        }
        let mut header = vec![0u8; header_len as usize];
        file.read_exact(&mut header).map_err(io)?;
        let raw: BTreeMap<String, serde_json::Value> = serde_json::from_slice(&header)
            .map_err(|e| corrupt(format!("header is not valid JSON: {e}")))?;
        let data_start = 8 + header_len;
        let mut entries = BTreeMap::new();
        for (name, value) in raw {
            if name == "__metadata__" {
                continue;
            }
            let h: HeaderEntry = serde_json::from_value(value)
                .map_err(|e| corrupt(format!("tensor `{name}`: bad header entry: {e}")))?;
            let dtype = parse_dtype(&h.dtype).ok_or_else(|| WeightError::Dtype {
                name: name.clone(),
                path: path.to_path_buf(),
                dtype: h.dtype.clone(),
            })?;
            let [begin, end] = h.data_offsets;
            let numel: usize = h.shape.iter().product();
            if end < begin || end - begin != (numel * dtype_size(dtype)) as u64 {
                return Err(corrupt(format!(
                    "tensor `{name}`: byte range {begin}..{end} does not match shape {:?} of {}",
                    h.shape, h.dtype
                )));
            }
            if data_start + end > file_len {
                return Err(corrupt(format!(
                    "tensor `{name}`: data ends at byte {} but the file has {file_len} bytes (truncated?)",
                    data_start + end
                )));
            }
            entries.insert(
                name,
                TensorEntry {
                    file: path.to_path_buf(),
                    dtype,
                    shape: h.shape,
                    offset: data_start + begin,
                    len: end - begin,
                    strides: None,
                },
            );
        }
        Ok(Self { entries })
    }

    pub fn into_entries(self) -> BTreeMap<String, TensorEntry> {
        self.entries
    }
}

fn parse_dtype(s: &str) -> Option<StoredDtype> {
    Some(match s {
        "F32" => StoredDtype::F32,
        "F16" => StoredDtype::F16,
        "BF16" => StoredDtype::BF16,
        "F64" => StoredDtype::F64,
        "I64" => StoredDtype::I64,
        "U8" => StoredDtype::U8,
        _ => return None,
    })
}

pub fn dtype_size(d: StoredDtype) -> usize {
    match d {
        StoredDtype::F32 => 4,
        StoredDtype::F16 | StoredDtype::BF16 => 2,
        StoredDtype::F64 | StoredDtype::I64 => 8,
        StoredDtype::U8 => 1,
    }
}

/// Bytes read per step while converting: loading holds the converted tensor plus this much,
/// never a second full-size copy of it.
const READ_CHUNK: usize = 8 << 20;

/// Reads one tensor's bytes (little-endian, contiguous) and converts them to f32, chunk by chunk.
pub fn read_as_f32(name: &str, entry: &TensorEntry) -> Result<Vec<f32>, WeightError> {
    let path: PathBuf = entry.file.clone();
    let file = File::open(&path).map_err(|e| WeightError::Io {
        path: path.clone(),
        source: e,
    })?;
    let size = dtype_size(entry.dtype);
    let len = entry.len as usize;
    let mut values = Vec::with_capacity(len / size);
    // A whole number of elements per chunk (every dtype size divides READ_CHUNK).
    let mut chunk = vec![0u8; READ_CHUNK.min(len)];
    let mut done = 0usize;
    while done < len {
        let n = chunk.len().min(len - done);
        let at = entry.offset + done as u64;
        file.read_exact_at(&mut chunk[..n], at)
            .map_err(|e| WeightError::Corrupt {
                path: path.clone(),
                message: format!(
                    "tensor `{name}`: cannot read {} bytes at {}: {e}",
                    entry.len, entry.offset
                ),
            })?;
        extend_f32(&mut values, &chunk[..n], entry.dtype);
        done += n;
    }
    Ok(values)
}

/// Appends the f32 values of `bytes` (whole elements of `dtype`) to `out`.
fn extend_f32(out: &mut Vec<f32>, bytes: &[u8], dtype: StoredDtype) {
    match dtype {
        StoredDtype::F32 => out.extend(
            bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        ),
        StoredDtype::F16 => out.extend(
            bytes
                .chunks_exact(2)
                .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32()),
        ),
        StoredDtype::BF16 => out.extend(
            bytes
                .chunks_exact(2)
                .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32()),
        ),
        StoredDtype::F64 => out.extend(
            bytes
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()) as f32),
        ),
        StoredDtype::I64 => out.extend(
            bytes
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().unwrap()) as f32),
        ),
        StoredDtype::U8 => out.extend(bytes.iter().map(|&b| b as f32)),
    }
}
