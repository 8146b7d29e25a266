//! Upserts, deletes, compaction, snapshots, bad input, BM25, filters and backups on a real
//! RocksDB store on disk.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::*;
use wave_index::{
    Filter, GraphOrigin, IndexError, Item, Modality, SpaceParams, Store, StoreOptions, Write,
};
use wave_migrations::layout;

const DIM: usize = 32;

fn open(dir: &std::path::Path) -> Store {
    init_logs();
    let s = Store::open(dir, StoreOptions::default()).unwrap();
    s.create_space("wave", SpaceParams::new(DIM)).unwrap();
    s
}

fn fill(store: &Store, n: usize, seed: u64) -> Vec<Vec<f32>> {
    let data = clustered(n, DIM, 8, 1.0, seed);
    let writes: Vec<_> = data
        .iter()
        .enumerate()
        .map(|(i, v)| write(&format!("v{i}"), "wave", v.clone()))
        .collect();
    store.upsert(&writes).unwrap();
    data
}

fn top1(store: &Store, v: &[f32]) -> String {
    store
        .search("wave", v, 1, None, &Filter::default())
        .unwrap()[0]
        .id
        .clone()
}

#[test]
fn item_count_follows_upserts_and_deletes_and_matches_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path());
        fill(&store, 20, 3);
        assert_eq!(store.stats().unwrap().items, 20);
        // Replacing v0..v4 adds nothing; v20 and v21 are new.
        let more = clustered(7, DIM, 7, 0.1, 4);
        let writes: Vec<_> = (0..5)
            .chain(20..22)
            .zip(more)
            .map(|(i, v)| write(&format!("v{i}"), "wave", v))
            .collect();
        store.upsert(&writes).unwrap();
        assert_eq!(store.stats().unwrap().items, 22);
        // An id named twice and an unknown one: two items go.
        assert_eq!(store.delete(&["v1", "v1", "v2", "nope"]).unwrap(), 2);
        assert_eq!(store.stats().unwrap().items, 20);
        assert_eq!(store.item_ids().unwrap().len(), 20);
    }
    assert_eq!(open(dir.path()).stats().unwrap().items, 20);
}

#[test]
fn put_vectors_adds_one_space_and_leaves_the_rest_of_each_item() {
    let dir = tempfile::tempdir().unwrap();
    let tunes = clustered(10, 8, 10, 0.05, 6);
    let data;
    {
        let store = open(dir.path());
        store.create_space("tune", SpaceParams::new(8)).unwrap();
        data = fill(&store, 10, 5);
        let mut captioned = write("v3", "wave", data[3].clone());
        captioned.item.caption = Some("a fox in the snow".into());
        store.upsert(&[captioned]).unwrap();
        let seq = store.seq();
        let puts: Vec<(&str, Vec<f32>)> = ["v3", "v4", "gone"]
            .into_iter()
            .zip(tunes.iter().cloned())
            .collect();
        assert_eq!(store.put_vectors("tune", &puts).unwrap(), vec!["gone"]);
        assert_eq!(store.seq(), seq + 1, "one write");
        let stats = store.stats().unwrap();
        let wave = stats.spaces.iter().find(|s| s.name == "wave").unwrap();
        // Only the one upsert of v3 replaced a `wave` point; put_vectors added none there.
        assert_eq!((wave.live, wave.tombstones), (10, 1));
        assert_eq!(stats.items, 10, "no item appears for the unknown id");
        // Setting a space's vector again replaces it there.
        store
            .put_vectors("tune", &[("v4", tunes[2].clone())])
            .unwrap();
        let tune = store
            .stats()
            .unwrap()
            .spaces
            .into_iter()
            .find(|s| s.name == "tune");
        assert_eq!(tune.map(|s| (s.live, s.tombstones)), Some((2, 1)));
        // Bad input is refused before anything is written.
        let err = store
            .put_vectors("tune", &[("v5", vec![1.0; 3])])
            .unwrap_err();
        assert!(matches!(err, IndexError::Dimension { .. }), "{err}");
        let err = store
            .put_vectors("nope", &[("v5", vec![1.0; 8])])
            .unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
        assert_eq!(store.seq(), seq + 2);
    }
    let store = open(dir.path());
    let hits = store
        .search("tune", &tunes[0], 1, None, &Filter::default())
        .unwrap();
    assert_eq!(hits[0].id, "v3");
    assert_eq!(
        store
            .search("tune", &tunes[2], 1, None, &Filter::default())
            .unwrap()[0]
            .id,
        "v4"
    );
    assert_eq!(top1(&store, &data[3]), "v3");
    assert_eq!(
        store.get("v3").unwrap().unwrap().caption.as_deref(),
        Some("a fox in the snow")
    );
    let text = store.text_search("fox", 5, &Filter::default()).unwrap();
    assert_eq!(text.first().map(|h| h.id.as_str()), Some("v3"));
    assert!(store.vector("tune", "v5").unwrap().is_none());
}

