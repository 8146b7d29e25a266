//! recall@10 against brute force on 20k clustered 256-d vectors, with and without filters,
//! before and after reopening the store.

mod common;

use common::*;
use wave_index::{Filter, GraphOrigin, SpaceParams, Store, StoreOptions};

const N: usize = 20_000;
const DIM: usize = 256;
const QUERIES: usize = 200;
const K: usize = 10;

fn tag_of(i: usize) -> Vec<String> {
    // 2% of items carry "rare"; 10% carry "tenth".
    let mut t = vec![];
    if i % 50 == 7 {
        t.push("rare".to_string());
    }
    if i % 10 == 3 {
        t.push("tenth".to_string());
    }
    t
}

fn recall(
    store: &Store,
    data: &[Vec<f32>],
    queries: &[Vec<f32>],
    filter: &Filter,
    allowed: &[usize],
) -> f64 {
    let mut found = 0;
    for q in queries {
        let truth = brute_force(data, allowed, q, K);
        let hits = store.search("wave", q, K, None, filter).unwrap();
        assert!(hits.len() <= K);
        let got: Vec<usize> = hits.iter().map(|h| h.id[1..].parse().unwrap()).collect();
        found += truth.iter().filter(|t| got.contains(t)).count();
    }
    found as f64 / (queries.len() * K) as f64
}

#[test]
fn recall_at_10_meets_095_with_default_parameters() {
    init_logs();
    let dir = tempfile::tempdir().unwrap();
    let all = clustered(N + QUERIES, DIM, 64, 0.6, 42);
    let (data, queries) = all.split_at(N);
    {
        let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
        store.create_space("wave", SpaceParams::new(DIM)).unwrap();
        for chunk in (0..N).collect::<Vec<_>>().chunks(2000) {
            let writes: Vec<_> = chunk
                .iter()
                .map(|&i| {
                    let mut w = write(&format!("v{i}"), "wave", data[i].clone());
                    w.item.tags = tag_of(i);
                    w
                })
                .collect();
            store.upsert(&writes).unwrap();
        }
        let all_ids: Vec<usize> = (0..N).collect();
        let r = recall(&store, data, queries, &Filter::default(), &all_ids);
        eprintln!("recall@10 unfiltered: {r:.4}");
        assert!(r >= 0.95, "unfiltered recall@10 {r}");

        let rare: Vec<usize> = (0..N)
            .filter(|i| tag_of(*i).contains(&"rare".to_string()))
            .collect();
        let f = Filter {
            tags: vec!["rare".into()],
            ..Default::default()
        };
        let r = recall(&store, data, queries, &f, &rare);
        eprintln!("recall@10 with a 2% filter: {r:.4}");
        assert!(r >= 0.95, "2% filtered recall@10 {r}");

        let tenth: Vec<usize> = (0..N)
            .filter(|i| tag_of(*i).contains(&"tenth".to_string()))
            .collect();
        let f = Filter {
            tags: vec!["tenth".into()],
            ..Default::default()
        };
        let r = recall(&store, data, queries, &f, &tenth);
        eprintln!("recall@10 with a 10% filter (HNSW path): {r:.4}");
        assert!(r >= 0.95, "10% filtered recall@10 {r}");
    }
    // Reopen: the graph comes back from its snapshot, not a rebuild, and answers the same.
    let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
    let stats = store.stats().unwrap();
    assert_eq!(stats.items, N);
    assert_eq!(
        stats.spaces[0].origin,
        GraphOrigin::Snapshot { replayed: 0 }
    );
    let all_ids: Vec<usize> = (0..N).collect();
    let r = recall(&store, data, &queries[..50], &Filter::default(), &all_ids);
    eprintln!("recall@10 after reopen: {r:.4}");
    assert!(r >= 0.95, "recall after reopen {r}");
}
