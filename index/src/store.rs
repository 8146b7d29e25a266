//! The store: RocksDB as the source of truth, HNSW per vector space, tantivy BM25.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use rocksdb::{
    ColumnFamilyDescriptor, Direction, IteratorMode, Options, WriteBatch, WriteOptions, DB,
};
use wave_migrations::layout::{self, SpaceDef, VectorRecord};
use wave_migrations::v2;

use crate::error::IndexError;
use crate::filter::{Filter, ItemMeta};
use crate::item::{Item, Write};
use crate::options::{SpaceParams, StoreOptions, DEFAULT_EF_SEARCH};
use crate::space::{self, Graph, GraphOrigin, SnapshotHeader, Space};
use crate::text::TextIndex;

/// A vector on its way into a space's graph: unit vector, point id, item.
type PendingInsert = (Vec<f32>, usize, Arc<ItemMeta>);

/// Largest `k` a search accepts.
pub const MAX_K: usize = 10_000;

/// One search result: the item and its similarity (cosine for vectors, BM25 for text).
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: String,
    pub score: f32,
}

#[derive(Debug, Clone)]
pub struct SpaceStats {
    pub name: String,
    pub params: SpaceParams,
    pub live: usize,
    pub tombstones: usize,
    pub origin: GraphOrigin,
}

#[derive(Debug, Clone)]
pub struct Stats {
    pub items: usize,
    pub seq: u64,
    pub text_docs: u64,
    pub spaces: Vec<SpaceStats>,
}

pub struct Store {
    dir: PathBuf,
    db: DB,
    opts: StoreOptions,
    spaces: RwLock<BTreeMap<String, Arc<Space>>>,
    text: TextIndex,
    /// Serialises writers; holds the last acknowledged sequence number.
    writer: Mutex<u64>,
    /// How many items the store holds: counted once on open, then kept by the writers
    /// (changed only under `writer`, so it always matches the acknowledged `seq`).
    item_count: AtomicUsize,
}

fn db_path(dir: &Path) -> PathBuf {
    dir.join("db")
}
fn text_path(dir: &Path) -> PathBuf {
    dir.join("text")
}

fn valid_space_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn check_id(id: &str) -> Result<(), IndexError> {
    if id.is_empty() || id.len() > 1024 || id.contains('\0') {
        return Err(IndexError::BadId(id.to_string()));
    }
    Ok(())
}

/// Rejects NaN/inf/zero vectors and wrong dimensions; returns the L2-normalised vector.
fn checked_unit_vector(
    what: &str,
    space: &str,
    dim: usize,
    v: &[f32],
) -> Result<Vec<f32>, IndexError> {
    if v.len() != dim {
        return Err(IndexError::Dimension {
            what: what.to_string(),
            space: space.to_string(),
            expected: dim,
            found: v.len(),
        });
    }
    if let Some((index, &value)) = v.iter().enumerate().find(|(_, x)| !x.is_finite()) {
        return Err(IndexError::NonFinite {
            what: what.to_string(),
            index,
            value,
        });
    }
    let norm = v
        .iter()
        .map(|x| (*x as f64) * (*x as f64))
        .sum::<f64>()
        .sqrt();
    if norm == 0.0 || !norm.is_finite() {
        return Err(IndexError::ZeroVector {
            what: what.to_string(),
        });
    }
    Ok(v.iter().map(|x| (*x as f64 / norm) as f32).collect())
}

fn meta_of(item: &Item) -> Arc<ItemMeta> {
    Arc::new(ItemMeta {
        id: item.id.clone(),
        modality: item.modality,
        source: item.source.clone(),
        span: item.span,
        tags: item.tags.clone(),
    })
}

fn pending_key(seq: u64, id: &str) -> Vec<u8> {
    let mut k = seq.to_be_bytes().to_vec();
    k.extend_from_slice(id.as_bytes());
    k
}

fn space_meta_key(name: &str) -> Vec<u8> {
    let mut k = layout::META_SPACE_PREFIX.to_vec();
    k.extend_from_slice(name.as_bytes());
    k
}

/// Keys of one space's snapshot chunks lie in `[name\0, name\x01)`.
fn chunk_key(space: &str, chunk: u32) -> Vec<u8> {
    let mut k = space.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(&chunk.to_be_bytes());
    k
}

/// Makes a durable write visible to searches: its replaced points leave the spaces' filters,
/// its new points join them and their graphs.
fn show_durable_points(
    spaces: &BTreeMap<String, Arc<Space>>,
    tombstones: &[(String, u64)],
    inserts: BTreeMap<String, Vec<PendingInsert>>,
) {
    for (s, p) in tombstones {
        if let Some(space) = spaces.get(s) {
            space.set_point(&mut space.points.write(), *p as usize, None);
        }
    }
    for (name, rows) in inserts {
        let space = &spaces[&name];
        {
            let mut pts = space.points.write();
            for (_, p, meta) in &rows {
                space.set_point(&mut pts, *p, Some(meta.clone()));
            }
        }
        let graph = space.graph.read().clone();
        let refs: Vec<(&[f32], usize)> = rows.iter().map(|(v, p, _)| (v.as_slice(), *p)).collect();
        space::insert_points(&graph, &refs);
        space.graph_points.fetch_add(rows.len(), Ordering::Relaxed);
        space
            .inserts_since_snapshot
            .fetch_add(rows.len(), Ordering::Relaxed);
    }
}

