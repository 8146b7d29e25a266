mod common;

#[test]
fn golden_model_tensors_read_with_their_shapes() {
    let mut store = wave_engine::weights::WeightStore::default();
    store
        .add_safetensors(&common::golden_dir().join("model.safetensors"), "")
        .unwrap();
    let (values, shape) = store.read_f32("model.norm.weight").unwrap();
    assert_eq!(shape.len(), 1);
    assert_eq!(values.len(), shape[0]);
    let err = store.read_f32("no.such.tensor").unwrap_err().to_string();
    assert!(err.contains("no.such.tensor"), "{err}");
}
