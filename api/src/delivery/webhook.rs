//! Webhook deliveries: a signed HTTP POST of each outbox message of channel
//! `webhook` to its endpoint, per the Standard Webhooks specification.
//!
//! Headers: `webhook-id` (`msg_` + the message's uuid, the same on every
//! attempt), `webhook-timestamp` (Unix seconds) and `webhook-signature`: one
//! `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` per valid secret,
//! separated by spaces (two during a rotation's overlap).
//!
//! Before connecting, the endpoint's host is resolved and every address
//! checked: unless private targets are allowed, a loopback, private,
//! link-local, CGNAT, multicast, unspecified or otherwise non-public address
//! refuses the delivery. The request then goes to the checked address only
//! (the name is pinned to it, so a second lookup cannot swap it), without
//! proxies, following no redirect, within the configured timeout; at most
//! a few KB of the response are read.
//!
//! A 2xx response is delivered; 410 Gone gives the message up (the receiver
//! says the endpoint is gone); anything else (another status, a timeout, a
//! refused connection) is retried with back-off. Each attempt's result also
//! feeds the endpoint's failure streak, which disables it after the
//! configured period (`domain::webhooks::record_attempt`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use domain::outbox::{Channel, Message, Outcome, RetryPolicy};
use domain::webhooks::{self, DeliveryTarget};
use hmac::{Hmac, Mac};
use sea_orm::DatabaseConnection;
use sha2::Sha256;

use super::Deliverer;
use crate::config::Config;

/// The most of a response body read (for the delivery log's error).
const MAX_RESPONSE_BYTES: usize = 4096;

/// Posts webhook messages.
pub struct WebhookDeliverer {
    db: DatabaseConnection,
    allow_private: bool,
    timeout: Duration,
    policy: RetryPolicy,
    disable_after: Duration,
}

impl WebhookDeliverer {
    /// A deliverer with the configured timeout, back-off, SSRF guard and
    /// auto-disable period.
    pub fn new(config: &Config, db: DatabaseConnection) -> Self {
        Self {
            db,
            allow_private: config.webhook_allow_private,
            timeout: config.webhook_timeout,
            policy: RetryPolicy {
                first_delay: config.webhook_retry_delay,
                ..RetryPolicy::default()
            },
            disable_after: config.webhook_disable_after,
        }
    }

    async fn attempt(&self, message: &Message, endpoint: &DeliveryTarget) -> Outcome {
        let url = match reqwest::Url::parse(&endpoint.url) {
            Ok(url) => url,
            Err(error) => return give_up(format!("invalid endpoint URL: {error}")),
        };
        let address = match self.checked_address(&url).await {
            Ok(address) => address,
            Err(outcome) => return outcome,
        };
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(self.timeout)
            .connect_timeout(self.timeout)
            .user_agent(concat!("Rapport-Webhooks/", env!("CARGO_PKG_VERSION")));
        if let Some(url::Host::Domain(name)) = url.host() {
            builder = builder.resolve(name, address);
        }
        let client = match builder.build() {
            Ok(client) => client,
            Err(error) => return retry(format!("HTTP client: {error}"), None),
        };
        let body = message.payload.to_string();
        let webhook_id = format!("msg_{}", message.id.simple());
        let timestamp = chrono::Utc::now().timestamp();
        let signature = sign(&endpoint.keys, &webhook_id, timestamp, &body);
        let sent = client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &webhook_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        let mut response = match sent {
            Ok(response) => response,
            Err(error) if error.is_timeout() => {
                return retry(format!("timed out after {:?}", self.timeout), None)
            }
            Err(error) => return retry(format!("request failed: {error}"), None),
        };
        let status = response.status();
        let code = Some(i32::from(status.as_u16()));
        if status.is_success() {
            return Outcome::Delivered { status: code };
        }
        let mut excerpt = Vec::new();
        while excerpt.len() < MAX_RESPONSE_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                _ => break,
            }
        }
        excerpt.truncate(MAX_RESPONSE_BYTES);
        let text = String::from_utf8_lossy(&excerpt);
        let error = format!("HTTP {}: {}", status.as_u16(), text.trim());
        if status == reqwest::StatusCode::GONE {
            Outcome::GiveUp {
                error,
                status: code,
            }
        } else {
            Outcome::Retry {
                error,
                status: code,
            }
        }
    }

    /// The address to connect to: the URL's host, resolved, every address
    /// checked unless private targets are allowed.
    async fn checked_address(&self, url: &reqwest::Url) -> Result<SocketAddr, Outcome> {
        let port = url
            .port_or_known_default()
            .ok_or_else(|| give_up("the endpoint URL has no port".to_owned()))?;
        let addresses: Vec<SocketAddr> = match url.host() {
            Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
            Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
            Some(url::Host::Domain(name)) => match tokio::net::lookup_host((name, port)).await {
                Ok(found) => found.collect(),
                Err(error) => return Err(retry(format!("cannot resolve {name}: {error}"), None)),
            },
            None => return Err(give_up("the endpoint URL has no host".to_owned())),
        };
        if !self.allow_private {
            if let Some(refused) = addresses.iter().find(|a| !is_public(a.ip())) {
                return Err(give_up(format!(
                    "refused: {} is not a public address (RAPPORT_WEBHOOK_ALLOW_PRIVATE)",
                    refused.ip()
                )));
            }
        }
        addresses
            .into_iter()
            .next()
            .ok_or_else(|| retry("the endpoint's host has no address".to_owned(), None))
    }
}

