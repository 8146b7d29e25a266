//! `wave search`: one query against a running server (`--server URL`) or a local store
//! (`--db DIR`), printed as a table or as JSON.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use serde_json::{json, Value};
use wave_index::{Store, StoreOptions};
use wave_query::pb;
use wave_query::{Model, Searcher, SearcherConfig};

#[derive(Clone, Copy, ValueEnum)]
enum ModalityArg {
    Text,
    Audio,
    Video,
    AudioVideo,
}

#[derive(Clone, Copy, ValueEnum)]
enum FusionArg {
    Rrf,
    WeightedSum,
    Normalized,
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["server", "db"])))]
#[command(group(clap::ArgGroup::new("query").required(true).args(["text", "audio", "video", "item", "hum"])))]
pub struct SearchArgs {
    /// Server URL, e.g. http://127.0.0.1:50051 (https:// for TLS).
    #[arg(long)]
    server: Option<String>,
    /// Search a local store directly (not while a server holds it open).
    #[arg(long)]
    db: Option<PathBuf>,
    /// Model for a local search that needs embedding [default: models/wave-tiny].
    #[arg(long)]
    model: Option<PathBuf>,
    /// Vector space of a local store.
    #[arg(long, default_value = wave_query::DEFAULT_SPACE)]
    space: String,
    #[arg(long)]
    text: Option<String>,
    /// An audio file to search with.
    #[arg(long)]
    audio: Option<PathBuf>,
    /// A video file to search with (its soundtrack too, if any).
    #[arg(long)]
    video: Option<PathBuf>,
    /// A hummed, whistled or sung tune (audio file): find clips by sound and by melody.
    #[arg(long)]
    hum: Option<PathBuf>,
    /// Weight of the melody list in a hum search, 0..=1 (default: the one chosen on val).
    #[arg(long, requires = "hum")]
    melody_weight: Option<f32>,
    /// A stored item's id: find items like it.
    #[arg(long)]
    item: Option<String>,
    /// Instruction or question for media queries and re-embedding.
    #[arg(long)]
    prompt: Option<String>,
    /// Return only these modalities (repeatable).
    #[arg(long = "modality", value_enum)]
    modalities: Vec<ModalityArg>,
    #[arg(long, default_value_t = 10)]
    top_k: u32,
    /// Items carrying this tag (repeatable; all must match).
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// Items whose source starts with this prefix (repeatable; any may match).
    #[arg(long = "source")]
    sources: Vec<String>,
    /// Items whose span overlaps [START, END] seconds.
    #[arg(long, num_args = 2, value_names = ["START", "END"])]
    time_range: Option<Vec<f64>>,
    /// BM25 on or off (default: on for text queries).
    #[arg(long)]
    bm25: Option<bool>,
    #[arg(long)]
    bm25_weight: Option<f32>,
    #[arg(long, value_enum, default_value = "rrf")]
    fusion: FusionArg,
    #[arg(long, default_value_t = 60)]
    rrf_k: u32,
    /// Re-embed the top N candidates with --prompt.
    #[arg(long, default_value_t = 0)]
    rerank: u32,
    /// Re-embedding time budget (ms; 0: the server's default).
    #[arg(long, default_value_t = 0)]
    rerank_budget_ms: u32,
    /// Bearer token for a server that requires one.
    #[arg(long, env = "WAVE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// CA certificate (PEM) to trust for an https:// server.
    #[arg(long)]
    ca_cert: Option<PathBuf>,
    /// Print the response as JSON.
    #[arg(long)]
    json: bool,
}

fn media(path: &PathBuf) -> Result<pb::Media> {
    let data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let format = path
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(pb::Media { data, format })
}

fn request(a: &SearchArgs) -> Result<pb::SearchRequest> {
    use pb::query::Input;
    let input = if let Some(t) = &a.text {
        Input::Text(t.clone())
    } else if let Some(p) = a.audio.as_ref().or(a.hum.as_ref()) {
        Input::Audio(media(p)?)
    } else if let Some(p) = &a.video {
        Input::Video(media(p)?)
    } else if let Some(id) = &a.item {
        Input::ItemId(id.clone())
    } else {
        bail!("give --text, --audio, --video or --item");
    };
    let modalities = a
        .modalities
        .iter()
        .map(|m| match m {
            ModalityArg::Text => pb::Modality::Text,
            ModalityArg::Audio => pb::Modality::Audio,
            ModalityArg::Video => pb::Modality::Video,
            ModalityArg::AudioVideo => pb::Modality::AudioVideo,
        } as i32)
        .collect();
    Ok(pb::SearchRequest {
        query: Some(pb::Query {
            input: Some(input),
            prompt: a.prompt.clone().unwrap_or_default(),
        }),
        modalities,
        top_k: a.top_k,
        filter: Some(pb::Filter {
            tags: a.tags.clone(),
            sources: a.sources.clone(),
            time_range: a.time_range.as_ref().map(|r| pb::TimeRange {
                start: r[0],
                end: r[1],
            }),
        }),
        hybrid: Some(pb::Hybrid {
            bm25: a.bm25,
            bm25_weight: a.bm25_weight,
            fusion: match a.fusion {
                FusionArg::Rrf => pb::Fusion::Rrf,
                FusionArg::WeightedSum => pb::Fusion::WeightedSum,
                FusionArg::Normalized => pb::Fusion::Normalized,
            } as i32,
            rrf_k: a.rrf_k,
        }),
        rerank: Some(pb::Rerank {
            top_n: a.rerank,
            budget_ms: a.rerank_budget_ms,
        }),
        ef: 0,
        hum: a.hum.as_ref().map(|_| pb::HumSettings {
            enable: true,
            melody_weight: a.melody_weight,
        }),
    })
}

