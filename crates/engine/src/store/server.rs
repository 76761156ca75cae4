//! A Qdrant server or cluster as the store, over gRPC with `qdrant-client`.
//!
//! The collection mirrors the embedded shard: the same named dense and sparse (IDF) vectors and
//! the same keyword payload indexes, and hybrid search runs on the server as prefetch + RRF with
//! the same rank constant, so results match the embedded engine's. The client is async; the
//! store owns a small runtime and blocks on it, because the core's API is synchronous (it runs
//! on worker threads, never on an async executor).

use std::collections::HashMap;
use std::time::Duration;

use qdrant_client::qdrant::{
    Condition, CountPointsBuilder, CreateCollectionBuilder, CreateFieldIndexCollectionBuilder,
    DeletePointsBuilder, Distance, FieldType, Filter, Modifier, NamedVectors, PointId, PointStruct,
    PrefetchQueryBuilder, Query, QueryPointsBuilder, Rrf, ScrollPointsBuilder,
    SparseVectorParamsBuilder, SparseVectorsConfigBuilder, UpsertPointsBuilder, Value, Vector,
    VectorInput, VectorParamsBuilder, VectorsConfigBuilder, point_id::PointIdOptions,
    vector_output, vectors_config, vectors_output,
};
use qdrant_client::{Payload, Qdrant, QdrantError};
use uuid::Uuid;

use super::{
    DENSE, Hit, Mode, Page, Passage, Point, SPARSE, Scope, SearchRequest, StoreError, VectorStore,
};
use crate::config::ServerStoreConfig;
use crate::embed::DIMENSION;
use crate::lexical;
use crate::text::Lang;

/// RRF's rank constant: the embedded engine's, so both rank alike.
const RRF_K: u32 = 60;
/// Points per upsert request: well under the server's default 32 MiB message limit.
const UPSERT_BATCH: usize = 256;
const SCROLL_PAGE: u32 = 256;
/// The payload fields filters use; each gets a keyword index.
const KEYWORD_FIELDS: [&str; 4] = ["source", "doc_id", "topic_id", "lang"];

/// Whether opening may create the collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    /// Normal use: a new library starts with an empty collection.
    IfMissing,
    /// Reading from a server (`migrate --from`): a missing collection is an error.
    Never,
}

pub struct ServerStore {
    client: Qdrant,
    // An Option only so that Drop can shut it down without blocking (see below).
    runtime: Option<tokio::runtime::Runtime>,
    url: String,
    collection: String,
    /// Used only when this store creates the collection (a cluster's layout).
    shard_number: Option<u32>,
    replication_factor: Option<u32>,
}

impl Drop for ServerStore {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which panics if the store is dropped inside an async
        // context (the desktop shell's or the web server's); this never blocks.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

fn api_key(config: &ServerStoreConfig) -> Result<Option<String>, StoreError> {
    crate::keys::lookup(config.api_key_env.as_deref(), &config.qdrant_url).map_err(|unset| {
        StoreError::Open {
            path: config.qdrant_url.clone(),
            message: format!(
                "the API key variable {} named in config.toml ([store] api_key_env) is not set",
                unset.0
            ),
        }
    })
}

impl ServerStore {
    /// Connects, checks the key, and checks (or creates) the collection. Nothing is written to
    /// an existing collection that does not fit, so a wrong setting cannot damage anything.
    pub fn connect(config: &ServerStoreConfig, create: Create) -> Result<ServerStore, StoreError> {
        let url = config.qdrant_url.trim().trim_end_matches('/').to_string();
        let collection = config.collection.trim().to_string();
        if collection.is_empty() {
            return Err(StoreError::Open {
                path: url,
                message: "the collection name ([store] collection) is empty".into(),
            });
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("qdrant-client")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Open {
                path: url.clone(),
                message: e.to_string(),
            })?;
        let client = Qdrant::from_url(&url)
            .api_key(api_key(config)?)
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            // The version check prints to standard output, which the CLI's JSON modes own.
            .skip_compatibility_check()
            .build()
            .map_err(|e| StoreError::Unreachable {
                url: url.clone(),
                message: e.to_string(),
            })?;
        let store = ServerStore {
            client,
            runtime: Some(runtime),
            url,
            collection,
            shard_number: config.shard_number,
            replication_factor: config.replication_factor,
        };
        store.block(store.client.health_check()).map_err(|e| {
            match store.error("health check", e) {
                StoreError::Server { url, message, .. } => StoreError::Unreachable { url, message },
                other => other,
            }
        })?;
        let exists = store
            .block(store.client.collection_exists(&store.collection))
            .map_err(|e| store.error("check the collection", e))?;
        if exists {
            store.check_collection()?;
        } else if create == Create::Never {
            return Err(store.missing());
        } else {
            store.create_collection()?;
        }
        Ok(store)
    }