#[async_trait::async_trait]
impl Deliverer for WebhookDeliverer {
    fn channel(&self) -> Channel {
        Channel::Webhook
    }

    fn policy(&self) -> RetryPolicy {
        self.policy
    }

    async fn deliver(&self, message: &Message) -> Outcome {
        let Some(endpoint_id) = message
            .target
            .as_deref()
            .and_then(|t| t.parse::<i64>().ok())
        else {
            return give_up("no endpoint".to_owned());
        };
        let endpoint = match webhooks::delivery_target(&self.db, endpoint_id).await {
            Ok(Some(endpoint)) => endpoint,
            Ok(None) => return give_up("the endpoint was deleted".to_owned()),
            Err(error) => return retry(format!("endpoint not read: {error}"), None),
        };
        if !endpoint.enabled {
            return give_up("the endpoint is disabled".to_owned());
        }
        let outcome = self.attempt(message, &endpoint).await;
        let succeeded = matches!(outcome, Outcome::Delivered { .. });
        if let Err(error) =
            webhooks::record_attempt(&self.db, endpoint_id, succeeded, self.disable_after).await
        {
            tracing::warn!(error = %error, endpoint_id, "webhook endpoint's failure streak not recorded");
        }
        outcome
    }
}

fn give_up(error: String) -> Outcome {
    Outcome::GiveUp {
        error,
        status: None,
    }
}

fn retry(error: String, status: Option<i32>) -> Outcome {
    Outcome::Retry { error, status }
}

/// The `webhook-signature` value: `v1,<signature>` per key, space-separated.
pub fn sign(keys: &[Vec<u8>], webhook_id: &str, timestamp: i64, body: &str) -> String {
    keys.iter()
        // HMAC takes a key of any length: `new_from_slice` never fails.
        .filter_map(|key| <Hmac<Sha256> as Mac>::new_from_slice(key).ok())
        .map(|mut mac| {
            mac.update(format!("{webhook_id}.{timestamp}.{body}").as_bytes());
            format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `ip` is a public unicast address (not loopback, private,
/// link-local, CGNAT, multicast, unspecified, documentation, benchmarking
/// or reserved; IPv6 forms that embed an IPv4 address are judged by it).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0 // "this network", unspecified
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // CGNAT
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && (c == 0 || c == 2)) // IETF, TEST-NET-1
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224) // multicast, reserved, broadcast
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || segments[0] & 0xff00 == 0xff00 // multicast
        || segments[0] & 0xfe00 == 0xfc00 // unique local
        || segments[0] & 0xffc0 == 0xfe80 // link-local
        || segments[0] & 0xffc0 == 0xfec0 // site-local
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || (segments[0] == 0x2001 && segments[1] == 0) // Teredo
        || segments[0] == 0x0100 && segments[1..4] == [0, 0, 0]) // discard-only
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`),
/// IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) or 6to4
/// (`2002:AABB:CCDD::`) address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = || Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if s[..5] == [0, 0, 0, 0, 0]
        && (s[5] == 0xffff || (s[5] == 0 && !ip.is_loopback() && !ip.is_unspecified()))
    {
        return Some(tail());
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return Some(tail());
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_pass() {
        for refused in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
        ] {
            let ip: IpAddr = refused.parse().expect(refused);
            assert!(!is_public(ip), "{refused} passed");
        }
        for allowed in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            let ip: IpAddr = allowed.parse().expect(allowed);
            assert!(is_public(ip), "{allowed} refused");
        }
    }

    #[test]
    fn signatures_follow_standard_webhooks() {
        // The example of the Standard Webhooks specification.
        let key = STANDARD
            .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .expect("base64");
        let signature = sign(
            &[key.clone(), key],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#,
        );
        let one = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        assert_eq!(signature, format!("{one} {one}"));
    }
}
