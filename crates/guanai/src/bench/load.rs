//! Load over HTTP: `clients` tasks sharing a list of requests, each request timed from send
//! to full answer.

use std::sync::Arc;
use std::time::Instant;

use super::server::ApiClient;
use super::stats::{self, Latencies};

/// Posts every request once, `clients` at a time, each timed from send to full answer;
/// the rate is requests per second over the whole run. More than 1 % refused (not 201)
/// fails the run; the first refusal is logged.
pub(super) async fn post_all(
    client: &ApiClient,
    requests: Vec<(String, serde_json::Value)>,
    clients: usize,
    what: &'static str,
) -> anyhow::Result<(f64, Latencies)> {
    let queue = Arc::new(std::sync::Mutex::new(requests));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let queue = queue.clone();
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0usize;
            loop {
                let Some((path, body)) = queue.lock().expect("not poisoned").pop() else { break };
                let sent = Instant::now();
                let response = client.post(&path).json(&body).send().await?;
                let ok = response.status().as_u16() == 201;
                let text = response.text().await?;
                latencies.push((sent - started, sent.elapsed()));
                if !ok {
                    failures += 1;
                    if failures == 1 {
                        tracing::warn!(%text, "{what} refused");
                    }
                }
            }
            anyhow::Ok((latencies, failures))
        }));
    }
    let mut sent_and_taken = Vec::new();
    let mut failures = 0;
    for task in tasks {
        let (latencies, failed) = task.await??;
        sent_and_taken.extend(latencies);
        failures += failed;
    }
    let rate = sent_and_taken.len() as f64 / started.elapsed().as_secs_f64();
    let all = Latencies(sent_and_taken.iter().map(|(_, took)| *took).collect());
    stats::write_trace(what, sent_and_taken)?;
    anyhow::ensure!(failures * 100 <= all.0.len(), "{failures} of {} {what} requests failed", all.0.len());
    Ok((rate, all))
}

pub(super) async fn look_up_over_http(
    client: &ApiClient,
    ids: &[String],
    total: usize,
    clients: usize,
) -> anyhow::Result<(f64, Latencies)> {
    let ids = Arc::new(ids.to_vec());
    let per_client = total.div_ceil(clients);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let ids = ids.clone();
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_client);
            for i in 0..per_client {
                let id = &ids[(c * per_client + i) % ids.len()];
                let sent = Instant::now();
                let response = client
                    .post("/api/v1/coverage")
                    .json(&serde_json::json!({ "id_number": id }))
                    .send()
                    .await?;
                anyhow::ensure!(response.status().is_success(), "look-up answered {}", response.status());
                let _ = response.bytes().await?;
                latencies.push(sent.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut all = Latencies::default();
    for task in tasks {
        all.0.extend(task.await??);
    }
    Ok((all.0.len() as f64 / started.elapsed().as_secs_f64(), all))
}