impl Store {
    /// Opens or creates a store in `dir`, migrating an older schema and bringing the HNSW
    /// graphs and the BM25 index in line with RocksDB.
    pub fn open(dir: &Path, opts: StoreOptions) -> Result<Store, IndexError> {
        std::fs::create_dir_all(dir).map_err(|e| IndexError::Io {
            path: dir.to_path_buf(),
            source: e,
        })?;
        let mut db_opts = Options::default();
        db_opts.create_if_missing(true);
        db_opts.create_missing_column_families(true);
        let cfs = layout::ALL_CFS
            .iter()
            .map(|n| ColumnFamilyDescriptor::new(*n, Options::default()));
        let db = DB::open_cf_descriptors(&db_opts, db_path(dir), cfs)?;
        let applied = wave_migrations::migrate(&db)?;
        if !applied.is_empty() {
            tracing::info!(?applied, "store schema migrated");
        }
        let seq = match db.get_cf(layout::cf(&db, layout::CF_META), layout::META_SEQ)? {
            Some(b) => {
                u64::from_be_bytes(b.as_slice().try_into().map_err(|_| IndexError::Corrupt {
                    cf: layout::CF_META,
                    key: "seq".into(),
                    message: format!("expected 8 bytes, found {}", b.len()),
                })?)
            }
            None => 0,
        };

        let text_fresh = !text_path(dir).join("meta.json").exists();
        let text = match TextIndex::open(&text_path(dir), opts.text_writer_bytes) {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(error = %e, "BM25 index unreadable; rebuilding it from RocksDB");
                let p = text_path(dir);
                std::fs::remove_dir_all(&p).map_err(|e| IndexError::Io {
                    path: p.clone(),
                    source: e,
                })?;
                TextIndex::open(&p, opts.text_writer_bytes)?
            }
        };
        let text_fresh = text_fresh || text.num_docs() == 0 && text.committed_seq()? == 0;
        let mut item_count = 0;
        for entry in db.iterator_cf(layout::cf(&db, layout::CF_ITEMS), IteratorMode::Start) {
            entry?;
            item_count += 1;
        }

