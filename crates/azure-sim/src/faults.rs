//! Fault injection, per endpoint and per billing account.

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

/// Which endpoint a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultEndpoint {
    /// `POST /{tenant}/oauth2/v2.0/token`
    Token,
    /// `GET /{tenant}/v2.0/.well-known/openid-configuration`
    OpenidConfiguration,
    /// `GET billingAccounts`, `GET billingAccounts/{id}` and the other billing-account reads
    BillingAccounts,
    /// billingRoleAssignments (PUT, GET, list, DELETE) and createBillingRoleAssignment
    RoleAssignments,
    /// `POST generateCostDetailsReport`
    GenerateCostDetailsReport,
    /// `GET costDetailsOperationResults/{id}`
    CostDetailsOperationResults,
    /// the blob download of a report
    BlobDownload,
    /// every endpoint
    Any,
}

/// What goes wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FaultKind {
    /// 429 with `Retry-After`.
    Throttle { retry_after_secs: u64 },
    /// A 5xx answer (503 carries `Retry-After: 10`).
    ServerError { status: u16 },
    /// The answer comes after a delay (real time, not the simulator clock).
    Slow { delay_ms: u64 },
    /// The body ends cleanly after `after_bytes` (no Content-Length: only a byte count can tell).
    Truncate { after_bytes: u64 },
    /// The body has the full length but bytes from `at_byte` on are garbled (16 bytes of 0xFF).
    Corrupt { at_byte: u64 },
    /// The connection is cut after `after_bytes` of the body (Content-Length promised more).
    DropConnection { after_bytes: u64 },
    /// The Cost Details report finishes with `status: Failed`.
    ReportFailed,
}

/// A fault rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultSpec {
    pub endpoint: FaultEndpoint,
    /// Only for this billing account (enrollment number or MCA id); None = all.
    #[serde(default)]
    pub billing_account: Option<String>,
    #[serde(flatten)]
    pub kind: FaultKind,
    /// How many requests it hits; None = until removed.
    #[serde(default)]
    pub count: Option<u32>,
}

/// A stored fault rule with its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    pub id: u64,
    #[serde(flatten)]
    pub spec: FaultSpec,
}

/// Take the first fault matching (and use up one of its count).
pub(crate) fn take(
    faults: &mut Vec<Fault>,
    endpoint: FaultEndpoint,
    account: Option<&str>,
) -> Option<FaultKind> {
    let pos = faults.iter().position(|f| {
        (f.spec.endpoint == endpoint || f.spec.endpoint == FaultEndpoint::Any)
            && match (&f.spec.billing_account, account) {
                (None, _) => true,
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                (Some(_), None) => false,
            }
            && f.spec.count != Some(0)
    })?;
    let f = &mut faults[pos];
    let kind = f.spec.kind.clone();
    if let Some(c) = f.spec.count.as_mut() {
        *c -= 1;
        if *c == 0 {
            faults.remove(pos);
        }
    }
    Some(kind)
}

/// Wrap a response body according to a body fault (truncate, corrupt, drop).
pub(crate) fn apply_to_body(resp: Response, kind: &FaultKind) -> Response {
    let (mut parts, body) = resp.into_parts();
    let stream = body.into_data_stream();
    match kind.clone() {
        FaultKind::Truncate { after_bytes } => {
            parts.headers.remove(axum::http::header::CONTENT_LENGTH);
            let mut left = after_bytes;
            let s = stream.map(move |chunk| {
                chunk.map(|b| {
                    let take = (b.len() as u64).min(left);
                    left -= take;
                    b.slice(..take as usize)
                })
            });
            Response::from_parts(parts, Body::from_stream(s))
        }
        FaultKind::Corrupt { at_byte } => {
            let mut pos = 0u64;
            let s = stream.map(move |chunk| {
                chunk.map(|b| {
                    let start = pos;
                    pos += b.len() as u64;
                    let end = at_byte + 16;
                    if pos <= at_byte || start >= end {
                        return b;
                    }
                    let mut v = b.to_vec();
                    for (i, byte) in v.iter_mut().enumerate() {
                        let p = start + i as u64;
                        if p >= at_byte && p < end {
                            *byte = 0xFF;
                        }
                    }
                    Bytes::from(v)
                })
            });
            Response::from_parts(parts, Body::from_stream(s))
        }
        FaultKind::DropConnection { after_bytes } => {
            // Send `after_bytes`, then fail the body: hyper aborts the connection mid-message.
            #[derive(PartialEq)]
            enum St {
                Sending,
                Fail,
                Done,
            }
            let s = futures_util::stream::unfold(
                (stream, after_bytes, St::Sending),
                |(mut inner, left, st)| async move {
                    let cut = || std::io::Error::other("connection dropped by fault injection");
                    match st {
                        St::Done => None,
                        St::Fail => Some((Err(cut()), (inner, 0, St::Done))),
                        St::Sending => match inner.next().await {
                            Some(Ok(b)) if (b.len() as u64) < left => {
                                Some((Ok(b.clone()), (inner, left - b.len() as u64, St::Sending)))
                            }
                            Some(Ok(b)) if left > 0 => {
                                Some((Ok(b.slice(..left as usize)), (inner, 0, St::Fail)))
                            }
                            _ => Some((Err(cut()), (inner, 0, St::Done))),
                        },
                    }
                },
            );
            Response::from_parts(parts, Body::from_stream(s))
        }
        _ => Response::from_parts(parts, Body::from_stream(stream)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(endpoint: FaultEndpoint, account: Option<&str>, count: Option<u32>) -> Fault {
        Fault {
            id: 1,
            spec: FaultSpec {
                endpoint,
                billing_account: account.map(str::to_string),
                kind: FaultKind::ReportFailed,
                count,
            },
        }
    }

    #[test]
    fn matching_and_counting() {
        let mut f = vec![spec(FaultEndpoint::BlobDownload, Some("123"), Some(2))];
        assert!(take(&mut f, FaultEndpoint::Token, Some("123")).is_none());
        assert!(take(&mut f, FaultEndpoint::BlobDownload, Some("999")).is_none());
        assert!(take(&mut f, FaultEndpoint::BlobDownload, Some("123")).is_some());
        assert!(take(&mut f, FaultEndpoint::BlobDownload, Some("123")).is_some());
        assert!(take(&mut f, FaultEndpoint::BlobDownload, Some("123")).is_none());
        assert!(f.is_empty());
        let mut f = vec![spec(FaultEndpoint::Any, None, None)];
        for _ in 0..5 {
            assert!(take(&mut f, FaultEndpoint::Token, None).is_some());
        }
    }

    #[test]
    fn spec_json_shape() {
        let s: FaultSpec = serde_json::from_str(r#"{"endpoint":"generate_cost_details_report","billing_account":"123","type":"throttle","retry_after_secs":30,"count":1}"#).expect("parse");
        assert_eq!(
            s.kind,
            FaultKind::Throttle {
                retry_after_secs: 30
            }
        );
    }
}
