//! `scripts/average-weights.py`, the "model soup" step of the shipped model's recipe: the mean
//! it writes, what it copies beside it, and how it refuses inputs it cannot average.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn average(out: &Path, inputs: &[&Path]) -> Output {
    Command::new("python3")
        .arg(repo().join("scripts/average-weights.py"))
        .arg(out)
        .args(inputs)
        .output()
        .expect("python3 runs scripts/average-weights.py")
}

/// A model directory holding `tensors` as model.safetensors, a config and the files a training
/// run leaves (its state and report), which describe that run and must not follow the mean.
fn model_dir(root: &Path, name: &str, tensors: &[(&str, Vec<usize>, Vec<f32>)]) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, _, v)| v.iter().flat_map(|x| x.to_le_bytes()).collect())
        .collect();
    let views: Vec<(String, TensorView)> = tensors
        .iter()
        .zip(&bytes)
        .map(|((n, shape, _), b)| {
            let view = TensorView::new(Dtype::F32, shape.clone(), b).unwrap();
            (n.to_string(), view)
        })
        .collect();
    safetensors::tensor::serialize_to_file(views, None, &dir.join("model.safetensors")).unwrap();
    std::fs::write(dir.join("config.json"), format!("{{\"from\": \"{name}\"}}")).unwrap();
    std::fs::write(dir.join("trainer_state.json"), "{}").unwrap();
    std::fs::write(dir.join("eval.json"), "{}").unwrap();
    dir
}

fn read(path: &Path) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    let bytes = std::fs::read(path).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let mut tensors: Vec<_> = file
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            assert_eq!(view.dtype(), Dtype::F32, "{name}");
            let values = view
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect();
            (name, view.shape().to_vec(), values)
        })
        .collect();
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    tensors
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn the_mean_is_element_wise_and_tensors_held_alike_stay_bit_exact() {
    let tmp = tempfile::tempdir().unwrap();
    // Summed and divided in f32, five copies of these come back a rounding step off.
    let frozen = vec![0.119_455_61_f32, -0.054_115_4, 0.001_566_725_9];
    let inputs: Vec<PathBuf> = [1.0_f32, 2.0, 4.0, 8.0, 16.0]
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let tensors = [
                ("trained", vec![2, 2], vec![x, -x, 0.5 * x, 3.0]),
                ("frozen", vec![3], frozen.clone()),
            ];
            model_dir(tmp.path(), &format!("run{i}"), &tensors)
        })
        .collect();
    let out = tmp.path().join("mean");
    let refs: Vec<&Path> = inputs.iter().map(|p| p.as_path()).collect();
    let output = average(&out, &refs);
    assert!(output.status.success(), "{}", stderr(&output));

    let tensors = read(&out.join("model.safetensors"));
    let names: Vec<&str> = tensors.iter().map(|t| t.0.as_str()).collect();
    assert_eq!(names, ["frozen", "trained"]);
    let (_, shape, values) = &tensors[0];
    assert_eq!(shape, &[3]);
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(
        bits(values),
        bits(&frozen),
        "a tensor every input holds alike moved"
    );
    let (_, shape, values) = &tensors[1];
    assert_eq!(shape, &[2, 2]);
    let mean = 31.0 / 5.0;
    for (got, want) in values.iter().zip([mean, -mean, 0.5 * mean, 3.0]) {
        assert!((got - want).abs() <= 1e-5 * want.abs(), "{got} vs {want}");
    }

    // The first input's configs come along; the inputs' run records do not.
    let config = std::fs::read_to_string(out.join("config.json")).unwrap();
    assert!(config.contains("run0"), "{config}");
    assert!(!out.join("trainer_state.json").exists());
    assert!(!out.join("eval.json").exists());
}

#[test]
fn inputs_that_cannot_be_averaged_are_refused_by_name_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let a = model_dir(tmp.path(), "a", &[("w", vec![2], vec![1.0, 2.0])]);
    let wide = model_dir(tmp.path(), "wide", &[("w", vec![3], vec![1.0, 2.0, 3.0])]);
    let renamed = model_dir(tmp.path(), "renamed", &[("v", vec![2], vec![1.0, 2.0])]);
    let truncated = model_dir(tmp.path(), "truncated", &[("w", vec![2], vec![1.0, 2.0])]);
    let file = truncated.join("model.safetensors");
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() - 3]).unwrap();

    let out = tmp.path().join("mean");
    let cases: [(&Path, &[&str]); 3] = [
        (&wide, &["wide", "w has shape [3]", "[2]"]),
        (&renamed, &["renamed", "tensor names differ"]),
        (
            &truncated,
            &["truncated/model.safetensors", "runs past the end"],
        ),
    ];
    for (bad, words) in cases {
        let output = average(&out, &[&a, bad]);
        assert!(!output.status.success(), "{} was averaged", bad.display());
        let message = stderr(&output);
        for word in words {
            assert!(message.contains(word), "{word:?} not in {message:?}");
        }
        assert!(!out.exists(), "{} left an output behind", bad.display());
    }
}

#[test]
fn the_mean_of_the_shipped_model_with_itself_is_that_model_and_loads() {
    let shipped = repo().join("models/wave-tiny");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("mean");
    let output = average(&out, &[&shipped, &shipped, &shipped]);
    assert!(output.status.success(), "{}", stderr(&output));

    let (want, got) = (
        read(&shipped.join("model.safetensors")),
        read(&out.join("model.safetensors")),
    );
    assert_eq!(want.len(), got.len());
    for ((name, shape, values), (name2, shape2, values2)) in want.iter().zip(&got) {
        assert_eq!((name, shape), (name2, shape2));
        let same = values
            .iter()
            .zip(values2)
            .all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same, "{name} changed");
    }
    let model = wave_engine::model::Wave::<wave_train::trainer::ComputeBackend>::load(
        &out,
        &Default::default(),
    );
    assert!(model.is_ok(), "{:?}", model.err());
}
