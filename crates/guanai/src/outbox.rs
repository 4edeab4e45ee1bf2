//! The outbox's sender job: claims due messages batch by batch (one conditional UPDATE a
//! batch, so several instances never send one message twice), hands each to a [`Sender`],
//! and reports it sent or failed (a failure is tried again after a back-off). The log
//! sender writes each message to the log and standard output (the phone masked); the HTTP
//! gateway sender posts it, signed, to an SMS/WeChat gateway.

use std::time::Duration;

use futures_util::StreamExt;
use guanai_store::outbox::{OutboxSettings, Outgoing};
use guanai_store::Store;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Messages claimed at a time.
const BATCH: u64 = 500;

/// Messages of a batch handed to the sender at once (a gateway answers each in its time).
const IN_FLIGHT: usize = 16;

/// Sends one message; `Err` is the gateway's answer, kept with the message.
pub trait Sender: Send + Sync {
    fn send(&self, message: &Outgoing) -> impl std::future::Future<Output = Result<(), String>> + Send;
}

/// `138****5678`: what the log may show of a phone number.
pub fn masked_phone(phone: &str) -> String {
    if phone.len() == 11 && phone.is_ascii() {
        format!("{}****{}", &phone[..3], &phone[7..])
    } else {
        "***".to_owned()
    }
}

/// Writes each message to the log and to standard output.
#[derive(Debug, Default, Clone)]
pub struct LogSender {
    /// Also print to standard output (the command line); the server logs only.
    pub print: bool,
}

impl Sender for LogSender {
    async fn send(&self, message: &Outgoing) -> Result<(), String> {
        let to = masked_phone(&message.phone);
        tracing::info!(id = message.id, channel = message.channel.code(), to = %to, body = %message.body, "message sent (log sender)");
        if self.print {
            println!("[{}] {to} {}", message.channel.label(), message.body);
        }
        Ok(())
    }
}

/// Posts each message as JSON to a gateway, signed: `X-Guanai-Timestamp` (Unix seconds)
/// and `X-Guanai-Signature`, the hex HMAC-SHA256 of `timestamp + "\n" + body` under the
/// shared key. A non-2xx answer is a failure.
#[derive(Debug, Clone)]
pub struct HttpSender {
    pub url: String,
    pub key: String,
    pub client: reqwest::Client,
}

impl HttpSender {
    pub fn new(url: &str, key: &str) -> anyhow::Result<Self> {
        if key.len() < 16 {
            anyhow::bail!("网关密钥至少16个字符");
        }
        let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
        Ok(HttpSender { url: url.to_owned(), key: key.to_owned(), client })
    }

    /// The signature of a request body sent at `timestamp`.
    pub fn signature(key: &str, timestamp: i64, body: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
        mac.update(format!("{timestamp}\n{body}").as_bytes());
        mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl Sender for HttpSender {
    async fn send(&self, message: &Outgoing) -> Result<(), String> {
        let body = serde_json::json!({
            "id": message.id,
            "channel": message.channel.code(),
            "phone": message.phone,
            "text": message.body,
        })
        .to_string();
        let timestamp = chrono::Utc::now().timestamp();
        let answer = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("x-guanai-timestamp", timestamp.to_string())
            .header("x-guanai-signature", Self::signature(&self.key, timestamp, &body))
            .body(body)
            .send()
            .await
            .map_err(|e| format!("网关无法连接：{e}"))?;
        if answer.status().is_success() {
            Ok(())
        } else {
            Err(format!("网关拒绝：HTTP {}", answer.status().as_u16()))
        }
    }
}

/// What one run of the sender did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SendReport {
    pub sent: usize,
    pub failed: usize,
}

/// Sends every message due now, batch by batch, until none is left (or the quiet hours).
/// `token` names this sender's claims: unique per running instance.
pub async fn send_due(
    store: &Store,
    sender: &impl Sender,
    settings: &OutboxSettings,
    token: &str,
) -> anyhow::Result<SendReport> {
    let mut report = SendReport::default();
    loop {
        let batch = store.outbox().claim(token, BATCH, settings).await?;
        if batch.is_empty() {
            return Ok(report);
        }
        let results: Vec<(&Outgoing, Result<(), String>)> = futures_util::stream::iter(&batch)
            .map(|message| async move { (message, sender.send(message).await) })
            .buffered(IN_FLIGHT)
            .collect()
            .await;
        let failed = results.iter().filter(|(_, result)| result.is_err()).count();
        report.failed += failed;
        report.sent += results.len() - failed;
        store.outbox().report_many(token, results).await?;
    }
}

/// A claim token for this process: random, so two instances never share one.
pub fn new_token() -> String {
    format!("sender-{:016x}", rand::random::<u64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phone_is_masked_in_the_log() {
        assert_eq!(masked_phone("13812345678"), "138****5678");
        assert_eq!(masked_phone("123"), "***");
    }

    #[test]
    fn the_signature_is_the_hmac_of_the_timestamp_and_the_body() {
        // Computed independently with Python's hmac module.
        let signature = HttpSender::signature("0123456789abcdef", 1_800_000_000, "{}");
        assert_eq!(signature, "8864b0dceeafeb396f409a5fc1197dd7be1ff294bca2539da3bc960f8218d60c");
        assert_ne!(signature, HttpSender::signature("0123456789abcdef", 1_800_000_001, "{}"));
    }
}
