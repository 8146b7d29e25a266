//! Loading weights from every checkpoint format, and the errors for broken checkpoints.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::golden_dir;
use common::TestBackend as B;
use wave_engine::config::BeatsConfig;
use wave_engine::model::{LoadOptions, Wave};
use wave_engine::weights::{WeightError, WeightFormat, WeightStore};

/// A fresh scratch directory for one test, removed when the test is done with it.
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("wave-ckpt-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

/// Links the golden files `names` into `dir`.
fn link_golden(dir: &Path, names: &[&str]) {
    for name in names {
        std::os::unix::fs::symlink(golden_dir().join(name), dir.join(name)).unwrap();
    }
}

fn all_values(store: &WeightStore) -> BTreeMap<String, (Vec<f32>, Vec<usize>)> {
    store
        .names()
        .map(|n| (n.to_string(), store.read_f32(n).unwrap()))
        .collect()
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

// ---- a minimal torch.save writer (stored zip + protocol-2 pickle) --------------------------

struct FakeTensor {
    name: String,
    storage_type: &'static str,
    storage_key: String,
    storage_numel: usize,
    offset: usize,
    shape: Vec<usize>,
    stride: Vec<usize>,
}

fn pickle_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'X');
    out.extend((s.len() as u32).to_le_bytes());
    out.extend(s.as_bytes());
}

fn pickle_int(out: &mut Vec<u8>, v: usize) {
    out.push(b'J');
    out.extend((v as i32).to_le_bytes());
}

fn pickle_global(out: &mut Vec<u8>, module: &str, name: &str) {
    out.extend(format!("c{module}\n{name}\n").as_bytes());
}

fn pickle_ints(out: &mut Vec<u8>, v: &[usize]) {
    out.push(b'(');
    for &x in v {
        pickle_int(out, x);
    }
    out.push(b't');
}

/// `OrderedDict(name -> _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()))`.
fn state_dict_pickle(tensors: &[FakeTensor]) -> Vec<u8> {
    let mut p = vec![0x80, 2];
    pickle_global(&mut p, "collections", "OrderedDict");
    p.extend([b')', b'R', b'(']);
    for t in tensors {
        pickle_str(&mut p, &t.name);
        pickle_global(&mut p, "torch._utils", "_rebuild_tensor_v2");
        p.extend([b'(', b'(']);
        pickle_str(&mut p, "storage");
        pickle_global(&mut p, "torch", t.storage_type);
        pickle_str(&mut p, &t.storage_key);
        pickle_str(&mut p, "cpu");
        pickle_int(&mut p, t.storage_numel);
        p.extend([b't', b'Q']);
        pickle_int(&mut p, t.offset);
        pickle_ints(&mut p, &t.shape);
        pickle_ints(&mut p, &t.stride);
        p.push(0x89);
        pickle_global(&mut p, "collections", "OrderedDict");
        p.extend([b')', b'R', b't', b'R']);
    }
    p.extend([b'u', b'.']);
    p
}

/// A stored zip with the given records (no CRCs: the reader does not need them).
fn write_zip(path: &Path, records: &[(String, Vec<u8>)]) {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in records {
        let offset = out.len() as u32;
        let header = |sig: u32, central: bool| {
            let mut h = Vec::new();
            h.extend(sig.to_le_bytes());
            if central {
                h.extend(20u16.to_le_bytes());
            }
            h.extend(20u16.to_le_bytes()); // version needed
            h.extend([0u8; 8]); // flags, method (stored), time, date
            h.extend(0u32.to_le_bytes()); // crc
            h.extend((data.len() as u32).to_le_bytes());
            h.extend((data.len() as u32).to_le_bytes());
            h.extend((name.len() as u16).to_le_bytes());
            h.extend(0u16.to_le_bytes()); // extra
            if central {
                h.extend([0u8; 6]); // comment, disk, internal attrs
                h.extend(0u32.to_le_bytes()); // external attrs
                h.extend(offset.to_le_bytes());
            }
            h.extend(name.as_bytes());
            h
        };
        out.extend(header(0x0403_4b50, false));
        out.extend(data);
        central.extend(header(0x0201_4b50, true));
    }
    let cd_offset = out.len() as u32;
    out.extend(&central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u8; 4]);
    out.extend((records.len() as u16).to_le_bytes());
    out.extend((records.len() as u16).to_le_bytes());
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(cd_offset.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    std::fs::write(path, out).unwrap();
}