#[test]
fn upserts_replace_and_deletes_remove_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let data;
    let fresh = clustered(50, DIM, 50, 0.1, 99);
    {
        let store = open(dir.path());
        data = fill(&store, 500, 1);
        assert_eq!(top1(&store, &data[7]), "v7");
        // Upsert v0..v49 with new vectors and a caption.
        let writes: Vec<_> = (0..50)
            .map(|i| {
                let mut w = write(&format!("v{i}"), "wave", fresh[i].clone());
                w.item.caption = Some(format!("replaced number {i}"));
                w
            })
            .collect();
        store.upsert(&writes).unwrap();
        store.delete(&["v100", "v101", "nonexistent"]).unwrap();
    }
    let store = open(dir.path());
    let stats = store.stats().unwrap();
    assert_eq!(stats.items, 498);
    assert_eq!(stats.spaces[0].live, 498);
    assert_eq!(stats.spaces[0].tombstones, 52);
    for i in 0..50 {
        assert_eq!(top1(&store, &fresh[i]), format!("v{i}"));
        // The old vector no longer leads to the item.
        let hits = store
            .search("wave", &data[i], 10, None, &Filter::default())
            .unwrap();
        assert!(
            hits.iter().all(|h| h.id != format!("v{i}")),
            "stale vector of v{i} still found"
        );
    }
    assert!(store.get("v100").unwrap().is_none());
    let hits = store
        .search("wave", &data[100], 10, None, &Filter::default())
        .unwrap();
    assert!(hits.iter().all(|h| h.id != "v100"));
    assert_eq!(
        store.get("v3").unwrap().unwrap().caption.as_deref(),
        Some("replaced number 3")
    );
    let v = store.vector("wave", "v3").unwrap().unwrap();
    let dot: f32 = v.iter().zip(&fresh[3]).map(|(a, b)| a * b).sum();
    assert!((dot - 1.0).abs() < 1e-5);
    let text_hits = store
        .text_search("replaced", 100, &Filter::default())
        .unwrap();
    assert_eq!(text_hits.len(), 50);
}