    fn block<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime
            .as_ref()
            .expect("the runtime lives as long as the store")
            .block_on(future)
    }

    fn missing(&self) -> StoreError {
        StoreError::MissingCollection {
            url: self.url.clone(),
            collection: self.collection.clone(),
        }
    }

    fn incompatible(&self, message: String) -> StoreError {
        StoreError::Incompatible {
            url: self.url.clone(),
            collection: self.collection.clone(),
            message,
        }
    }

    /// Turns a client error into one that says what to do about it.
    fn error(&self, operation: &'static str, error: QdrantError) -> StoreError {
        use tonic::Code;
        let url = self.url.clone();
        let QdrantError::ResponseError { status } = &error else {
            return StoreError::Server {
                url,
                operation,
                message: error.to_string(),
            };
        };
        let message = status.message().to_string();
        let transport = message.contains("Failed to connect")
            || message.contains("h2 protocol")
            || message.contains("grpc-status header missing");
        match status.code() {
            Code::Unavailable | Code::DeadlineExceeded => StoreError::Unreachable {
                url,
                message: connection_problem(&message, status.code()),
            },
            Code::Internal | Code::Unknown if transport => StoreError::Unreachable {
                url,
                message: connection_problem(&message, status.code()),
            },
            Code::Unauthenticated | Code::PermissionDenied => {
                StoreError::Unauthorized { url, message }
            }
            Code::NotFound if message.contains("ollection") => self.missing(),
            Code::InvalidArgument if message.contains("imension") => self.incompatible(message),
            _ => StoreError::Server {
                url,
                operation,
                message: format!("{:?}: {message}", status.code()),
            },
        }
    }

    /// An existing collection must have StudyDesk's vectors, or every write and search would
    /// fail later with a less helpful message.
    fn check_collection(&self) -> Result<(), StoreError> {
        let info = self
            .block(self.client.collection_info(&self.collection))
            .map_err(|e| self.error("read the collection's settings", e))?
            .result
            .and_then(|info| info.config)
            .and_then(|config| config.params)
            .ok_or_else(|| self.incompatible("the server did not describe it".into()))?;
        let dense = match info.vectors_config.and_then(|v| v.config) {
            Some(vectors_config::Config::ParamsMap(map)) => map.map.get(DENSE).cloned(),
            _ => None,
        };
        let Some(dense) = dense else {
            return Err(self.incompatible(format!("it has no vector named {DENSE:?}")));
        };
        if dense.size != DIMENSION as u64 {
            return Err(self.incompatible(format!(
                "its {DENSE:?} vectors have {} dimensions, but StudyDesk's embedding model makes {DIMENSION}",
                dense.size
            )));
        }
        if dense.distance != Distance::Cosine as i32 {
            return Err(self.incompatible(format!(
                "its {DENSE:?} vectors are not compared by cosine distance"
            )));
        }
        let has_sparse = info
            .sparse_vectors_config
            .is_some_and(|sparse| sparse.map.contains_key(SPARSE));
        if !has_sparse {
            return Err(self.incompatible(format!("it has no sparse vector named {SPARSE:?}")));
        }
        Ok(())
    }