pub fn run(args: SearchArgs) -> Result<()> {
    let req = request(&args)?;
    let resp = match (&args.server, &args.db) {
        (Some(url), _) => remote(&args, url, req)?,
        (None, Some(db)) => local(&args, db, req)?,
        (None, None) => bail!("give --server URL or --db DIR"),
    };
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&to_json(&resp))?);
    } else {
        print_table(&resp);
    }
    Ok(())
}

fn local(a: &SearchArgs, db: &Path, req: pb::SearchRequest) -> Result<pb::SearchResponse> {
    let store = Arc::new(
        Store::open(db, StoreOptions::default())
            .with_context(|| format!("opening the store at {}", db.display()))?,
    );
    let needs_model = a.item.is_none() || a.rerank > 0;
    let model = if needs_model {
        let dir = crate::serve_cmd::model_dir(a.model.as_deref())?;
        Some(Arc::new(Model::load(&dir).with_context(|| {
            format!("loading the model from {}", dir.display())
        })?))
    } else {
        None
    };
    let mut cfg = SearcherConfig::new(db);
    cfg.space = a.space.clone();
    let searcher = Searcher::new(store, model, cfg)?;
    Ok(searcher.search(&req, None)?)
}

fn remote(a: &SearchArgs, url: &str, req: pb::SearchRequest) -> Result<pb::SearchResponse> {
    use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut endpoint =
            Endpoint::from_shared(url.to_string()).with_context(|| format!("server URL {url}"))?;
        if url.starts_with("https://") {
            let mut tls = ClientTlsConfig::new();
            if let Some(ca) = &a.ca_cert {
                let pem = std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?;
                tls = tls.ca_certificate(Certificate::from_pem(pem));
            }
            endpoint = endpoint.tls_config(tls)?;
        }
        let channel = endpoint
            .connect()
            .await
            .with_context(|| format!("connecting to {url}"))?;
        let mut client = pb::wave_client::WaveClient::new(channel)
            .max_decoding_message_size(64 << 20)
            .max_encoding_message_size(64 << 20);
        let mut request = tonic::Request::new(req);
        if let Some(t) = a.token.as_deref().filter(|t| !t.is_empty()) {
            request.metadata_mut().insert(
                "authorization",
                format!("Bearer {t}")
                    .parse()
                    .context("token is not a valid header")?,
            );
        }
        let resp = client
            .search(request)
            .await
            .map_err(|s| anyhow::anyhow!("{:?}: {}", s.code(), s.message()))?;
        Ok(resp.into_inner())
    })
}

fn modality_name(m: i32) -> &'static str {
    match pb::Modality::try_from(m) {
        Ok(pb::Modality::Text) => "text",
        Ok(pb::Modality::Audio) => "audio",
        Ok(pb::Modality::Video) => "video",
        Ok(pb::Modality::AudioVideo) => "audio_video",
        _ => "unspecified",
    }
}

fn to_json(r: &pb::SearchResponse) -> Value {
    let results: Vec<Value> = r
        .results
        .iter()
        .map(|x| {
            let s = x.stages.unwrap_or_default();
            json!({
                "id": x.id,
                "score": x.score,
                "modality": modality_name(x.modality),
                "source": x.source,
                "start": x.start,
                "end": x.end,
                "title": x.title,
                "caption": x.caption,
                "transcript": x.transcript,
                "tags": x.tags,
                "stages": {
                    "vector_score": s.vector_score,
                    "vector_rank": s.vector_rank,
                    "bm25_score": s.bm25_score,
                    "bm25_rank": s.bm25_rank,
                    "fused_score": s.fused_score,
                    "fused_rank": s.fused_rank,
                    "rerank_score": s.rerank_score,
                    "rerank_rank": s.rerank_rank,
                    "melody_score": s.melody_score,
                    "melody_rank": s.melody_rank,
                },
            })
        })
        .collect();
    json!({
        "results": results,
        "reembedded": r.reembedded,
        "reembed_cache_hits": r.reembed_cache_hits,
        "reembed_budget_exhausted": r.reembed_budget_exhausted,
        "embed_ms": r.embed_ms,
        "search_ms": r.search_ms,
        "rerank_ms": r.rerank_ms,
    })
}

fn print_table(r: &pb::SearchResponse) {
    for (i, x) in r.results.iter().enumerate() {
        let span = match (x.start, x.end) {
            (Some(s), Some(e)) => format!(" [{s:.1}-{e:.1}s]"),
            _ => String::new(),
        };
        let s = x.stages.unwrap_or_default();
        let stage = |name: &str, v: Option<f32>, r: Option<u32>| match (v, r) {
            (Some(v), Some(r)) => format!(" {name}={v:.4}#{r}"),
            _ => String::new(),
        };
        outln!(
            "{:>3}. {:.4}  {}  {}  {}{}{}{}{}{}{}",
            i + 1,
            x.score,
            x.id,
            modality_name(x.modality),
            x.source,
            span,
            stage("vec", s.vector_score, s.vector_rank),
            stage("bm25", s.bm25_score, s.bm25_rank),
            stage("rerank", s.rerank_score, s.rerank_rank),
            stage("melody", s.melody_score, s.melody_rank),
            if x.title.is_empty() {
                String::new()
            } else {
                format!("  \"{}\"", x.title)
            },
        );
    }
    if r.results.is_empty() {
        outln!("no results");
    }
}