#[test]
fn compaction_drops_tombstones_while_searches_run() {
    let dir = tempfile::tempdir().unwrap();
    let opts = StoreOptions {
        compact_tombstone_share: 0.99, // compact explicitly below
        ..Default::default()
    };
    let store = Arc::new(Store::open(dir.path(), opts).unwrap());
    store.create_space("wave", SpaceParams::new(DIM)).unwrap();
    let data = fill(&store, 3000, 2);
    let doomed: Vec<String> = (0..3000)
        .filter(|i| i % 5 != 0)
        .map(|i| format!("v{i}"))
        .collect();
    let doomed_refs: Vec<&str> = doomed.iter().map(String::as_str).collect();
    store.delete(&doomed_refs).unwrap();
    assert_eq!(store.stats().unwrap().spaces[0].tombstones, 2400);

    let stop = Arc::new(AtomicBool::new(false));
    let searchers: Vec<_> = (0..2)
        .map(|t| {
            let (store, stop, data) = (store.clone(), stop.clone(), data.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) || n < 20 {
                    let i = (n * 5 + t * 5) % 3000;
                    let hits = store
                        .search("wave", &data[i], 5, None, &Filter::default())
                        .unwrap();
                    assert_eq!(hits[0].id, format!("v{i}"));
                    n += 1;
                }
                n
            })
        })
        .collect();
    store.compact("wave").unwrap();
    stop.store(true, Ordering::Relaxed);
    for s in searchers {
        assert!(s.join().unwrap() >= 20);
    }
    let stats = store.stats().unwrap();
    assert_eq!(stats.spaces[0].tombstones, 0);
    assert_eq!(stats.spaces[0].live, 600);
    for i in (0..3000).step_by(5) {
        assert_eq!(top1(&store, &data[i]), format!("v{i}"));
    }
    drop(searchers_done(store));
    let reopened = Store::open(dir.path(), StoreOptions::default()).unwrap();
    assert_eq!(reopened.stats().unwrap().spaces[0].tombstones, 0);
    assert!(matches!(
        reopened.stats().unwrap().spaces[0].origin,
        GraphOrigin::Snapshot { .. }
    ));
}

fn searchers_done(store: Arc<Store>) -> Store {
    Arc::try_unwrap(store).ok().expect("all searchers joined")
}

#[test]
fn automatic_compaction_past_the_tombstone_share() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    fill(&store, 1000, 3);
    let doomed: Vec<String> = (0..400).map(|i| format!("v{i}")).collect();
    let refs: Vec<&str> = doomed.iter().map(String::as_str).collect();
    store.delete(&refs).unwrap();
    let stats = store.stats().unwrap();
    assert_eq!(stats.spaces[0].live, 600);
    assert_eq!(
        stats.spaces[0].tombstones, 0,
        "40% tombstones > 30% default share: compacted"
    );
}

fn corrupt_snapshot(dir: &std::path::Path, how: &str) {
    let mut opts = rocksdb::Options::default();
    opts.create_if_missing(false);
    let db = rocksdb::DB::open_cf(&opts, dir.join("db"), layout::ALL_CFS).unwrap();
    let cf = db.cf_handle(layout::CF_SNAPSHOTS).unwrap();
    let mut key = b"wave".to_vec();
    key.push(0);
    key.extend_from_slice(&0u32.to_be_bytes());
    let mut chunk = db.get_cf(cf, &key).unwrap().expect("snapshot chunk 0");
    match how {
        "flip" => {
            let mid = chunk.len() / 2;
            chunk[mid] ^= 0x5a;
        }
        "truncate" => chunk.truncate(chunk.len() / 3),
        _ => unreachable!(),
    }
    db.put_cf(cf, &key, chunk).unwrap();
}

#[test]
fn corrupt_or_truncated_snapshot_is_rebuilt_with_a_warning() {
    for how in ["flip", "truncate"] {
        let dir = tempfile::tempdir().unwrap();
        let data = {
            let store = open(dir.path());
            fill(&store, 800, 4)
        };
        corrupt_snapshot(dir.path(), how);
        let store = open(dir.path());
        let stats = store.stats().unwrap();
        match &stats.spaces[0].origin {
            GraphOrigin::Rebuilt { reason } => {
                eprintln!("{how}: {reason}");
                assert!(
                    reason.contains("checksum") || reason.contains("truncated"),
                    "{reason}"
                );
            }
            other => panic!("{how}: expected a rebuild, got {other:?}"),
        }
        assert_eq!(stats.spaces[0].live, 800);
        for i in (0..800).step_by(37) {
            assert_eq!(top1(&store, &data[i]), format!("v{i}"));
        }
    }
}