    fn create_collection(&self) -> Result<(), StoreError> {
        let mut vectors = VectorsConfigBuilder::default();
        vectors.add_named_vector_params(
            DENSE,
            VectorParamsBuilder::new(DIMENSION as u64, Distance::Cosine),
        );
        let mut sparse = SparseVectorsConfigBuilder::default();
        sparse.add_named_vector_params(
            SPARSE,
            SparseVectorParamsBuilder::default().modifier(Modifier::Idf),
        );
        let mut create = CreateCollectionBuilder::new(&self.collection)
            .vectors_config(vectors)
            .sparse_vectors_config(sparse);
        if let Some(shards) = self.shard_number {
            create = create.shard_number(shards);
        }
        if let Some(copies) = self.replication_factor {
            create = create.replication_factor(copies);
        }
        self.block(self.client.create_collection(create))
            .map_err(|e| self.error("create the collection", e))?;
        for field in KEYWORD_FIELDS {
            self.block(
                self.client.create_field_index(
                    CreateFieldIndexCollectionBuilder::new(
                        &self.collection,
                        field,
                        FieldType::Keyword,
                    )
                    .wait(true),
                ),
            )
            .map_err(|e| self.error("create a payload index", e))?;
        }
        Ok(())
    }

    /// Removes the collection and everything in it (tests, and undoing a migration).
    pub fn drop_collection(&self) -> Result<(), StoreError> {
        self.block(self.client.delete_collection(&self.collection))
            .map(drop)
            .map_err(|e| self.error("delete the collection", e))
    }
}

/// The cause of a failed connection in a few words, with the usual fix; the transport's own
/// text (a nested debug dump) is kept only when it is none of the usual ones.
fn connection_problem(message: &str, code: tonic::Code) -> String {
    if message.contains("Connection refused") {
        "connection refused: is Qdrant running there, and is that its gRPC port (6334 by default)?"
            .into()
    } else if message.contains("dns error") {
        "the host name does not resolve".into()
    } else if message.contains("h2 protocol") || message.contains("http2 error") {
        "the server there does not speak gRPC (Qdrant's gRPC port is 6334; 6333 is its REST API)"
            .into()
    } else if message.contains("InvalidContentType") || message.contains("InvalidCertificate") {
        "the TLS handshake failed: use http:// for a server without TLS, or check its certificate"
            .into()
    } else if message.contains("grpc-status header missing") {
        "the server there is not Qdrant's gRPC API (Qdrant's gRPC port is 6334)".into()
    } else if code == tonic::Code::DeadlineExceeded || message.contains("timed out") {
        "no answer in time".into()
    } else if message.is_empty() {
        format!("{code:?}")
    } else {
        message.to_string()
    }
}

fn filter(scope: &Scope) -> Option<Filter> {
    let mut conditions = Vec::new();
    if let Some(source) = scope.source {
        conditions.push(Condition::matches("source", source.as_str().to_string()));
    }
    for (field, value) in [
        ("topic_id", scope.topic_id.as_deref()),
        ("doc_id", scope.doc_id.as_deref()),
        ("lang", scope.lang.map(Lang::as_str)),
    ] {
        if let Some(value) = value {
            conditions.push(Condition::matches(field, value.to_string()));
        }
    }
    (!conditions.is_empty()).then(|| Filter::must(conditions))
}

fn uuid_of(id: Option<PointId>) -> Result<Uuid, StoreError> {
    match id.and_then(|id| id.point_id_options) {
        Some(PointIdOptions::Uuid(text)) => Uuid::parse_str(&text)
            .map_err(|e| StoreError::Payload(format!("point id {text:?}: {e}"))),
        Some(PointIdOptions::Num(n)) => Err(StoreError::Payload(format!(
            "unexpected numeric point id {n}"
        ))),
        None => Err(StoreError::Payload("a point without an id".into())),
    }
}

fn passage_of(id: Uuid, payload: HashMap<String, Value>) -> Result<Passage, StoreError> {
    let json = serde_json::Value::from(Payload::from(payload));
    serde_json::from_value(json).map_err(|e| StoreError::Payload(format!("point {id}: {e}")))
}

