//! The embedded engine: one qdrant-edge shard in the data folder.

use std::fs::File;
use std::path::{Path, PathBuf};

use qdrant_edge::external::serde_json;
use qdrant_edge::*;

use super::{
    DENSE, Hit, Mode, Page, Passage, Point, SPARSE, Scope, SearchRequest, StoreError, VectorStore,
};
use crate::embed::DIMENSION;
use crate::lexical;
use uuid::Uuid;

/// RRF's rank constant, as in Qdrant and the original paper.
const RRF_K: usize = 60;

pub struct EdgeStore {
    shard: EdgeShard,
    dir: PathBuf,
    // Held for the store's lifetime: a second process on the same folder is refused before it
    // can touch the shard's files (qdrant-edge repairs segments before taking its own lock).
    _lock: File,
}

fn op_err(operation: &'static str) -> impl Fn(OperationError) -> StoreError {
    move |e| StoreError::Operation {
        operation,
        message: e.to_string(),
    }
}

impl EdgeStore {
    pub fn open(dir: &Path) -> Result<EdgeStore, StoreError> {
        let path = dir.display().to_string();
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let lock = File::create(dir.join("studydesk.lock")).map_err(|e| StoreError::Open {
            path: path.clone(),
            message: e.to_string(),
        })?;
        if lock.try_lock().is_err() {
            return Err(StoreError::Locked { path });
        }
        let shard_dir: PathBuf = dir.join("shard");
        let config = EdgeConfig::builder()
            .vector(
                DENSE,
                EdgeVectorParams::builder(DIMENSION, Distance::Cosine).build(),
            )
            .sparse_vector(
                SPARSE,
                EdgeSparseVectorParams::builder()
                    .modifier(Modifier::Idf)
                    .build(),
            )
            .build();
        let fresh = !shard_dir.join("edge_config.json").exists();
        let shard = if fresh {
            EdgeShard::new(&shard_dir, config)
        } else {
            EdgeShard::load(&shard_dir, Some(config))
        }
        .map_err(|e| {
            if e.to_string().contains("WouldBlock") {
                StoreError::Locked { path: path.clone() }
            } else {
                StoreError::Open {
                    path: path.clone(),
                    message: e.to_string(),
                }
            }
        })?;
        let store = EdgeStore {
            shard,
            dir: dir.to_path_buf(),
            _lock: lock,
        };
        // Idempotent, so an index written by an older version gains the fields it lacks.
        for field in ["source", "doc_id", "topic_id", "lang"] {
            store.create_keyword_index(field)?;
        }
        Ok(store)
    }

    fn create_keyword_index(&self, field: &str) -> Result<(), StoreError> {
        self.shard
            .update(UpdateOperation::FieldIndexOperation(
                FieldIndexOperations::CreateIndex(CreateIndex {
                    field_name: json_path(field),
                    field_schema: Some(PayloadFieldSchema::FieldType(PayloadSchemaType::Keyword)),
                }),
            ))
            .map_err(op_err("create payload index"))
    }

    fn run_query(&self, request: QueryRequest) -> Result<Vec<Hit>, StoreError> {
        let points = self.shard.query(request).map_err(op_err("search"))?;
        points.into_iter().map(to_hit).collect()
    }
}

fn json_path(field: &str) -> JsonPath {
    field
        .try_into()
        .expect("static field names are valid JSON paths")
}

fn filter(scope: &Scope) -> Option<Filter> {
    let mut conditions = Vec::new();
    let mut keyword = |field: &str, value: &str| {
        conditions.push(Condition::Field(FieldCondition::new_match(
            json_path(field),
            Match::new_value(ValueVariants::String(value.to_string())),
        )));
    };
    if let Some(source) = scope.source {
        keyword("source", source.as_str());
    }
    if let Some(topic) = &scope.topic_id {
        keyword("topic_id", topic);
    }
    if let Some(doc) = &scope.doc_id {
        keyword("doc_id", doc);
    }
    if let Some(lang) = scope.lang {
        keyword("lang", lang.as_str());
    }
    (!conditions.is_empty()).then(|| Filter {
        must: Some(conditions),
        ..Filter::default()
    })
}

fn passage_of(id: Uuid, payload: Option<Payload>) -> Result<Passage, StoreError> {
    let payload =
        payload.ok_or_else(|| StoreError::Payload(format!("point {id} has no payload")))?;
    serde_json::from_value(serde_json::Value::Object(payload.0))
        .map_err(|e| StoreError::Payload(format!("point {id}: {e}")))
}

/// The dense and sparse vectors of a stored point.
fn vectors_of(
    id: Uuid,
    vectors: Option<VectorStructInternal>,
) -> Result<(Vec<f32>, lexical::SparseVector), StoreError> {
    let missing = |what: &str| StoreError::Payload(format!("point {id} has no {what} vector"));
    let Some(VectorStructInternal::Named(mut named)) = vectors else {
        return Err(missing("named"));
    };
    let dense = match named.remove(DENSE) {
        Some(VectorInternal::Dense(dense)) => dense,
        _ => return Err(missing("dense")),
    };
    // A passage without indexable terms has no sparse entry at all.
    let sparse = match named.remove(SPARSE) {
        Some(VectorInternal::Sparse(sparse)) => lexical::SparseVector {
            indices: sparse.indices,
            values: sparse.values,
        },
        None => lexical::SparseVector::default(),
        Some(_) => return Err(missing("sparse")),
    };
    Ok((dense, sparse))
}

fn uuid_of(id: PointId) -> Result<Uuid, StoreError> {
    match id {
        PointId::Uuid(id) => Ok(id),
        PointId::NumId(n) => Err(StoreError::Payload(format!(
            "unexpected numeric point id {n}"
        ))),
    }
}