        let store = Store {
            dir: dir.to_path_buf(),
            db,
            opts,
            spaces: RwLock::new(BTreeMap::new()),
            text,
            writer: Mutex::new(seq),
            item_count: AtomicUsize::new(item_count),
        };
        store.load_spaces()?;
        store.recover_text(seq, text_fresh)?;
        Ok(store)
    }

    fn cf(&self, name: &str) -> &rocksdb::ColumnFamily {
        layout::cf(&self.db, name)
    }

    fn write_opts(&self) -> WriteOptions {
        let mut w = WriteOptions::default();
        w.set_sync(self.opts.sync_writes);
        w
    }

    fn decode_item(key: &[u8], value: &[u8]) -> Result<v2::ItemRecord, IndexError> {
        v2::decode_item(value).map_err(|message| IndexError::Corrupt {
            cf: layout::CF_ITEMS,
            key: String::from_utf8_lossy(key).into_owned(),
            message,
        })
    }

    fn space_defs(&self) -> Result<Vec<(String, SpaceDef)>, IndexError> {
        let meta = self.cf(layout::CF_META);
        let mut defs = vec![];
        let iter = self.db.iterator_cf(
            meta,
            IteratorMode::From(layout::META_SPACE_PREFIX, Direction::Forward),
        );
        for entry in iter {
            let (k, v) = entry?;
            let Some(name) = k.strip_prefix(layout::META_SPACE_PREFIX) else {
                break;
            };
            let name = String::from_utf8_lossy(name).into_owned();
            let def: SpaceDef = layout::decode(&v).map_err(|message| IndexError::Corrupt {
                cf: layout::CF_META,
                key: format!("space/{name}"),
                message,
            })?;
            defs.push((name, def));
        }
        Ok(defs)
    }

    fn space_def(&self, name: &str) -> Result<SpaceDef, IndexError> {
        let v = self
            .db
            .get_cf(self.cf(layout::CF_META), space_meta_key(name))?
            .ok_or_else(|| IndexError::UnknownSpaceQuery {
                space: name.to_string(),
                known: self.space_names().join(", "),
            })?;
        layout::decode(&v).map_err(|message| IndexError::Corrupt {
            cf: layout::CF_META,
            key: format!("space/{name}"),
            message,
        })
    }

    fn params_of(def: &SpaceDef) -> SpaceParams {
        SpaceParams {
            dim: def.dim as usize,
            max_connections: def.max_connections as usize,
            ef_construction: def.ef_construction as usize,
        }
    }

    /// Loads each space from its snapshot (replaying newer points) or rebuilds it, then marks
    /// the live points from the items column family.
    fn load_spaces(&self) -> Result<(), IndexError> {
        let defs = self.space_defs()?;
        let mut loaded = BTreeMap::new();
        for (name, def) in &defs {
            let params = Self::params_of(def);
            let (graph, origin) = self.load_or_rebuild_graph(name, &params, def.next_point)?;
            let space = Arc::new(Space::new(name, params, graph));
            *space.origin.lock() = origin;
            space.points.write().resize(def.next_point as usize, None);
            loaded.insert(name.clone(), space);
        }
        for entry in self
            .db
            .iterator_cf(self.cf(layout::CF_ITEMS), IteratorMode::Start)
        {
            let (k, v) = entry?;
            let rec = Self::decode_item(&k, &v)?;
            let points = rec.points.clone();
            let meta = meta_of(&Item::from_record(rec));
            for (s, p) in points {
                let space = loaded.get(&s).ok_or_else(|| IndexError::Corrupt {
                    cf: layout::CF_ITEMS,
                    key: meta.id.clone(),
                    message: format!("refers to undefined vector space `{s}`"),
                })?;
                let mut pts = space.points.write();
                if p as usize >= pts.len() {
                    return Err(IndexError::Corrupt {
                        cf: layout::CF_ITEMS,
                        key: meta.id.clone(),
                        message: format!("point {p} of space `{s}` is beyond its allocated points"),
                    });
                }
                space.set_point(&mut pts, p as usize, Some(meta.clone()));
            }
        }
        *self.spaces.write() = loaded;
        Ok(())
    }

    fn load_or_rebuild_graph(
        &self,
        name: &str,
        params: &SpaceParams,
        next_point: u64,
    ) -> Result<(Graph, GraphOrigin), IndexError> {
        let reason = match self.read_snapshot(name, params) {
            Ok(Some((header, graph))) => {
                let replayed =
                    self.insert_points_from(name, &graph, header.covered_points, u64::MAX)?;
                tracing::info!(
                    space = name,
                    snapshot_seq = header.seq,
                    replayed,
                    "space loaded from snapshot"
                );
                return Ok((graph, GraphOrigin::Snapshot { replayed }));
            }
            Ok(None) if next_point == 0 => {
                return Ok((space::new_graph(params, 0), GraphOrigin::New))
            }
            Ok(None) => "no snapshot".to_string(),
            Err(e) => e.to_string(),
        };
        tracing::warn!(space = name, %reason, "rebuilding the HNSW graph from stored vectors");
        Ok((
            self.rebuild_graph(name, params)?,
            GraphOrigin::Rebuilt { reason },
        ))
    }

    fn rebuild_graph(&self, name: &str, params: &SpaceParams) -> Result<Graph, IndexError> {
        let graph = space::new_graph(params, 0);
        self.insert_points_from(name, &graph, 0, u64::MAX)?;
        Ok(graph)
    }

    /// Inserts the stored vectors of points `from..to` of a space into `graph`; returns how many.
    fn insert_points_from(
        &self,
        name: &str,
        graph: &Graph,
        from: u64,
        to: u64,
    ) -> Result<usize, IndexError> {
        let cf = self.cf(layout::CF_VECTORS);
        let start = layout::vector_key(name, from);
        let mut batch: Vec<(Vec<f32>, usize)> = Vec::with_capacity(4096);
        let mut total = 0;
        let flush = |batch: &mut Vec<(Vec<f32>, usize)>| {
            let refs: Vec<(&[f32], usize)> =
                batch.iter().map(|(v, p)| (v.as_slice(), *p)).collect();
            space::insert_points(graph, &refs);
            batch.clear();
        };
        for entry in self
            .db
            .iterator_cf(cf, IteratorMode::From(&start, Direction::Forward))
        {
            let (k, v) = entry?;
            let Some((s, p)) = layout::parse_vector_key(&k) else {
                break;
            };
            if s != name || p >= to {
                break;
            }
            let rec: VectorRecord = layout::decode(&v).map_err(|message| IndexError::Corrupt {
                cf: layout::CF_VECTORS,
                key: format!("{name}/{p}"),
                message,
            })?;
            batch.push((rec.vector, p as usize));
            total += 1;
            if batch.len() == 4096 {
                flush(&mut batch);
            }
        }
        if !batch.is_empty() {
            flush(&mut batch);
        }
        Ok(total)
    }

    fn read_snapshot(
        &self,
        name: &str,
        params: &SpaceParams,
    ) -> Result<Option<(SnapshotHeader, Graph)>, IndexError> {
        let cf = self.cf(layout::CF_SNAPSHOTS);
        let Some(hb) = self.db.get_cf(cf, name.as_bytes())? else {
            return Ok(None);
        };
        let corrupt = |message: String| IndexError::Corrupt {
            cf: layout::CF_SNAPSHOTS,
            key: name.to_string(),
            message,
        };
        let header: SnapshotHeader = layout::decode(&hb).map_err(corrupt)?;
        let mut all = Vec::with_capacity((header.graph_len + header.data_len) as usize);
        for c in 0..header.chunks {
            let chunk = self
                .db
                .get_cf(cf, chunk_key(name, c))?
                .ok_or_else(|| corrupt(format!("chunk {c} of {} is missing", header.chunks)))?;
            all.extend_from_slice(&chunk);
        }
        let (g, d) = space::verify_snapshot(&header, all).map_err(corrupt)?;
        let scratch = tempfile::tempdir_in(&self.dir).map_err(|e| IndexError::Io {
            path: self.dir.clone(),
            source: e,
        })?;
        let graph = space::load_graph(name, params, &g, &d, scratch.path())?;
        if graph.get_nb_point() as u64 > header.covered_points {
            return Err(corrupt(format!(
                "snapshot holds {} points but claims to cover ids below {}",
                graph.get_nb_point(),
                header.covered_points
            )));
        }
        Ok(Some((header, graph)))
    }

    /// Re-applies BM25 changes RocksDB has and tantivy's last commit does not.
    fn recover_text(&self, seq: u64, fresh: bool) -> Result<(), IndexError> {
        let committed = self.text.committed_seq()?;
        let pending_cf = self.cf(layout::CF_TEXT_PENDING);
        let has_items = self
            .db
            .iterator_cf(self.cf(layout::CF_ITEMS), IteratorMode::Start)
            .next()
            .is_some();
        if fresh && has_items {
            tracing::warn!("BM25 index empty or new; rebuilding it from RocksDB");
            self.text.clear()?;
            let mut changes = vec![];
            for entry in self
                .db
                .iterator_cf(self.cf(layout::CF_ITEMS), IteratorMode::Start)
            {
                let (k, v) = entry?;
                let item = Item::from_record(Self::decode_item(&k, &v)?);
                changes.push((item.id.clone(), Some(item)));
                if changes.len() == 10_000 {
                    self.text.apply(&changes, seq)?;
                    changes.clear();
                }
            }
            self.text.apply(&changes, seq)?;
        } else if committed < seq {
            let mut ids = HashSet::new();
            let from = (committed + 1).to_be_bytes();
            for entry in self
                .db
                .iterator_cf(pending_cf, IteratorMode::From(&from, Direction::Forward))
            {
                let (k, _) = entry?;
                ids.insert(String::from_utf8_lossy(&k[8..]).into_owned());
            }
            let mut changes = vec![];
            for id in ids {
                let item = self.get(&id)?;
                changes.push((id, item));
            }
            tracing::info!(
                from = committed,
                to = seq,
                items = changes.len(),
                "catching BM25 up with RocksDB"
            );
            self.text.apply(&changes, seq)?;
        }
        self.db
            .delete_range_cf(pending_cf, 0u64.to_be_bytes(), (seq + 1).to_be_bytes())?;
        Ok(())
    }

    /// Declares a vector space. Idempotent when the parameters match the existing space.
    pub fn create_space(&self, name: &str, params: SpaceParams) -> Result<(), IndexError> {
        if !valid_space_name(name) {
            return Err(IndexError::BadSpaceName(name.to_string()));
        }
        if params.dim == 0 || params.dim > 65_536 {
            return Err(IndexError::BadParam(format!(
                "dimension {} (allowed 1..=65536)",
                params.dim
            )));
        }
        if params.max_connections < 2 || params.max_connections > 256 {
            return Err(IndexError::BadParam(format!(
                "max_connections {} (allowed 2..=256)",
                params.max_connections
            )));
        }
        if params.ef_construction == 0 {
            return Err(IndexError::BadParam(
                "ef_construction must be positive".into(),
            ));
        }
        let _w = self.writer.lock();
        if let Some(existing) = self.spaces.read().get(name) {
            if existing.params == params {
                return Ok(());
            }
            return Err(IndexError::SpaceMismatch {
                space: name.to_string(),
                existing: format!("{:?}", existing.params),
                requested: format!("{params:?}"),
            });
        }
        let def = SpaceDef {
            dim: params.dim as u32,
            max_connections: params.max_connections as u32,
            ef_construction: params.ef_construction as u32,
            next_point: 0,
        };
        self.db.put_cf_opt(
            self.cf(layout::CF_META),
            space_meta_key(name),
            layout::encode(&def),
            &self.write_opts(),
        )?;
        let space = Arc::new(Space::new(name, params, space::new_graph(&params, 0)));
        self.spaces.write().insert(name.to_string(), space);
        Ok(())
    }

    pub fn space_names(&self) -> Vec<String> {
        self.spaces.read().keys().cloned().collect()
    }

    pub fn space_params(&self, name: &str) -> Option<SpaceParams> {
        self.spaces.read().get(name).map(|s| s.params)
    }

    fn space(&self, name: &str) -> Result<Arc<Space>, IndexError> {
        self.spaces
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| IndexError::UnknownSpaceQuery {
                space: name.to_string(),
                known: self.space_names().join(", "),
            })
    }

    /// Writes items with their vectors atomically: all or nothing. Returns once durable
    /// (WAL synced unless `sync_writes` is off) and visible to searches. Returns the batch's
    /// sequence number.
    pub fn upsert(&self, writes: &[Write]) -> Result<u64, IndexError> {
        // Validate everything before touching anything.
        let spaces = self.spaces.read().clone();
        let mut seen = HashSet::new();
        let mut unit_vectors: Vec<Vec<(Arc<Space>, Vec<f32>)>> = Vec::with_capacity(writes.len());
        for w in writes {
            let id = &w.item.id;
            check_id(id)?;
            if !seen.insert(id.as_str()) {
                return Err(IndexError::DuplicateInBatch(id.clone()));
            }
            if w.vectors.is_empty() && !w.item.has_text() {
                return Err(IndexError::EmptyRecord(id.clone()));
            }
            if let Some((s, e)) = w.item.span {
                if !(s.is_finite() && e.is_finite() && s >= 0.0 && e >= s) {
                    return Err(IndexError::BadItem {
                        id: id.clone(),
                        message: format!("span [{s}, {e}] is not a valid time range"),
                    });
                }
            }
            let mut vs = vec![];
            let mut seen_spaces = HashSet::new();
            for (space_name, v) in &w.vectors {
                let space = spaces
                    .get(space_name)
                    .ok_or_else(|| IndexError::UnknownSpace {
                        id: id.clone(),
                        space: space_name.clone(),
                        known: spaces.keys().cloned().collect::<Vec<_>>().join(", "),
                    })?;
                if !seen_spaces.insert(space_name.as_str()) {
                    return Err(IndexError::BadItem {
                        id: id.clone(),
                        message: format!("two vectors for space `{space_name}`"),
                    });
                }
                let unit =
                    checked_unit_vector(&format!("item `{id}`"), space_name, space.params.dim, v)?;
                vs.push((space.clone(), unit));
            }
            unit_vectors.push(vs);
        }
        if writes.is_empty() {
            return Ok(*self.writer.lock());
        }

        let mut seq_guard = self.writer.lock();
        let seq = *seq_guard + 1;
        let items_cf = self.cf(layout::CF_ITEMS);
        let vectors_cf = self.cf(layout::CF_VECTORS);
        let mut batch = WriteBatch::default();
        let mut next_points: BTreeMap<String, SpaceDef> = BTreeMap::new();
        let mut tombstones: Vec<(String, u64)> = vec![];
        let mut inserts: BTreeMap<String, Vec<PendingInsert>> = BTreeMap::new();
        let mut text_changes: Vec<(String, Option<Item>)> = vec![];
        let mut new_items = 0;
        for (w, vs) in writes.iter().zip(unit_vectors) {
            let id = &w.item.id;
            let mut had_text = false;
            let old = self.db.get_cf(items_cf, id.as_bytes())?;
            new_items += usize::from(old.is_none());
            if let Some(old) = old {
                let (old, old_points) =
                    Item::from_record_with_points(Self::decode_item(id.as_bytes(), &old)?);
                had_text = old.has_text();
                for (s, p) in old_points {
                    batch.delete_cf(vectors_cf, layout::vector_key(&s, p));
                    tombstones.push((s, p));
                }
            }
            let meta = meta_of(&w.item);
            let mut points = vec![];
            for (space, unit) in vs {
                let def = match next_points.get_mut(&space.name) {
                    Some(d) => d,
                    None => {
                        let d = self.space_def(&space.name)?;
                        next_points.entry(space.name.clone()).or_insert(d)
                    }
                };
                let p = def.next_point;
                def.next_point += 1;
                batch.put_cf(
                    vectors_cf,
                    layout::vector_key(&space.name, p),
                    layout::encode(&VectorRecord {
                        item: id.clone(),
                        vector: unit.clone(),
                    }),
                );
                points.push((space.name.clone(), p));
                inserts.entry(space.name.clone()).or_default().push((
                    unit,
                    p as usize,
                    meta.clone(),
                ));
            }
            batch.put_cf(
                items_cf,
                id.as_bytes(),
                v2::encode_item(&w.item.to_record(seq, points)),
            );
            // Only items whose text appears, changes or disappears concern the BM25 side.
            if had_text || w.item.has_text() {
                batch.put_cf(self.cf(layout::CF_TEXT_PENDING), pending_key(seq, id), b"");
                text_changes.push((id.clone(), Some(w.item.clone())));
            }
        }
        for (name, def) in &next_points {
            batch.put_cf(
                self.cf(layout::CF_META),
                space_meta_key(name),
                layout::encode(def),
            );
        }
        batch.put_cf(
            self.cf(layout::CF_META),
            layout::META_SEQ,
            seq.to_be_bytes(),
        );
        self.db.write_opt(batch, &self.write_opts())?;
        *seq_guard = seq;
        self.item_count.fetch_add(new_items, Ordering::Relaxed);

        // Durable: now make it visible.
        show_durable_points(&spaces, &tombstones, inserts);
        if !text_changes.is_empty() {
            self.commit_text(&text_changes, seq)?;
        }
        self.maintain(&spaces, seq_guard)
    }

    /// Sets one space's vector of existing items and leaves everything else about them (their
    /// other vectors, text and fields) as it is, in one atomic write: adding a new kind of
    /// vector to stored items without re-inserting the ones they have. Ids with no item are
    /// skipped and returned.
    pub fn put_vectors(
        &self,
        space_name: &str,
        vectors: &[(&str, Vec<f32>)],
    ) -> Result<Vec<String>, IndexError> {
        let space = self.space(space_name)?;
        let mut seen = HashSet::new();
        let mut units = Vec::with_capacity(vectors.len());
        for (id, v) in vectors {
            check_id(id)?;
            if !seen.insert(*id) {
                return Err(IndexError::DuplicateInBatch(id.to_string()));
            }
            let what = format!("item `{id}`");
            units.push(checked_unit_vector(&what, space_name, space.params.dim, v)?);
        }
        let spaces = self.spaces.read().clone();
        let mut seq_guard = self.writer.lock();
        let seq = *seq_guard + 1;
        let items_cf = self.cf(layout::CF_ITEMS);
        let vectors_cf = self.cf(layout::CF_VECTORS);
        let mut def = self.space_def(space_name)?;
        let mut batch = WriteBatch::default();
        let mut tombstones = vec![];
        let mut rows: Vec<PendingInsert> = vec![];
        let mut missing = vec![];
        for ((id, _), unit) in vectors.iter().zip(units) {
            let Some(old) = self.db.get_cf(items_cf, id.as_bytes())? else {
                missing.push(id.to_string());
                continue;
            };
            let (item, mut points) =
                Item::from_record_with_points(Self::decode_item(id.as_bytes(), &old)?);
            if let Some(i) = points.iter().position(|(s, _)| s == space_name) {
                let (s, p) = points.remove(i);
                batch.delete_cf(vectors_cf, layout::vector_key(&s, p));
                tombstones.push((s, p));
            }
            let p = def.next_point;
            def.next_point += 1;
            batch.put_cf(
                vectors_cf,
                layout::vector_key(space_name, p),
                layout::encode(&VectorRecord {
                    item: id.to_string(),
                    vector: unit.clone(),
                }),
            );
            points.push((space_name.to_string(), p));
            batch.put_cf(
                items_cf,
                id.as_bytes(),
                v2::encode_item(&item.to_record(seq, points)),
            );
            rows.push((unit, p as usize, meta_of(&item)));
        }
        if rows.is_empty() {
            return Ok(missing);
        }
        batch.put_cf(
            self.cf(layout::CF_META),
            space_meta_key(space_name),
            layout::encode(&def),
        );
        batch.put_cf(
            self.cf(layout::CF_META),
            layout::META_SEQ,
            seq.to_be_bytes(),
        );
        self.db.write_opt(batch, &self.write_opts())?;
        *seq_guard = seq;
        let inserts = BTreeMap::from([(space_name.to_string(), rows)]);
        show_durable_points(&spaces, &tombstones, inserts);
        self.maintain(&spaces, seq_guard)?;
        Ok(missing)
    }

    /// Deletes items by id; unknown ids are ignored. Returns how many existed.
    pub fn delete(&self, ids: &[&str]) -> Result<usize, IndexError> {
        for id in ids {
            check_id(id)?;
        }
        let spaces = self.spaces.read().clone();
        let mut seq_guard = self.writer.lock();
        let seq = *seq_guard + 1;
        let mut batch = WriteBatch::default();
        let mut tombstones = vec![];
        let mut text_changes = vec![];
        let mut deleted = 0;
        // An id named twice is deleted (and counted) once.
        let mut seen = HashSet::new();
        for id in ids.iter().filter(|id| seen.insert(**id)) {
            let Some(old) = self.db.get_cf(self.cf(layout::CF_ITEMS), id.as_bytes())? else {
                continue;
            };
            let old = Item::from_record_with_points(Self::decode_item(id.as_bytes(), &old)?);
            for (s, p) in old.1 {
                batch.delete_cf(self.cf(layout::CF_VECTORS), layout::vector_key(&s, p));
                tombstones.push((s, p));
            }
            batch.delete_cf(self.cf(layout::CF_ITEMS), id.as_bytes());
            if old.0.has_text() {
                batch.put_cf(self.cf(layout::CF_TEXT_PENDING), pending_key(seq, id), b"");
                text_changes.push((id.to_string(), None));
            }
            deleted += 1;
        }
        if deleted == 0 {
            return Ok(0);
        }
        batch.put_cf(
            self.cf(layout::CF_META),
            layout::META_SEQ,
            seq.to_be_bytes(),
        );
        self.db.write_opt(batch, &self.write_opts())?;
        *seq_guard = seq;
        self.item_count.fetch_sub(deleted, Ordering::Relaxed);
        for (s, p) in tombstones {
            if let Some(space) = spaces.get(&s) {
                space.set_point(&mut space.points.write(), p as usize, None);
            }
        }
        if !text_changes.is_empty() {
            self.commit_text(&text_changes, seq)?;
        }
        self.maintain(&spaces, seq_guard)?;
        Ok(deleted)
    }

    fn commit_text(&self, changes: &[(String, Option<Item>)], seq: u64) -> Result<(), IndexError> {
        self.text.apply(changes, seq)?;
        // Not synced: losing this delete only means re-applying idempotent changes on open.
        self.db.delete_range_cf(
            self.cf(layout::CF_TEXT_PENDING),
            0u64.to_be_bytes(),
            (seq + 1).to_be_bytes(),
        )?;
        Ok(())
    }

    /// After a write: snapshot spaces with many new points, compact those with many tombstones.
    fn maintain(
        &self,
        spaces: &BTreeMap<String, Arc<Space>>,
        seq_guard: parking_lot::MutexGuard<'_, u64>,
    ) -> Result<u64, IndexError> {
        let seq = *seq_guard;
        for space in spaces.values() {
            if space.inserts_since_snapshot.load(Ordering::Relaxed) >= self.opts.snapshot_every {
                self.write_snapshot(space, seq)?;
            }
        }
        drop(seq_guard);
        for space in spaces.values() {
            let total = space.graph_points.load(Ordering::Relaxed);
            if total >= 100
                && space.tombstones() as f64 > self.opts.compact_tombstone_share * total as f64
            {
                self.compact(&space.name)?;
            }
        }
        Ok(seq)
    }

    /// Persists a space's graph. Caller holds the writer lock, so the graph holds exactly the
    /// points below the space's `next_point`.
    fn write_snapshot(&self, space: &Space, seq: u64) -> Result<(), IndexError> {
        let def = self.space_def(&space.name)?;
        let graph = space.graph.read().clone();
        let scratch = tempfile::tempdir_in(&self.dir).map_err(|e| IndexError::Io {
            path: self.dir.clone(),
            source: e,
        })?;
        let (g, d) = space::dump_graph(&space.name, &graph, scratch.path())?;
        let (header, chunks) = space::chunk_snapshot(seq, def.next_point, &g, &d);
        let cf = self.cf(layout::CF_SNAPSHOTS);
        let mut batch = WriteBatch::default();
        let mut end = space.name.as_bytes().to_vec();
        end.push(1);
        batch.delete_range_cf(cf, chunk_key(&space.name, 0), end);
        for (i, c) in chunks.iter().enumerate() {
            batch.put_cf(cf, chunk_key(&space.name, i as u32), c);
        }
        batch.put_cf(cf, space.name.as_bytes(), layout::encode(&header));
        self.db.write_opt(batch, &self.write_opts())?;
        space.inserts_since_snapshot.store(0, Ordering::Relaxed);
        tracing::debug!(space = %space.name, seq, bytes = g.len() + d.len(), "HNSW snapshot written");
        Ok(())
    }

    /// Writes a snapshot of every space that changed since its last one.
    pub fn flush(&self) -> Result<(), IndexError> {
        let seq = self.writer.lock();
        for space in self.spaces.read().values() {
            if space.inserts_since_snapshot.load(Ordering::Relaxed) > 0
                || self
                    .db
                    .get_cf(self.cf(layout::CF_SNAPSHOTS), space.name.as_bytes())?
                    .is_none()
            {
                self.write_snapshot(space, *seq)?;
            }
        }
        self.db.flush_wal(true)?;
        Ok(())
    }

    /// Rebuilds a space's graph without its tombstones. Searches keep using the old graph
    /// until the new one is swapped in; writes continue and are caught up before the swap.
    pub fn compact(&self, name: &str) -> Result<(), IndexError> {
        let space = self.space(name)?;
        if space.compacting.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let result = (|| {
            let covered = self.space_def(name)?.next_point;
            let graph = space::new_graph(&space.params, space.live_count());
            self.insert_points_from(name, &graph, 0, covered)?;
            let seq = self.writer.lock();
            self.insert_points_from(name, &graph, covered, u64::MAX)?;
            let n = graph.get_nb_point();
            *space.graph.write() = Arc::new(graph);
            space.graph_points.store(n, Ordering::Relaxed);
            self.write_snapshot(&space, *seq)?;
            tracing::info!(space = name, points = n, "space compacted");
            Ok(())
        })();
        space.compacting.store(false, Ordering::Release);
        result
    }

    pub fn get(&self, id: &str) -> Result<Option<Item>, IndexError> {
        match self.db.get_cf(self.cf(layout::CF_ITEMS), id.as_bytes())? {
            None => Ok(None),
            Some(v) => Ok(Some(Item::from_record(Self::decode_item(
                id.as_bytes(),
                &v,
            )?))),
        }
    }

    /// The stored (unit-length) vector of an item in a space.
    pub fn vector(&self, space: &str, id: &str) -> Result<Option<Vec<f32>>, IndexError> {
        self.space(space)?;
        let Some(v) = self.db.get_cf(self.cf(layout::CF_ITEMS), id.as_bytes())? else {
            return Ok(None);
        };
        let rec = Self::decode_item(id.as_bytes(), &v)?;
        let Some((_, p)) = rec.points.iter().find(|(s, _)| s == space) else {
            return Ok(None);
        };
        self.read_vector(space, *p).map(|r| r.map(|r| r.vector))
    }

    fn read_vector(&self, space: &str, p: u64) -> Result<Option<VectorRecord>, IndexError> {
        match self
            .db
            .get_cf(self.cf(layout::CF_VECTORS), layout::vector_key(space, p))?
        {
            None => Ok(None),
            Some(v) => layout::decode(&v)
                .map(Some)
                .map_err(|message| IndexError::Corrupt {
                    cf: layout::CF_VECTORS,
                    key: format!("{space}/{p}"),
                    message,
                }),
        }
    }

    /// Nearest items to `query` by cosine similarity. `ef` defaults to a recall-oriented
    /// value; a filter matching few items is answered by exact search over those items.
    pub fn search(
        &self,
        space: &str,
        query: &[f32],
        k: usize,
        ef: Option<usize>,
        filter: &Filter,
    ) -> Result<Vec<Hit>, IndexError> {
        let sp = self.space(space)?;
        if k == 0 || k > MAX_K {
            return Err(IndexError::BadParam(format!(
                "k = {k} (allowed 1..={MAX_K})"
            )));
        }
        let q = checked_unit_vector("query", space, sp.params.dim, query)?;
        let ef = ef.unwrap_or(DEFAULT_EF_SEARCH).max(k);
        let points = sp.points.read();
        let graph = sp.graph.read().clone();
        let neighbours = if filter.is_empty() {
            if sp.tombstones() == 0 {
                graph.search(&q, k, ef)
            } else {
                let live = |p: &usize| points.get(*p).is_some_and(Option::is_some);
                graph.search_filter(&q, k, ef, Some(&live))
            }
        } else {
            let matching: Vec<usize> = points
                .iter()
                .enumerate()
                .filter(|(_, m)| m.as_ref().is_some_and(|m| filter.matches(m)))
                .map(|(p, _)| p)
                .collect();
            let live = sp.live_count().max(1);
            if matching.len() <= self.opts.exact_filter_max_matches
                && matching.len() as f64 <= self.opts.exact_filter_max_share * live as f64
            {
                drop(points);
                return self.exact_search(space, &q, k, &matching);
            }
            // Fewer matches need a wider beam to find k of them.
            let share = matching.len() as f64 / live as f64;
            let ef = ((ef as f64 / share.max(0.05)).ceil() as usize).min(4 * ef.max(k));
            graph.search_filter(&q, k, ef, Some(&matching))
        };
        Ok(neighbours
            .into_iter()
            .filter_map(|n| {
                let meta = points.get(n.d_id)?.as_ref()?;
                Some(Hit {
                    id: meta.id.clone(),
                    score: 1.0 - n.distance,
                })
            })
            .collect())
    }

    fn exact_search(
        &self,
        space: &str,
        q: &[f32],
        k: usize,
        candidates: &[usize],
    ) -> Result<Vec<Hit>, IndexError> {
        let cf = self.cf(layout::CF_VECTORS);
        let keys: Vec<_> = candidates
            .iter()
            .map(|p| (cf, layout::vector_key(space, *p as u64)))
            .collect();
        let mut hits = Vec::with_capacity(candidates.len());
        for (p, value) in candidates.iter().zip(self.db.multi_get_cf(keys)) {
            let Some(bytes) = value? else { continue };
            let rec: VectorRecord =
                layout::decode(&bytes).map_err(|message| IndexError::Corrupt {
                    cf: layout::CF_VECTORS,
                    key: format!("{space}/{p}"),
                    message,
                })?;
            let dot: f32 = rec.vector.iter().zip(q).map(|(a, b)| a * b).sum();
            hits.push(Hit {
                id: rec.item,
                score: dot,
            });
        }
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        hits.truncate(k);
        Ok(hits)
    }

    /// BM25 over title, caption and transcript.
    pub fn text_search(
        &self,
        query: &str,
        k: usize,
        filter: &Filter,
    ) -> Result<Vec<Hit>, IndexError> {
        if query.trim().is_empty() {
            return Err(IndexError::BadParam("empty text query".into()));
        }
        if k == 0 || k > MAX_K {
            return Err(IndexError::BadParam(format!(
                "k = {k} (allowed 1..={MAX_K})"
            )));
        }
        let mut limit = if filter.is_empty() { k } else { k * 4 };
        loop {
            let raw = self.text.search(query, limit)?;
            let exhausted = raw.len() < limit;
            let mut hits = vec![];
            for (id, score) in raw {
                if !filter.is_empty() {
                    let Some(item) = self.get(&id)? else { continue };
                    if !filter.matches(&meta_of(&item)) {
                        continue;
                    }
                }
                hits.push(Hit { id, score });
                if hits.len() == k {
                    return Ok(hits);
                }
            }
            if exhausted || limit >= 64 * k.max(16) {
                return Ok(hits);
            }
            limit *= 4;
        }
    }

    /// Ids of every item, in id order.
    pub fn item_ids(&self) -> Result<Vec<String>, IndexError> {
        let mut ids = vec![];
        for entry in self
            .db
            .iterator_cf(self.cf(layout::CF_ITEMS), IteratorMode::Start)
        {
            let (k, _) = entry?;
            ids.push(String::from_utf8_lossy(&k).into_owned());
        }
        Ok(ids)
    }

    /// Ids of the items the BM25 index holds.
    pub fn text_ids(&self) -> Result<Vec<String>, IndexError> {
        self.text.all_ids()
    }

    /// Ids of the live items of a space, as its in-memory graph filter sees them.
    pub fn live_ids(&self, space: &str) -> Result<Vec<String>, IndexError> {
        let sp = self.space(space)?;
        let pts = sp.points.read();
        Ok(pts.iter().flatten().map(|m| m.id.clone()).collect())
    }

    pub fn stats(&self) -> Result<Stats, IndexError> {
        let writer = self.writer.lock();
        let (seq, items) = (*writer, self.item_count.load(Ordering::Relaxed));
        drop(writer);
        let spaces = self
            .spaces
            .read()
            .values()
            .map(|s| SpaceStats {
                name: s.name.clone(),
                params: s.params,
                live: s.live_count(),
                tombstones: s.tombstones(),
                origin: s.origin.lock().clone(),
            })
            .collect();
        Ok(Stats {
            items,
            seq,
            text_docs: self.text.num_docs(),
            spaces,
        })
    }

    /// Last acknowledged sequence number.
    pub fn seq(&self) -> u64 {
        *self.writer.lock()
    }

    /// A consistent copy of the live store in `dest` (which must not exist): a RocksDB
    /// checkpoint plus the BM25 files, taken while writes are held back.
    pub fn backup(&self, dest: &Path) -> Result<(), IndexError> {
        if dest.exists() {
            return Err(IndexError::BadParam(format!(
                "backup target {} already exists",
                dest.display()
            )));
        }
        let _seq = self.writer.lock();
        std::fs::create_dir_all(dest).map_err(|e| IndexError::Io {
            path: dest.to_path_buf(),
            source: e,
        })?;
        rocksdb::checkpoint::Checkpoint::new(&self.db)?.create_checkpoint(db_path(dest))?;
        // tantivy may merge segments in the background; retry if a file vanishes mid-copy.
        // A BM25 copy that still fails is rebuilt from RocksDB when the backup is opened.
        for attempt in 0..3 {
            let target = text_path(dest);
            let _ = std::fs::remove_dir_all(&target);
            match copy_dir(self.text.path(), &target) {
                Ok(()) => return Ok(()),
                Err(e) if attempt < 2 => tracing::debug!(error = %e, "retrying BM25 copy"),
                Err(e) => {
                    tracing::warn!(error = %e, "BM25 files not copied; the backup rebuilds them on open");
                    let _ = std::fs::remove_dir_all(&target);
                }
            }
        }
        Ok(())
    }
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().ends_with(".lock") {
            continue;
        }
        std::fs::copy(entry.path(), to.join(name))?;
    }
    Ok(())
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Err(e) = self.flush() {
            tracing::warn!(error = %e, "could not write HNSW snapshots on close");
        }
    }
}