fn write_torch(
    path: &Path,
    tensors: &[FakeTensor],
    storages: &[(&str, Vec<u8>)],
    pickle: Option<Vec<u8>>,
) {
    let mut records = vec![(
        "archive/data.pkl".to_string(),
        pickle.unwrap_or_else(|| state_dict_pickle(tensors)),
    )];
    for (key, bytes) in storages {
        records.push((format!("archive/data/{key}"), bytes.clone()));
    }
    write_zip(path, &records);
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

// ---- golden checkpoints ---------------------------------------------------------------------

#[test]
fn pytorch_bin_matches_safetensors_bit_for_bit() {
    let dir = golden_dir();
    let st = WeightStore::open_dir_as(&dir, Some(WeightFormat::Safetensors)).unwrap();
    let bin = WeightStore::open_dir_as(&dir, Some(WeightFormat::PyTorch)).unwrap();
    let (a, b) = (all_values(&st), all_values(&bin));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, (values, shape)) in &a {
        assert_eq!(&b[name].1, shape, "{name}: shape");
        assert_eq!(bits(&b[name].0), bits(values), "{name}: values");
    }
}

#[test]
fn beats_checkpoint_gives_cfg_and_replaces_beats_tensors() {
    let dir = golden_dir();
    let mut store = WeightStore::default();
    store
        .add_safetensors(&dir.join("model.safetensors"), "")
        .unwrap();
    let reference = all_values(&store);
    let cfg = store
        .add_beats_checkpoint(&dir.join("beats.pt"), "beats.")
        .unwrap();
    let json: BeatsConfig =
        serde_json::from_str(&std::fs::read_to_string(dir.join("beats_cfg.json")).unwrap())
            .unwrap();
    assert_eq!(format!("{cfg:?}"), format!("{json:?}"));
    // The entries under beats. now come from beats.pt, with the same values.
    let after = all_values(&store);
    assert_eq!(
        reference.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for name in reference.keys().filter(|n| n.starts_with("beats.")) {
        assert!(
            store.entry(name).unwrap().file.ends_with("beats.pt"),
            "{name}"
        );
        assert_eq!(bits(&after[name].0), bits(&reference[name].0), "{name}");
    }
    assert!(store.contains("beats.encoder.pos_conv.0.weight_g"));
    assert!(store
        .entry("beats_ln.weight")
        .unwrap()
        .file
        .ends_with("model.safetensors"));
}

#[test]
fn open_dir_picks_the_available_format() {
    let only_bin = scratch("only-bin");
    link_golden(&only_bin, &["pytorch_model.bin"]);
    let store = WeightStore::open_dir(&only_bin).unwrap();
    assert!(store
        .entry("model.norm.weight")
        .unwrap()
        .file
        .ends_with("pytorch_model.bin"));

    let both = golden_dir();
    let store = WeightStore::open_dir(&both).unwrap();
    assert!(store
        .entry("model.norm.weight")
        .unwrap()
        .file
        .ends_with("model.safetensors"));

    let empty = scratch("empty");
    let err = WeightStore::open_dir(&empty).unwrap_err();
    assert!(matches!(err, WeightError::NoWeights { .. }), "{err}");
}

#[test]
fn wave_loads_from_safetensors_and_from_bin_plus_beats_pt() {
    let device = Default::default();
    let from_st = Wave::<B>::load(&golden_dir(), &device).unwrap();
    let bin_dir = scratch("bin-model");
    link_golden(&bin_dir, &["config.json", "pytorch_model.bin", "beats.pt"]);
    let from_bin = Wave::<B>::load(&bin_dir, &device).unwrap();
    assert_eq!(
        from_st.beats_config.encoder_layers,
        from_bin.beats_config.encoder_layers
    );
    let explicit = LoadOptions {
        format: Some(WeightFormat::PyTorch),
        beats_checkpoint: Some(golden_dir().join("beats.pt")),
    };
    Wave::<B>::load_with(&golden_dir(), &explicit, &device).unwrap();
}

// ---- synthetic PyTorch archives --------------------------------------------------------------

#[test]
fn torch_reader_handles_dtypes_offsets_strides_and_shared_storage() {
    let dir = scratch("dtypes");
    let base: Vec<f32> = (0..12).map(|i| i as f32 * 0.5 - 2.0).collect();
    let half: Vec<u8> = base
        .iter()
        .flat_map(|&x| half::f16::from_f32(x).to_le_bytes())
        .collect();
    let bf16: Vec<u8> = base
        .iter()
        .flat_map(|&x| half::bf16::from_f32(x).to_le_bytes())
        .collect();
    let t =
        |name: &str, ty: &'static str, key: &str, offset, shape: Vec<usize>, stride: Vec<usize>| {
            FakeTensor {
                name: name.into(),
                storage_type: ty,
                storage_key: key.into(),
                storage_numel: 12,
                offset,
                shape,
                stride,
            }
        };
    let tensors = [
        t("plain", "FloatStorage", "0", 0, vec![3, 4], vec![4, 1]),
        // A view at element 2 of the same storage.
        t("offset", "FloatStorage", "0", 2, vec![5], vec![1]),
        // The transpose of `plain`: (4, 3) with strides (1, 4).
        t("transposed", "FloatStorage", "0", 0, vec![4, 3], vec![1, 4]),
        t("half", "HalfStorage", "1", 0, vec![2, 6], vec![6, 1]),
        t("bf16", "BFloat16Storage", "2", 4, vec![2, 2], vec![2, 1]),
    ];
    let path = dir.join("pytorch_model.bin");
    write_torch(
        &path,
        &tensors,
        &[("0", f32_bytes(&base)), ("1", half), ("2", bf16)],
        None,
    );
    let mut store = WeightStore::default();
    store.add_pytorch(&path, "p.").unwrap();
    let read = |n: &str| store.read_f32(&format!("p.{n}")).unwrap();
    assert_eq!(read("plain"), (base.clone(), vec![3, 4]));
    assert_eq!(read("offset").0, base[2..7].to_vec());
    let transposed: Vec<f32> = (0..4)
        .flat_map(|c| (0..3).map(move |r| r * 4 + c))
        .map(|i| base[i])
        .collect();
    assert_eq!(read("transposed"), (transposed, vec![4, 3]));
    // f16/bf16 are exact for these values.
    assert_eq!(read("half").0, base);
    assert_eq!(read("bf16").0, base[4..8].to_vec());
}