#[test]
fn writes_after_a_snapshot_are_replayed_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let opts = StoreOptions {
        snapshot_every: 100,
        ..Default::default()
    };
    let data = clustered(250, DIM, 8, 1.0, 5);
    {
        let store = Store::open(dir.path(), opts.clone()).unwrap();
        store.create_space("wave", SpaceParams::new(DIM)).unwrap();
        for (i, v) in data.iter().enumerate() {
            store
                .upsert(&[write(&format!("v{i}"), "wave", v.clone())])
                .unwrap();
        }
        // Simulate a crash: skip the snapshot that Drop would write.
        std::mem::forget(store);
    }
    // The forgotten store still holds RocksDB's lock file in this process; open a checkpoint copy.
    let copy = tempfile::tempdir().unwrap();
    let copy_dir = copy.path().join("s");
    std::fs::create_dir_all(&copy_dir).unwrap();
    copy_tree(&dir.path().join("db"), &copy_dir.join("db"));
    copy_tree(&dir.path().join("text"), &copy_dir.join("text"));
    let store = Store::open(&copy_dir, opts).unwrap();
    let stats = store.stats().unwrap();
    assert_eq!(
        stats.spaces[0].origin,
        GraphOrigin::Snapshot { replayed: 50 }
    );
    assert_eq!(stats.items, 250);
    for i in (0..250).step_by(11) {
        assert_eq!(top1(&store, &data[i]), format!("v{i}"));
    }
}

#[test]
fn bad_input_is_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    fill(&store, 10, 6);
    let before = store.stats().unwrap();
    let good = write("good", "wave", vec![0.5; DIM]);
    let mut nan = vec![0.1; DIM];
    nan[3] = f32::NAN;
    let mut inf = vec![0.1; DIM];
    inf[5] = f32::INFINITY;
    let cases: Vec<(Write, &str)> = vec![
        (write("short", "wave", vec![0.1; DIM - 1]), "dimension 31"),
        (write("nan", "wave", nan), "index 3 is NaN"),
        (write("inf", "wave", inf), "index 5 is inf"),
        (write("zero", "wave", vec![0.0; DIM]), "all zeros"),
        (
            write("lost", "melody", vec![0.1; DIM]),
            "unknown vector space `melody`",
        ),
        (
            Write {
                item: item("empty"),
                vectors: vec![],
            },
            "is empty",
        ),
        (
            write("", "wave", vec![0.1; DIM]),
            "item id must be non-empty",
        ),
    ];
    for (bad, expected) in cases {
        // The bad write travels with a good one: the whole batch must be refused.
        let err = store.upsert(&[good.clone(), bad]).unwrap_err().to_string();
        assert!(
            err.contains(expected),
            "`{err}` should mention `{expected}`"
        );
    }
    let dup = store.upsert(&[good.clone(), good.clone()]).unwrap_err();
    assert!(matches!(dup, IndexError::DuplicateInBatch(_)));
    let after = store.stats().unwrap();
    assert_eq!(after.items, before.items);
    assert_eq!(after.seq, before.seq);
    assert!(store.get("good").unwrap().is_none());

    // Queries too.
    let e = store
        .search("wave", &[0.1; DIM + 1], 5, None, &Filter::default())
        .unwrap_err();
    assert!(e.to_string().contains("dimension 33"), "{e}");
    let e = store
        .search("nope", &[0.1; DIM], 5, None, &Filter::default())
        .unwrap_err();
    assert!(e.to_string().contains("unknown vector space `nope`"), "{e}");
    let e = store
        .search("wave", &[0.1; DIM], 0, None, &Filter::default())
        .unwrap_err();
    assert!(e.to_string().contains("k = 0"), "{e}");
    let e = store.text_search("   ", 5, &Filter::default()).unwrap_err();
    assert!(e.to_string().contains("empty text query"), "{e}");
    let e = store
        .create_space("Bad Name", SpaceParams::new(4))
        .unwrap_err();
    assert!(e.to_string().contains("invalid vector space name"), "{e}");
    let e = store
        .create_space("wave", SpaceParams::new(DIM + 1))
        .unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
}

fn media(
    id: &str,
    modality: Modality,
    source: &str,
    span: (f64, f64),
    tags: &[&str],
    caption: &str,
) -> Write {
    let mut seed = 0u64;
    for b in id.bytes() {
        seed = seed.wrapping_mul(31).wrapping_add(b as u64);
    }
    Write {
        item: Item {
            id: id.into(),
            modality,
            source: Some(source.into()),
            span: Some(span),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            caption: Some(caption.into()),
            ..Default::default()
        },
        vectors: vec![("wave".into(), clustered(1, DIM, 1, 0.5, seed).remove(0))],
    }
}

