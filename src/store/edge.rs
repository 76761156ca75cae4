//! The embedded engine: one qdrant-edge shard in the data folder.

use std::fs::File;
use std::path::{Path, PathBuf};

use qdrant_edge::external::serde_json;
use qdrant_edge::*;

use super::{
    DENSE, Hit, Mode, Passage, Point, SPARSE, Scope, SearchRequest, StoreError, VectorStore,
};
use crate::embed::DIMENSION;
use uuid::Uuid;

/// RRF's rank constant, as in Qdrant and the original paper.
const RRF_K: usize = 60;

pub struct EdgeStore {
    shard: EdgeShard,
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
        let store = EdgeStore { shard, _lock: lock };
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
    if let Some(lang) = &scope.lang {
        keyword("lang", lang);
    }
    (!conditions.is_empty()).then(|| Filter {
        must: Some(conditions),
        ..Filter::default()
    })
}

fn to_hit(point: ScoredPoint) -> Result<Hit, StoreError> {
    let id = match point.id {
        PointId::Uuid(id) => id,
        PointId::NumId(n) => {
            return Err(StoreError::Payload(format!(
                "unexpected numeric point id {n}"
            )));
        }
    };
    let payload = point
        .payload
        .ok_or_else(|| StoreError::Payload(format!("point {id} has no payload")))?;
    let passage: Passage = serde_json::from_value(serde_json::Value::Object(payload.0))
        .map_err(|e| StoreError::Payload(format!("point {id}: {e}")))?;
    Ok(Hit {
        id,
        score: point.score,
        passage,
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
                let payload = record
                    .payload
                    .ok_or_else(|| StoreError::Payload(format!("point {id} has no payload")))?;
                let passage = serde_json::from_value(serde_json::Value::Object(payload.0))
                    .map_err(|e| StoreError::Payload(format!("point {id}: {e}")))?;
                out.push((id, passage));
            }
            match next {
                Some(next) => offset = Some(next),
                None => break,
            }
        }
        Ok(out)
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.shard.flush().map_err(op_err("flush"))
    }

    fn optimize(&self) -> Result<(), StoreError> {
        self.shard.optimize().map(drop).map_err(op_err("optimize"))
    }
}