#[test]
fn sharded_checkpoints_load_through_their_index() {
    let dir = scratch("sharded-bin");
    let a = [FakeTensor {
        name: "x.weight".into(),
        storage_type: "FloatStorage",
        storage_key: "0".into(),
        storage_numel: 2,
        offset: 0,
        shape: vec![2],
        stride: vec![1],
    }];
    let b = [FakeTensor {
        name: "y.weight".into(),
        storage_type: "FloatStorage",
        storage_key: "0".into(),
        storage_numel: 3,
        offset: 0,
        shape: vec![3],
        stride: vec![1],
    }];
    write_torch(
        &dir.join("pytorch_model-00001-of-00002.bin"),
        &a,
        &[("0", f32_bytes(&[1.0, 2.0]))],
        None,
    );
    write_torch(
        &dir.join("pytorch_model-00002-of-00002.bin"),
        &b,
        &[("0", f32_bytes(&[3.0, 4.0, 5.0]))],
        None,
    );
    let index = r#"{"metadata": {}, "weight_map": {"x.weight": "pytorch_model-00001-of-00002.bin", "y.weight": "pytorch_model-00002-of-00002.bin"}}"#;
    std::fs::write(dir.join("pytorch_model.bin.index.json"), index).unwrap();
    let store = WeightStore::open_dir(&dir).unwrap();
    assert_eq!(store.read_f32("x.weight").unwrap().0, vec![1.0, 2.0]);
    assert_eq!(store.read_f32("y.weight").unwrap().0, vec![3.0, 4.0, 5.0]);

    // An index naming a tensor its shard lacks.
    let bad = r#"{"weight_map": {"x.weight": "pytorch_model-00001-of-00002.bin", "z.weight": "pytorch_model-00001-of-00002.bin"}}"#;
    std::fs::write(dir.join("pytorch_model.bin.index.json"), bad).unwrap();
    let err = WeightStore::open_dir(&dir).unwrap_err().to_string();
    assert!(
        err.contains("z.weight") && err.contains("pytorch_model-00001-of-00002.bin"),
        "{err}"
    );

    // Sharded safetensors.
    let dir = scratch("sharded-st");
    let golden = WeightStore::open_dir(&golden_dir()).unwrap();
    let names: Vec<String> = golden.names().map(str::to_string).collect();
    let (first, second) = names.split_at(names.len() / 2);
    let mut weight_map = serde_json::Map::new();
    for (shard, part) in [
        ("model-00001-of-00002.safetensors", first),
        ("model-00002-of-00002.safetensors", second),
    ] {
        write_safetensors(&dir.join(shard), &golden, part, &BTreeMap::new());
        for n in part {
            weight_map.insert(n.clone(), shard.into());
        }
    }
    let index = serde_json::json!({ "weight_map": weight_map });
    std::fs::write(dir.join("model.safetensors.index.json"), index.to_string()).unwrap();
    let sharded = WeightStore::open_dir(&dir).unwrap();
    let (a, b) = (all_values(&golden), all_values(&sharded));
    assert_eq!(a, b);
}

