//! A webhook receiver on loopback: records every delivery (path, headers, raw body) and answers
//! with the status it is told. It checks signatures its own way, from the Standard Webhooks
//! specification, not with Onboard's code.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug)]
pub struct Delivery {
    pub path: String,
    pub id: String,
    pub timestamp: String,
    /// The `v1,…` entries of `webhook-signature`.
    pub signatures: Vec<String>,
    pub content_type: String,
    pub body: String,
}

impl Delivery {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a delivery's body is JSON")
    }

    pub fn event_type(&self) -> String {
        self.json()["type"].as_str().unwrap_or_default().to_string()
    }

    /// Whether one of the signatures is `secret`'s (`whsec_` + base64 key) over
    /// `{id}.{timestamp}.{body}`, and the timestamp is within 5 minutes of now.
    pub fn signed_by(&self, secret: &str) -> bool {
        let Some(key) = secret.strip_prefix("whsec_").and_then(|k| STANDARD.decode(k).ok()) else { return false };
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
        mac.update(format!("{}.{}.{}", self.id, self.timestamp, self.body).as_bytes());
        let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let fresh = self.timestamp.parse::<i64>().is_ok_and(|t| (now - t).abs() <= 300);
        fresh && self.signatures.contains(&expected)
    }
}

struct Inner {
    received: Vec<Delivery>,
    status: u16,
}

#[derive(Clone)]
pub struct Receiver {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

impl Receiver {
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner { received: Vec::new(), status: 204 }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new().route("/{path}", post(receive)).with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base, inner }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    /// What every later delivery is answered.
    pub fn answer(&self, status: u16) {
        self.inner.lock().unwrap().status = status;
    }

    pub fn received(&self) -> Vec<Delivery> {
        self.inner.lock().unwrap().received.clone()
    }

    /// The deliveries to `path` of events of `event_type`, in arrival order.
    pub fn of(&self, path: &str, event_type: &str) -> Vec<Delivery> {
        self.received().into_iter().filter(|d| d.path == path && d.event_type() == event_type).collect()
    }
}

async fn receive(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let delivery = Delivery {
        path,
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signatures: header("webhook-signature").split(' ').filter(|s| !s.is_empty()).map(str::to_string).collect(),
        content_type: header("content-type"),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let mut inner = inner.lock().unwrap();
    inner.received.push(delivery);
    StatusCode::from_u16(inner.status).unwrap()
}