fn vectors_of(
    id: Uuid,
    vectors: Option<qdrant_client::qdrant::VectorsOutput>,
) -> Result<(Vec<f32>, lexical::SparseVector), StoreError> {
    let missing = |what: &str| StoreError::Payload(format!("point {id} has no {what} vector"));
    let Some(vectors_output::VectorsOptions::Vectors(mut named)) =
        vectors.and_then(|v| v.vectors_options)
    else {
        return Err(missing("named"));
    };
    let dense = match named.vectors.remove(DENSE).map(|v| v.into_vector()) {
        Some(vector_output::Vector::Dense(dense)) => dense.data,
        _ => return Err(missing("dense")),
    };
    // A passage without indexable terms is stored without a sparse vector.
    let sparse = match named.vectors.remove(SPARSE).map(|v| v.into_vector()) {
        Some(vector_output::Vector::Sparse(sparse)) => lexical::SparseVector {
            indices: sparse.indices,
            values: sparse.values,
        },
        None => lexical::SparseVector::default(),
        Some(_) => return Err(missing("sparse")),
    };
    Ok((dense, sparse))
}

fn to_point_struct(point: Point) -> Result<PointStruct, StoreError> {
    let mut vectors = NamedVectors::default().add_vector(DENSE, Vector::new_dense(point.dense));
    if !point.sparse.is_empty() {
        vectors = vectors.add_vector(
            SPARSE,
            Vector::new_sparse(point.sparse.indices, point.sparse.values),
        );
    }
    let payload = serde_json::to_value(&point.passage)
        .map_err(|e| StoreError::Payload(e.to_string()))
        .and_then(|json| Payload::try_from(json).map_err(|e| StoreError::Payload(e.to_string())))?;
    Ok(PointStruct::new(point.id.to_string(), vectors, payload))
}

impl VectorStore for ServerStore {
    fn upsert(&self, points: Vec<Point>) -> Result<(), StoreError> {
        let mut structs = points
            .into_iter()
            .map(to_point_struct)
            .collect::<Result<Vec<_>, _>>()?;
        while !structs.is_empty() {
            let rest = structs.split_off(structs.len().min(UPSERT_BATCH));
            self.block(
                self.client
                    .upsert_points(UpsertPointsBuilder::new(&self.collection, structs).wait(true)),
            )
            .map_err(|e| self.error("upsert", e))?;
            structs = rest;
        }
        Ok(())
    }

    fn delete(&self, scope: &Scope) -> Result<(), StoreError> {
        let filter = filter(scope).unwrap_or_default();
        self.block(
            self.client.delete_points(
                DeletePointsBuilder::new(&self.collection)
                    .points(filter)
                    .wait(true),
            ),
        )
        .map(drop)
        .map_err(|e| self.error("delete", e))
    }

    fn count(&self, scope: &Scope) -> Result<usize, StoreError> {
        let mut request = CountPointsBuilder::new(&self.collection).exact(true);
        if let Some(filter) = filter(scope) {
            request = request.filter(filter);
        }
        let response = self
            .block(self.client.count(request))
            .map_err(|e| self.error("count", e))?;
        Ok(response.result.map_or(0, |r| r.count as usize))
    }