/// Writes `names` of `store` as f32 safetensors, with `reshape` overriding some shapes.
fn write_safetensors(
    path: &Path,
    store: &WeightStore,
    names: &[String],
    reshape: &BTreeMap<String, Vec<usize>>,
) {
    let data: Vec<(String, Vec<u8>, Vec<usize>)> = names
        .iter()
        .map(|n| {
            let (v, shape) = store.read_f32(n).unwrap();
            (
                n.clone(),
                f32_bytes(&v),
                reshape.get(n).cloned().unwrap_or(shape),
            )
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView)> = data
        .iter()
        .map(|(n, bytes, shape)| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes)
                    .unwrap(),
            )
        })
        .collect();
    safetensors::tensor::serialize_to_file(views, None, path).unwrap();
}

// ---- broken checkpoints ---------------------------------------------------------------------

/// A model dir whose model.safetensors is the golden one edited by `edit`.
fn edited_model_dir(
    name: &str,
    drop: &[&str],
    add: &[&str],
    reshape: &[(&str, Vec<usize>)],
) -> Scratch {
    let dir = scratch(name);
    link_golden(&dir, &["config.json", "beats.pt"]);
    let golden = WeightStore::open_dir(&golden_dir()).unwrap();
    let mut names: Vec<String> = golden
        .names()
        .filter(|n| !drop.contains(n))
        .map(str::to_string)
        .collect();
    let mut extra = Vec::new();
    for n in add {
        names.push(n.to_string());
        extra.push(n.to_string());
    }
    // Added names reuse an existing tensor's values.
    let mut store = WeightStore::default();
    store
        .add_safetensors(&golden_dir().join("model.safetensors"), "")
        .unwrap();
    for n in &extra {
        let entry = store.entry("model.norm.weight").unwrap().clone();
        store.insert(n.clone(), entry);
    }
    let reshape: BTreeMap<String, Vec<usize>> = reshape
        .iter()
        .map(|(n, s)| (n.to_string(), s.clone()))
        .collect();
    write_safetensors(&dir.join("model.safetensors"), &store, &names, &reshape);
    dir
}

