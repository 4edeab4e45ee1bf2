//! Request counts and latency by route, in Prometheus' text format at `/metrics`, through the
//! `metrics` crate and its Prometheus exporter. Each app holds a recorder of its own (no
//! global recorder is installed), so two apps in one process keep their own figures; each
//! instance is scraped on its own.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

const REQUESTS: &str = "guanai_http_requests_total";
const DURATION: &str = "guanai_http_request_duration_seconds";

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// One app's recorder and the handle that renders it.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl Default for Metrics {
    fn default() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(DURATION.to_owned()), &BUCKETS)
            .expect("the latency buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        Metrics { recorder, handle }
    }
}

impl Metrics {
    pub fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let (method, route) = (method.to_owned(), route.to_owned());
        metrics::with_local_recorder(&self.recorder, || {
            metrics::counter!(REQUESTS, "method" => method.clone(), "route" => route.clone(), "status" => status.to_string())
                .increment(1);
            metrics::histogram!(DURATION, "method" => method, "route" => route).record(seconds);
        });
    }

    /// The Prometheus exposition text.
    pub fn render(&self) -> String {
        self.handle.render()
    }
}

/// Times every request under its route pattern (`/users/{id}`, not the id itself, so the
/// number of series stays bounded).
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(request).await;
    metrics.record(&method, &route, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let metrics = Metrics::default();
        metrics.record("GET", "/users/{id}", 200, 0.004);
        metrics.record("GET", "/users/{id}", 404, 0.2);
        let text = metrics.render();
        assert!(
            text.contains(
                "guanai_http_requests_total{method=\"GET\",route=\"/users/{id}\",status=\"404\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains("le=\"0.005\"} 1"), "{text}");
        assert!(text.contains("le=\"0.25\"} 2"), "{text}");
        assert!(
            text.contains(
                "guanai_http_request_duration_seconds_count{method=\"GET\",route=\"/users/{id}\"} 2"
            ),
            "{text}"
        );
    }

    #[test]
    fn two_apps_keep_their_own_figures() {
        let (a, b) = (Metrics::default(), Metrics::default());
        a.record("GET", "/a", 200, 0.01);
        assert!(a.render().contains("route=\"/a\""));
        assert!(!b.render().contains("route=\"/a\""));
    }
}