#[test]
fn filters_and_bm25_select_what_users_ask_for() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store
        .upsert(&[
            media(
                "a",
                Modality::Audio,
                "file:///music/a.flac",
                (0.0, 30.0),
                &["music"],
                "a dog barking in the park",
            ),
            media(
                "b",
                Modality::Video,
                "file:///films/b.mp4",
                (30.0, 60.0),
                &["film"],
                "a cat on a sofa",
            ),
            media(
                "c",
                Modality::AudioVideo,
                "file:///films/b.mp4",
                (60.0, 90.0),
                &["film", "dog"],
                "the dog chases the cat",
            ),
            media(
                "d",
                Modality::Text,
                "file:///notes/d.txt",
                (0.0, 0.0),
                &[],
                "wind over the sea",
            ),
        ])
        .unwrap();
    let q = vec![0.2; DIM];
    let ids = |f: Filter| {
        let mut v: Vec<String> = store
            .search("wave", &q, 10, None, &f)
            .unwrap()
            .into_iter()
            .map(|h| h.id)
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        ids(Filter {
            modalities: vec![Modality::Video, Modality::AudioVideo],
            ..Default::default()
        }),
        ["b", "c"]
    );
    assert_eq!(
        ids(Filter {
            tags: vec!["film".into(), "dog".into()],
            ..Default::default()
        }),
        ["c"]
    );
    assert_eq!(
        ids(Filter {
            sources: vec!["file:///films/".into()],
            ..Default::default()
        }),
        ["b", "c"]
    );
    assert_eq!(
        ids(Filter {
            time_range: Some((50.0, 70.0)),
            ..Default::default()
        }),
        ["b", "c"]
    );
    assert_eq!(ids(Filter::default()).len(), 4);

    let dog = store.text_search("dog", 10, &Filter::default()).unwrap();
    assert_eq!(
        dog.iter().map(|h| h.id.as_str()).collect::<Vec<_>>().len(),
        2
    );
    assert!(dog.iter().all(|h| h.score > 0.0));
    let dog_video = store
        .text_search(
            "dog",
            10,
            &Filter {
                modalities: vec![Modality::AudioVideo],
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(dog_video.len(), 1);
    assert_eq!(dog_video[0].id, "c");
    // Query syntax a user might type by accident is not an error.
    assert!(store
        .text_search("dog AND (", 10, &Filter::default())
        .is_ok());
}

#[test]
fn backup_of_a_live_store_opens_as_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(open(dir.path()));
    fill(&store, 200, 7);
    let writer = {
        let store = store.clone();
        std::thread::spawn(move || {
            for i in 0..100 {
                let mut w = write(
                    &format!("live{i}"),
                    "wave",
                    clustered(1, DIM, 1, 0.5, 1000 + i).remove(0),
                );
                w.item.title = Some(format!("live item {i}"));
                store.upsert(&[w]).unwrap();
            }
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(150));
    let backup_dir = tempfile::tempdir().unwrap();
    let target = backup_dir.path().join("backup");
    store.backup(&target).unwrap();
    writer.join().unwrap();
    assert!(
        store.backup(&target).is_err(),
        "backup refuses an existing target"
    );

    let copy = Store::open(&target, StoreOptions::default()).unwrap();
    let mut items = copy.item_ids().unwrap();
    let mut live = copy.live_ids("wave").unwrap();
    items.sort();
    live.sort();
    assert_eq!(items, live, "vector side matches the items");
    assert!(items.len() >= 200 && items.len() <= 300);
    let mut text = copy.text_ids().unwrap();
    text.sort();
    let titled: Vec<String> = items
        .iter()
        .filter(|i| i.starts_with("live"))
        .cloned()
        .collect();
    assert_eq!(text, titled, "BM25 side matches the items with text");
}
