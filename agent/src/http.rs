//! The HTTP API: /flows, /metrics, /healthz, /readyz.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde::Serialize;

use crate::flows::FlowRecord;
use crate::metrics;
use crate::state::{Shared, lock, read};

#[derive(Debug, Serialize)]
struct Window {
    start: i64,
    end: i64,
}

#[derive(Debug, Serialize)]
struct FlowsBody {
    /// Unix seconds: from the first start of an agent on this node (the pinned maps'
    /// creation) to the last drain.
    window: Window,
    flows: Vec<FlowRecord>,
}

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/flows", get(flows))
        .route("/metrics", get(metrics_text))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .with_state(shared)
}

fn records(shared: &Shared) -> Vec<FlowRecord> {
    let classifier = read(&shared.classifier);
    let pods = read(&shared.pods);
    lock(&shared.table).records(&classifier, &pods)
}

async fn flows(State(shared): State<Arc<Shared>>) -> Json<serde_json::Value> {
    let end = lock(&shared.health).last_drain_end;
    let body = FlowsBody {
        window: Window {
            start: i64::try_from(shared.first_start).unwrap_or(i64::MAX),
            end,
        },
        flows: records(&shared),
    };
    Json(serde_json::to_value(body).unwrap_or_default())
}

async fn metrics_text(State(shared): State<Arc<Shared>>) -> Response {
    let recs = records(&shared);
    let health = lock(&shared.health).clone();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics::render(&recs, &health),
    )
        .into_response()
}

async fn readyz(State(shared): State<Arc<Shared>>) -> Response {
    if shared.ready() {
        (StatusCode::OK, "ready\n").into_response()
    } else if !shared.attached.load(std::sync::atomic::Ordering::Acquire) {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "programs not attached yet\n",
        )
            .into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "pod list not synced yet\n").into_response()
    }
}