    fn search(&self, request: &SearchRequest<'_>) -> Result<Vec<Hit>, StoreError> {
        let dense = || Query::new_nearest(request.dense.to_vec());
        let sparse = || {
            Query::new_nearest(VectorInput::new_sparse(
                request.sparse.indices.clone(),
                request.sparse.values.clone(),
            ))
        };
        let filter = filter(request.scope);
        let prefetch = |query: Query, using: &str| {
            let mut prefetch = PrefetchQueryBuilder::default()
                .query(query)
                .using(using)
                .limit(request.candidates as u64);
            if let Some(filter) = &filter {
                prefetch = prefetch.filter(filter.clone());
            }
            prefetch
        };
        let mut query = QueryPointsBuilder::new(&self.collection)
            .limit(request.limit as u64)
            .with_payload(true);
        query = match request.mode {
            Mode::Dense => query.query(dense()).using(DENSE),
            Mode::Lexical if request.sparse.is_empty() => return Ok(Vec::new()),
            Mode::Lexical => query.query(sparse()).using(SPARSE),
            Mode::Hybrid if request.sparse.is_empty() => query.query(dense()).using(DENSE),
            Mode::Hybrid => query
                .add_prefetch(prefetch(dense(), DENSE))
                .add_prefetch(prefetch(sparse(), SPARSE))
                .query(Query::new_rrf(Rrf {
                    k: Some(RRF_K),
                    weights: Vec::new(),
                })),
        };
        if let Some(filter) = filter.clone() {
            query = query.filter(filter);
        }
        let response = self
            .block(self.client.query(query))
            .map_err(|e| self.error("search", e))?;
        response
            .result
            .into_iter()
            .map(|point| {
                let id = uuid_of(point.id)?;
                Ok(Hit {
                    id,
                    score: point.score,
                    passage: passage_of(id, point.payload)?,
                })
            })
            .collect()
    }

    fn passages(&self, scope: &Scope) -> Result<Vec<(Uuid, Passage)>, StoreError> {
        let mut out = Vec::new();
        let mut offset: Option<PointId> = None;
        loop {
            let mut request = ScrollPointsBuilder::new(&self.collection)
                .limit(SCROLL_PAGE)
                .with_payload(true)
                .with_vectors(false);
            if let Some(filter) = filter(scope) {
                request = request.filter(filter);
            }
            if let Some(offset) = offset.take() {
                request = request.offset(offset);
            }
            let response = self
                .block(self.client.scroll(request))
                .map_err(|e| self.error("scroll", e))?;
            for point in response.result {
                let id = uuid_of(point.id)?;
                out.push((id, passage_of(id, point.payload)?));
            }
            match response.next_page_offset {
                Some(next) => offset = Some(next),
                None => break,
            }
        }
        Ok(out)
    }

    fn page(&self, from: Option<Uuid>, limit: usize) -> Result<Page, StoreError> {
        let mut request = ScrollPointsBuilder::new(&self.collection)
            .limit(limit as u32)
            .with_payload(true)
            .with_vectors(true);
        if let Some(from) = from {
            request = request.offset(from.to_string());
        }
        let response = self
            .block(self.client.scroll(request))
            .map_err(|e| self.error("scroll", e))?;
        let mut points = Vec::with_capacity(response.result.len());
        for point in response.result {
            let id = uuid_of(point.id)?;
            let (dense, sparse) = vectors_of(id, point.vectors)?;
            points.push(Point {
                id,
                dense,
                sparse,
                passage: passage_of(id, point.payload)?,
            });
        }
        let next = match response.next_page_offset {
            Some(next) => Some(uuid_of(Some(next))?),
            None => None,
        };
        Ok(Page { points, next })
    }

    fn location(&self) -> String {
        format!(
            "collection {:?} on the Qdrant server at {}",
            self.collection, self.url
        )
    }

    /// Every write already waited for the server to apply it (`wait = true`).
    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// The server builds its indexes itself, in the background; this waits until it has
    /// (status green, or grey: nothing left it would start on its own), so a large import ends
    /// with a collection that searches at full speed, as the embedded engine's optimize does.
    fn optimize(&self) -> Result<(), StoreError> {
        use qdrant_client::qdrant::CollectionStatus;
        loop {
            let status = self
                .block(self.client.collection_info(&self.collection))
                .map_err(|e| self.error("read the collection's status", e))?
                .result
                .map(|info| info.status)
                .ok_or_else(|| self.incompatible("the server did not describe it".into()))?;
            match CollectionStatus::try_from(status) {
                Ok(CollectionStatus::Green | CollectionStatus::Grey) => return Ok(()),
                Ok(CollectionStatus::Red) => {
                    return Err(StoreError::Server {
                        url: self.url.clone(),
                        operation: "build the collection's indexes",
                        message: format!(
                            "the server reports collection {:?} as failed (status red); see its log",
                            self.collection
                        ),
                    });
                }
                _ => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }
}
