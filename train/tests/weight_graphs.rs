//! `WeightStore::join_tracked` puts a step's trainable weights into one autodiff graph before
//! the forward, to spare burn the graph merges it would do mid-forward. It must leave every
//! gradient as it was, and give none to a weight the loss does not use (AdamW would still move
//! such a weight if it got a zero gradient).

use std::collections::{BTreeMap, BTreeSet};

use burn::tensor::{Tensor, TensorData};
use wave_engine::weights::{HostTensor, WeightStore};
use wave_train::trainer::TrainBackend;

/// Each trainable weight's gradient of a small loss, with or without joining their graphs.
fn gradients(join: bool) -> BTreeMap<String, Option<Vec<f32>>> {
    let host = |values: Vec<f32>, shape: Vec<usize>| HostTensor { values, shape };
    let tensors = BTreeMap::from([
        (
            "w".to_string(),
            host(vec![0.5, -1.0, 2.0, 0.25, 1.5, -0.75], vec![2, 3]),
        ),
        ("b".to_string(), host(vec![0.1, 0.2, -0.3], vec![3])),
        ("unused".to_string(), host(vec![1.0, 2.0], vec![2])),
        ("frozen".to_string(), host(vec![2.0, -1.0, 0.5], vec![3])),
    ]);
    let trainable = BTreeSet::from(["w".to_string(), "b".to_string(), "unused".to_string()]);
    let store = WeightStore::from_memory(tensors, trainable);
    let device = Default::default();
    let w: Tensor<TrainBackend, 2> = store.tensor("w", [2, 3], &device).unwrap();
    let b: Tensor<TrainBackend, 1> = store.tensor("b", [3], &device).unwrap();
    let _unused: Tensor<TrainBackend, 1> = store.tensor("unused", [2], &device).unwrap();
    let frozen: Tensor<TrainBackend, 1> = store.tensor("frozen", [3], &device).unwrap();
    if join {
        store.join_tracked::<TrainBackend>();
    }
    let x = Tensor::<TrainBackend, 2>::from_data(
        TensorData::new(vec![1.0f32, 2.0, -1.0, 0.5], [2, 2]),
        &device,
    );
    let y = (x.matmul(w) + b.unsqueeze::<2>()).tanh() * frozen.unsqueeze::<2>();
    let grads = y.sum().backward();
    store
        .take_tracked()
        .into_iter()
        .map(|t| {
            let g = t.grad_values::<TrainBackend>(&grads);
            (t.name, g)
        })
        .collect()
}

#[test]
fn joining_the_weights_graphs_changes_no_gradient() {
    let plain = gradients(false);
    let joined = gradients(true);
    assert_eq!(
        plain.keys().collect::<Vec<_>>(),
        ["b", "unused", "w"],
        "the trainable weights are the ones tracked"
    );
    assert!(plain["w"].is_some() && plain["b"].is_some());
    assert_eq!(plain, joined);
    assert_eq!(
        joined["unused"], None,
        "a weight the loss does not use gets no gradient"
    );
}