fn load_error(dir: &Path) -> String {
    match Wave::<B>::load(dir, &Default::default()) {
        Ok(_) => panic!("loading {} should fail", dir.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn missing_unexpected_and_misshaped_tensors_are_named() {
    let dir = edited_model_dir("missing", &["model.layers.1.mlp.up_proj.weight"], &[], &[]);
    let err = load_error(&dir);
    assert!(
        err.contains("model.layers.1.mlp.up_proj.weight") && err.contains("missing"),
        "{err}"
    );

    let dir = edited_model_dir("unexpected", &[], &["model.layers.0.extra.weight"], &[]);
    let err = load_error(&dir);
    assert!(
        err.contains("model.layers.0.extra.weight") && err.contains("unexpected"),
        "{err}"
    );

    let (_, shape) = WeightStore::open_dir(&golden_dir())
        .unwrap()
        .read_f32("classify_linear.0.weight")
        .unwrap();
    let wrong = vec![shape[1], shape[0]];
    let dir = edited_model_dir("shape", &[], &[], &[("classify_linear.0.weight", wrong)]);
    let err = load_error(&dir);
    assert!(
        err.contains("classify_linear.0.weight") && err.contains("model.safetensors"),
        "{err}"
    );
}

#[test]
fn truncated_and_corrupt_pytorch_files_are_reported_with_their_path() {
    let dir = scratch("truncated");
    let bytes = std::fs::read(golden_dir().join("pytorch_model.bin")).unwrap();
    let path = dir.join("pytorch_model.bin");
    std::fs::write(&path, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let err = WeightStore::open_dir(&dir).unwrap_err();
    assert!(matches!(err, WeightError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("pytorch_model.bin"), "{err}");

    // A storage shorter than its tensor.
    let t = [FakeTensor {
        name: "w".into(),
        storage_type: "FloatStorage",
        storage_key: "0".into(),
        storage_numel: 4,
        offset: 0,
        shape: vec![4],
        stride: vec![1],
    }];
    write_torch(&path, &t, &[("0", f32_bytes(&[1.0, 2.0]))], None);
    let err = WeightStore::open_dir(&dir).unwrap_err().to_string();
    assert!(
        err.contains("`w`") && err.contains("pytorch_model.bin"),
        "{err}"
    );

    // A view reaching past its storage.
    let t = [FakeTensor {
        name: "v".into(),
        storage_type: "FloatStorage",
        storage_key: "0".into(),
        storage_numel: 2,
        offset: 1,
        shape: vec![2],
        stride: vec![1],
    }];
    write_torch(&path, &t, &[("0", f32_bytes(&[1.0, 2.0]))], None);
    let err = WeightStore::open_dir(&dir).unwrap_err().to_string();
    assert!(err.contains("`v`") && err.contains("exceed"), "{err}");

    // A pickle that calls something other than the tensor rebuilders is refused.
    let mut evil = vec![0x80, 2];
    pickle_global(&mut evil, "os", "system");
    evil.push(b'(');
    pickle_str(&mut evil, "true");
    evil.extend([b't', b'R', b'.']);
    write_torch(&path, &[], &[], Some(evil));
    let err = WeightStore::open_dir(&dir).unwrap_err().to_string();
    assert!(
        err.contains("os.system") && err.contains("pytorch_model.bin"),
        "{err}"
    );

    // Garbage in data.pkl.
    write_torch(&path, &[], &[], Some(vec![0x80, 2, 0xff, b'.']));
    let err = WeightStore::open_dir(&dir).unwrap_err().to_string();
    assert!(
        err.contains("opcode") && err.contains("pytorch_model.bin"),
        "{err}"
    );

    // An unsupported storage dtype names the tensor.
    let t = [FakeTensor {
        name: "mask".into(),
        storage_type: "BoolStorage",
        storage_key: "0".into(),
        storage_numel: 2,
        offset: 0,
        shape: vec![2],
        stride: vec![1],
    }];
    write_torch(&path, &t, &[("0", vec![1, 0])], None);
    let err = WeightStore::open_dir(&dir).unwrap_err().to_string();
    assert!(err.contains("mask") && err.contains("BoolStorage"), "{err}");
}

#[test]
fn truncated_beats_checkpoint_fails_to_load() {
    let dir = scratch("beats-truncated");
    link_golden(&dir, &["config.json", "model.safetensors"]);
    let bytes = std::fs::read(golden_dir().join("beats.pt")).unwrap();
    std::fs::write(dir.join("beats.pt"), &bytes[..bytes.len() - 100]).unwrap();
    let err = load_error(&dir);
    assert!(err.contains("beats.pt"), "{err}");
}