fn to_hit(point: ScoredPoint) -> Result<Hit, StoreError> {
    let id = uuid_of(point.id)?;
    Ok(Hit {
        id,
        score: point.score,
        passage: passage_of(id, point.payload)?,
    })
}

fn nearest(vector: VectorInternal, using: &str) -> ScoringQuery {
    ScoringQuery::Vector(QueryEnum::Nearest(NamedQuery {
        query: vector,
        using: Some(using.into()),
    }))
}

impl VectorStore for EdgeStore {
    fn upsert(&self, points: Vec<Point>) -> Result<(), StoreError> {
        if points.is_empty() {
            return Ok(());
        }
        let mut structs = Vec::with_capacity(points.len());
        for point in points {
            let sparse = Vector::new_sparse(point.sparse.indices, point.sparse.values)
                .map_err(op_err("sparse vector"))?;
            let payload = serde_json::to_value(&point.passage)
                .map_err(|e| StoreError::Payload(e.to_string()))?;
            let vectors =
                Vectors::new_named([(DENSE, Vector::new_dense(point.dense)), (SPARSE, sparse)]);
            structs.push(PointStruct::new(PointId::Uuid(point.id), vectors, payload).into());
        }
        self.shard
            .update(UpdateOperation::PointOperation(
                PointOperations::UpsertPoints(PointInsertOperations::PointsList(structs)),
            ))
            .map_err(op_err("upsert"))
    }

    fn delete(&self, scope: &Scope) -> Result<(), StoreError> {
        let filter = filter(scope).unwrap_or_default();
        self.shard
            .update(UpdateOperation::PointOperation(
                PointOperations::DeletePointsByFilter(filter),
            ))
            .map_err(op_err("delete"))
    }

    fn count(&self, scope: &Scope) -> Result<usize, StoreError> {
        self.shard
            .count(CountRequest {
                filter: filter(scope),
                exact: true,
            })
            .map_err(op_err("count"))
    }

    fn search(&self, request: &SearchRequest<'_>) -> Result<Vec<Hit>, StoreError> {
        let dense = || nearest(VectorInternal::from(request.dense.to_vec()), DENSE);
        let sparse = || -> Result<ScoringQuery, StoreError> {
            let vector = SparseVector::new(
                request.sparse.indices.clone(),
                request.sparse.values.clone(),
            )
            .map_err(|e| StoreError::Operation {
                operation: "sparse query",
                message: e.to_string(),
            })?;
            Ok(nearest(VectorInternal::Sparse(vector), SPARSE))
        };
        let limit = request.limit;
        let with_payload = WithPayloadInterface::Bool(true);
        let mut builder = QueryRequestBuilder::new(limit);
        builder = match request.mode {
            Mode::Dense => builder.query(dense()),
            Mode::Lexical if request.sparse.is_empty() => return Ok(Vec::new()),
            Mode::Lexical => builder.query(sparse()?),
            Mode::Hybrid if request.sparse.is_empty() => builder.query(dense()),
            Mode::Hybrid => builder
                .add_prefetch(
                    PrefetchBuilder::new(request.candidates)
                        .query(dense())
                        .build(),
                )
                .add_prefetch(
                    PrefetchBuilder::new(request.candidates)
                        .query(sparse()?)
                        .build(),
                )
                .query(ScoringQuery::Fusion(Fusion::Rrf {
                    k: RRF_K,
                    weights: None,
                })),
        };
        if let Some(filter) = filter(request.scope) {
            builder = builder.filter(filter);
        }
        self.run_query(builder.with_payload(with_payload).build())
    }

    fn passages(&self, scope: &Scope) -> Result<Vec<(Uuid, Passage)>, StoreError> {
        let mut out = Vec::new();
        let mut offset = None;
        loop {
            let (records, next) = self
                .shard
                .scroll(ScrollRequest {
                    offset,
                    limit: Some(256),
                    filter: filter(scope),
                    with_payload: Some(WithPayloadInterface::Bool(true)),
                    with_vector: WithVector::Bool(false),
                    order_by: None,
                })
                .map_err(op_err("scroll"))?;
            for record in records {
                let PointId::Uuid(id) = record.id else {
                    continue;
                };
                out.push((id, passage_of(id, record.payload)?));
            }
            match next {
                Some(next) => offset = Some(next),
                None => break,
            }
        }
        Ok(out)
    }

    fn page(&self, from: Option<Uuid>, limit: usize) -> Result<Page, StoreError> {
        let (records, next) = self
            .shard
            .scroll(ScrollRequest {
                offset: from.map(PointId::Uuid),
                limit: Some(limit),
                filter: None,
                with_payload: Some(WithPayloadInterface::Bool(true)),
                with_vector: WithVector::Bool(true),
                order_by: None,
            })
            .map_err(op_err("scroll"))?;
        let mut points = Vec::with_capacity(records.len());
        for record in records {
            let id = uuid_of(record.id)?;
            let (dense, sparse) = vectors_of(id, record.vector)?;
            points.push(Point {
                id,
                dense,
                sparse,
                passage: passage_of(id, record.payload)?,
            });
        }
        Ok(Page {
            points,
            next: next.map(uuid_of).transpose()?,
        })
    }

    fn location(&self) -> String {
        format!("the embedded index in {}", self.dir.display())
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.shard.flush().map_err(op_err("flush"))
    }

    fn optimize(&self) -> Result<(), StoreError> {
        self.shard.optimize().map(drop).map_err(op_err("optimize"))
    }
}
