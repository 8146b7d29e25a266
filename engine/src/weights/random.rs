//! Random weights for any config: drawn on the device (timing a model nothing was trained for,
//! without writing a checkpoint), or written as a safetensors checkpoint (loading-memory tests,
//! benchmarks that load the same file into two frameworks).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use burn::tensor::{backend::Backend, Distribution, Tensor};

use super::safetensors::dtype_size;
use super::{StoredDtype, WeightError, WeightStore};

impl WeightStore {
    /// A store that answers every `tensor` request with normal(0, `std`) values of the requested
    /// shape, allocated on the device. It holds no files: `read_f32`/`contains` find nothing, so
    /// optional tensors (e.g. a `k_proj` bias) are left out.
    pub fn random(std: f32) -> Self {
        Self {
            random: Some(std),
            ..Self::default()
        }
    }

    /// The names and shapes a random store was asked for, in order: the layout of a checkpoint
    /// for the config the model was built from.
    pub fn requested(&self) -> Vec<(String, Vec<usize>)> {
        self.requested.lock().unwrap().clone()
    }

    pub(super) fn draw<B: Backend, const D: usize>(
        &self,
        name: &str,
        shape: [usize; D],
        std: f32,
        device: &B::Device,
    ) -> Tensor<B, D> {
        self.requested
            .lock()
            .unwrap()
            .push((name.to_string(), shape.to_vec()));
        self.mark_used(name);
        Tensor::random(shape, Distribution::Normal(0.0, std as f64), device)
    }
}

/// Writes `tensors` as a safetensors file of uniform random values with standard deviation
/// `std` (deterministic in `seed`), stored as `dtype` (F32, BF16 or F16), one tensor at a time so
/// the writer never holds more than a small buffer. Returns the bytes of tensor data written.
pub fn write_random_safetensors(
    path: &Path,
    tensors: &[(String, Vec<usize>)],
    dtype: StoredDtype,
    std: f32,
    seed: u64,
) -> Result<u64, WeightError> {
    let (tag, size) = match dtype {
        StoredDtype::F32 => ("F32", 4),
        StoredDtype::BF16 => ("BF16", 2),
        StoredDtype::F16 => ("F16", 2),
        other => {
            return Err(WeightError::Dtype {
                name: "(random checkpoint)".into(),
                path: path.to_path_buf(),
                dtype: format!("{other:?}"),
            })
        }
    };
    debug_assert_eq!(size, dtype_size(dtype));
    let mut header = serde_json::Map::new();
    let mut offset = 0u64;
    for (name, shape) in tensors {
        let bytes = (shape.iter().product::<usize>() * size) as u64;
        header.insert(
            name.clone(),
            serde_json::json!({"dtype": tag, "shape": shape, "data_offsets": [offset, offset + bytes]}),
        );
        offset += bytes;
    }
    let mut header = serde_json::to_vec(&header).expect("a JSON map serialises");
    // The format aligns the data section to 8 bytes by padding the header with spaces.
    header.resize(header.len().div_ceil(8) * 8, b' ');

    let io = |e| WeightError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path).map_err(io)?);
    out.write_all(&(header.len() as u64).to_le_bytes())
        .map_err(io)?;
    out.write_all(&header).map_err(io)?;
    // Uniform on [-a, a] has standard deviation a/√3.
    let half_width = std * 3f32.sqrt();
    for (index, (_, shape)) in tensors.iter().enumerate() {
        let mut rng = SplitMix64(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        for _ in 0..shape.iter().product::<usize>() {
            let v = (rng.unit() * 2.0 - 1.0) * half_width;
            match dtype {
                StoredDtype::F32 => out.write_all(&v.to_le_bytes()),
                StoredDtype::BF16 => out.write_all(&half::bf16::from_f32(v).to_le_bytes()),
                _ => out.write_all(&half::f16::from_f32(v).to_le_bytes()),
            }
            .map_err(io)?;
        }
    }
    out.flush().map_err(io)?;
    Ok(offset)
}

/// A small, fast, seedable generator (Steele et al.'s SplitMix64): test data, not cryptography.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
}
