//! BM25 over the items' text fields, with tantivy, in `<store>/text`.
//!
//! RocksDB stays the source of truth. Every write also records `(seq, id)` in the
//! `text_pending` column family in the same atomic batch; the tantivy commit carries the
//! highest sequence number it covers as its payload. On open, pending entries above that
//! number are re-applied, so BM25 catches up with RocksDB after a crash.

use std::path::{Path, PathBuf};

use parking_lot::Mutex;
use tantivy::collector::TopDocs;
use tantivy::directory::MmapDirectory;
use tantivy::query::QueryParser;
use tantivy::schema::{Field, Schema, Value, STORED, STRING, TEXT};
use tantivy::{doc, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::error::IndexError;
use crate::item::Item;

pub(crate) struct TextIndex {
    path: PathBuf,
    index: Index,
    writer: Mutex<IndexWriter>,
    reader: IndexReader,
    id: Field,
    title: Field,
    caption: Field,
    transcript: Field,
}

fn schema() -> Schema {
    let mut b = Schema::builder();
    b.add_text_field("id", STRING | STORED);
    b.add_text_field("title", TEXT);
    b.add_text_field("caption", TEXT);
    b.add_text_field("transcript", TEXT);
    b.build()
}

impl TextIndex {
    /// Opens (or creates) the index. A directory tantivy cannot read is reported as an error;
    /// the caller decides whether to rebuild it.
    pub fn open(path: &Path, writer_bytes: usize) -> Result<TextIndex, IndexError> {
        let terr = |e: tantivy::TantivyError| IndexError::Text {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        std::fs::create_dir_all(path).map_err(|e| IndexError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let dir = MmapDirectory::open(path).map_err(|e| IndexError::Text {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let index = Index::open_or_create(dir, schema()).map_err(terr)?;
        let writer = index.writer(writer_bytes).map_err(terr)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(terr)?;
        let s = index.schema();
        let field = |n: &str| s.get_field(n).map_err(terr);
        Ok(TextIndex {
            path: path.to_path_buf(),
            id: field("id")?,
            title: field("title")?,
            caption: field("caption")?,
            transcript: field("transcript")?,
            index,
            writer: Mutex::new(writer),
            reader,
        })
    }

    fn err(&self, e: tantivy::TantivyError) -> IndexError {
        IndexError::Text {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    /// The sequence number the last commit covers (0 for a new index).
    pub fn committed_seq(&self) -> Result<u64, IndexError> {
        let metas = self.index.load_metas().map_err(|e| self.err(e))?;
        Ok(metas.payload.and_then(|p| p.parse().ok()).unwrap_or(0))
    }

    /// Replaces (or, with `None`, removes) the documents of the given ids, commits with `seq`
    /// as payload, and makes the result visible to searches.
    pub fn apply(&self, changes: &[(String, Option<Item>)], seq: u64) -> Result<(), IndexError> {
        let mut w = self.writer.lock();
        for (id, item) in changes {
            w.delete_term(Term::from_field_text(self.id, id));
            if let Some(item) = item.as_ref().filter(|i| i.has_text()) {
                let mut d = doc!(self.id => id.as_str());
                for (field, value) in [
                    (self.title, &item.title),
                    (self.caption, &item.caption),
                    (self.transcript, &item.transcript),
                ] {
                    if let Some(v) = value {
                        d.add_text(field, v);
                    }
                }
                w.add_document(d).map_err(|e| self.err(e))?;
            }
        }
        let mut commit = w.prepare_commit().map_err(|e| self.err(e))?;
        commit.set_payload(&seq.to_string());
        commit.commit().map_err(|e| self.err(e))?;
        drop(w);
        self.reader.reload().map_err(|e| self.err(e))
    }

    /// Removes every document (used before a full rebuild from RocksDB).
    pub fn clear(&self) -> Result<(), IndexError> {
        let mut w = self.writer.lock();
        w.delete_all_documents().map_err(|e| self.err(e))?;
        w.commit().map_err(|e| self.err(e))?;
        Ok(())
    }

    /// BM25 top-`limit` over title, caption and transcript. Query syntax errors are tolerated
    /// (tantivy's lenient parser), so any user string is a valid query.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<(String, f32)>, IndexError> {
        let parser =
            QueryParser::for_index(&self.index, vec![self.title, self.caption, self.transcript]);
        let (q, _errors) = parser.parse_query_lenient(query);
        let searcher = self.reader.searcher();
        let top = searcher
            .search(&q, &TopDocs::with_limit(limit.max(1)).order_by_score())
            .map_err(|e| self.err(e))?;
        let mut out = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let d: TantivyDocument = searcher.doc(addr).map_err(|e| self.err(e))?;
            if let Some(id) = d.get_first(self.id).and_then(|v| v.as_str()) {
                out.push((id.to_string(), score));
            }
        }
        Ok(out)
    }

    /// Every indexed id (for consistency checks and stats).
    pub fn all_ids(&self) -> Result<Vec<String>, IndexError> {
        let searcher = self.reader.searcher();
        let n = searcher.num_docs() as usize;
        let top = searcher
            .search(
                &tantivy::query::AllQuery,
                &TopDocs::with_limit(n.max(1)).order_by_score(),
            )
            .map_err(|e| self.err(e))?;
        let mut ids = Vec::with_capacity(n);
        for (_, addr) in top {
            let d: TantivyDocument = searcher.doc(addr).map_err(|e| self.err(e))?;
            if let Some(id) = d.get_first(self.id).and_then(|v| v.as_str()) {
                ids.push(id.to_string());
            }
        }
        Ok(ids)
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}
