//! Sending a request with retries: 429 and 5xx answers and connection failures are retried with
//! backoff, waiting as long as the longest `*retry-after*` header asks (azure-protocol.md 4.6).

use std::time::Duration;

use reqwest::{RequestBuilder, header::HeaderMap};

use crate::{AzureClient, AzureError, ErrorKind};

/// How persistent the client is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all (1 = no retry).
    pub max_attempts: u32,
    /// First backoff delay when Azure gives no `Retry-After`; doubles each time.
    pub base_delay: Duration,
    /// Longest single wait. A `Retry-After` beyond it ends the retries with that error at once,
    /// so an interactive check never hangs for minutes.
    pub max_delay: Duration,
    /// Time limit of one HTTP request.
    pub request_timeout: Duration,
}

impl RetryPolicy {
    /// For a person waiting on a page: a few quick retries.
    pub fn interactive() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
        }
    }

    /// For background sync: patient.
    pub fn background() -> Self {
        Self {
            max_attempts: 6,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(300),
            request_timeout: Duration::from_secs(300),
        }
    }
}

/// An HTTP answer, read whole.
pub(crate) struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub request_id: Option<String>,
    pub retry_after: Option<Duration>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The longest wait any retry-after header asks for (seconds or an HTTP date).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .iter()
        .filter(|(name, _)| name.as_str().ends_with("retry-after"))
        .filter_map(|(_, v)| v.to_str().ok())
        .filter_map(parse_retry_after)
        .max()
}

fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when =
        time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc2822).ok()?;
    let delta = when - time::OffsetDateTime::now_utc();
    Some(Duration::from_secs(delta.whole_seconds().max(0) as u64))
}

/// Host and path only: query strings may hold signatures (blob SAS links) and never reach the logs.
pub(crate) fn loggable(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!("{}{}", u.host_str().unwrap_or_default(), u.path()),
        Err(_) => "<unparsable url>".into(),
    }
}

impl AzureClient {
    /// Send the request built by `build` (called again for each attempt), retrying transient
    /// failures. Returns the final answer whatever its status; transport failures become
    /// [`ErrorKind::Unreachable`].
    pub(crate) async fn send(
        &self,
        what: &'static str,
        url: &str,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Answer, AzureError> {
        let policy = self.retry;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let started = std::time::Instant::now();
            match build().send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    let request_id = headers
                        .get("x-ms-request-id")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    let wait = retry_after(&headers);
                    tracing::info!(
                        call = what,
                        url = %loggable(url),
                        status,
                        x_ms_request_id = request_id.as_deref().unwrap_or("-"),
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        attempt,
                        "azure call"
                    );
                    let transient = status == 429 || (500..=599).contains(&status) && status != 501;
                    if transient && attempt < policy.max_attempts {
                        let delay =
                            wait.unwrap_or(policy.base_delay * 2u32.saturating_pow(attempt - 1));
                        if delay <= policy.max_delay {
                            tokio::time::sleep(delay).await;
                            continue;
                        }
                    }
                    let body = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
                    return Ok(Answer {
                        status,
                        headers,
                        body,
                        request_id,
                        retry_after: wait,
                    });
                }
                Err(e) => {
                    let timed_out = e.is_timeout();
                    let e = e.without_url();
                    tracing::warn!(call = what, url = %loggable(url), attempt, error = %e, "azure call failed");
                    if attempt < policy.max_attempts {
                        tokio::time::sleep(policy.base_delay * 2u32.saturating_pow(attempt - 1))
                            .await;
                        continue;
                    }
                    let why = if timed_out {
                        "timed out talking"
                    } else {
                        "could not connect"
                    };
                    return Err(AzureError::new(
                        ErrorKind::Unreachable,
                        format!("{why} to {} after {attempt} attempts: {e}", loggable(url)),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_the_longest_of_all_headers() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "5".parse().expect("v"));
        h.insert(
            "x-ms-ratelimit-microsoft.costmanagement-qpu-retry-after",
            "30".parse().expect("v"),
        );
        h.insert(
            "x-ms-ratelimit-microsoft.costmanagement-entity-retry-after",
            "junk".parse().expect("v"),
        );
        assert_eq!(retry_after(&h), Some(Duration::from_secs(30)));
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn retry_after_accepts_http_dates() {
        let later = time::OffsetDateTime::now_utc() + time::Duration::seconds(120);
        let text = later
            .format(&time::format_description::well_known::Rfc2822)
            .expect("format");
        let d = parse_retry_after(&text).expect("parsed");
        assert!((115..=120).contains(&d.as_secs()), "{d:?}");
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO),
            "in the past: no wait"
        );
    }

    #[test]
    fn query_strings_never_reach_the_logs() {
        assert_eq!(
            loggable("https://store.blob.core.windows.net/armreports/1/2?sv=1&sig=SECRET"),
            "store.blob.core.windows.net/armreports/1/2"
        );
    }
}
