//! The report blob store: pre-signed, expiring URLs (like SAS URLs on ccmreportstorage*) that stream
//! a blob's CSV straight from the generator, without holding it.

use crate::clock::azure_datetime;
use crate::faults::{FaultEndpoint, FaultKind};
use crate::http_util::{get, parse_form, set_header};
use crate::model::ReportState;
use crate::sim::Sim;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use bytes::Bytes;
use time::OffsetDateTime;
use uuid::Uuid;

const SV: &str = "2020-05-31";

fn string_to_sign(op: Uuid, part: usize, st: &str, se: &str) -> String {
    format!("r\n{st}\n{se}\n/blob/armreports/{op}/{part}\n{SV}")
}

fn sign(sim: &Sim, op: Uuid, part: usize, st: &str, se: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(crate::jwt::hmac_sha256(
        &sim.inner.key,
        string_to_sign(op, part, st, se).as_bytes(),
    ))
}

fn sas_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The blob link of part `part` of report `op`, valid until `until`.
pub(crate) fn signed_url(sim: &Sim, op: Uuid, part: usize, until: OffsetDateTime) -> String {
    let st = sas_time(sim.now() - time::Duration::minutes(5));
    let se = sas_time(until);
    let sig = sign(sim, op, part, &st, &se);
    format!(
        "{}/blob/armreports/{op}/{part}?sv={SV}&st={}&se={}&sr=b&sp=r&sig={}",
        sim.base_url(),
        enc(&st),
        enc(&se),
        enc(&sig)
    )
}

fn storage_error(
    sim: &Sim,
    status: u16,
    code: &str,
    message: &str,
    detail: Option<String>,
) -> Response {
    let rid = Uuid::new_v4();
    let time = azure_datetime(sim.now());
    let detail = detail
        .map(|d| format!("<AuthenticationErrorDetail>{d}</AuthenticationErrorDetail>"))
        .unwrap_or_default();
    let body = format!(
        "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code><Message>{message}\nRequestId:{rid}\nTime:{time}</Message>{detail}</Error>"
    );
    let mut r = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN),
        body,
    )
        .into_response();
    set_header(r.headers_mut(), "content-type", "application/xml");
    set_header(r.headers_mut(), "x-ms-error-code", code);
    set_header(r.headers_mut(), "x-ms-request-id", &rid.to_string());
    set_header(r.headers_mut(), "x-ms-version", SV);
    r
}

fn auth_failed(sim: &Sim, detail: String) -> Response {
    storage_error(
        sim,
        403,
        "AuthenticationFailed",
        "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.",
        Some(detail),
    )
}

fn parse_sas_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

/// `GET /blob/armreports/{op}/{part}?sv&st&se&sr&sp&sig`
pub(crate) async fn download(
    State(sim): State<Sim>,
    Path((op, part)): Path<(String, String)>,
    uri: Uri,
) -> Response {
    let q = parse_form(uri.query().unwrap_or_default());
    let (Ok(op), Ok(part)) = (Uuid::parse_str(&op), part.parse::<usize>()) else {
        return storage_error(
            &sim,
            404,
            "BlobNotFound",
            "The specified blob does not exist.",
            None,
        );
    };
    let (Some(st), Some(se), Some(sig)) = (get(&q, "st"), get(&q, "se"), get(&q, "sig")) else {
        return storage_error(
            &sim,
            404,
            "ResourceNotFound",
            "The specified resource does not exist.",
            None,
        );
    };
    let expected = sign(&sim, op, part, st, se);
    if get(&q, "sv") != Some(SV)
        || get(&q, "sp") != Some("r")
        || get(&q, "sr") != Some("b")
        || !crate::jwt::constant_time_eq(expected.as_bytes(), sig.as_bytes())
    {
        return auth_failed(
            &sim,
            format!(
                "Signature did not match. String to sign used was {}",
                string_to_sign(op, part, st, se).replace('\n', "\\n")
            ),
        );
    }
    let now = sim.now();
    let (Some(start), Some(expiry)) = (parse_sas_time(st), parse_sas_time(se)) else {
        return auth_failed(&sim, "Signed start or expiry time is not valid.".into());
    };
    if now < start || now > expiry {
        return auth_failed(
            &sim,
            format!(
                "Signature not valid in the specified time frame: Start [{}] - Expiry [{}] - Current [{}]",
                httpdate(start),
                httpdate(expiry),
                httpdate(now)
            ),
        );
    }
    let found = {
        let s = sim.state();
        s.reports
            .get(&op)
            .and_then(|r| match &r.state {
                ReportState::Completed { parts, .. } => {
                    parts.get(part).cloned().map(|p| (p, r.account.clone()))
                }
                _ => None,
            })
            .and_then(|(p, account)| {
                s.accounts
                    .get(&account)
                    .map(|a| (p, account, a.generator.clone()))
            })
    };
    let Some((blob, account, generator)) = found else {
        return storage_error(
            &sim,
            404,
            "BlobNotFound",
            "The specified blob does not exist.",
            None,
        );
    };
    let fault = {
        crate::faults::take(
            &mut sim.state().faults,
            FaultEndpoint::BlobDownload,
            Some(&account),
        )
    };
    let fault = match fault {
        Some(FaultKind::Slow { delay_ms }) => {
            tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
            None
        }
        Some(FaultKind::Throttle { retry_after_secs }) => {
            let mut r = storage_error(&sim, 503, "ServerBusy", "The server is busy.", None);
            set_header(
                r.headers_mut(),
                "retry-after",
                &retry_after_secs.to_string(),
            );
            return r;
        }
        Some(FaultKind::ServerError { status }) => {
            return storage_error(
                &sim,
                status,
                "InternalError",
                "The server encountered an internal error. Please retry the request.",
                None,
            );
        }
        other => other,
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let mut buf = generator.header_bytes();
        for row in blob.cursor.clone().take(blob.rows as usize) {
            generator.write_row(&row, &mut buf);
            if buf.len() >= 64 * 1024 {
                if tx
                    .blocking_send(Ok(Bytes::from(std::mem::take(&mut buf))))
                    .is_err()
                {
                    return; // client went away
                }
                buf.reserve(64 * 1024 + 2048);
            }
        }
        if !buf.is_empty() {
            let _ = tx.blocking_send(Ok(Bytes::from(buf)));
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let mut r = Response::new(Body::from_stream(stream));
    let h = r.headers_mut();
    set_header(h, "content-type", "text/csv");
    set_header(h, "content-length", &blob.bytes.to_string());
    set_header(h, "x-ms-blob-type", "BlockBlob");
    set_header(h, "x-ms-version", SV);
    set_header(h, "etag", &format!("\"0x8DC{:X}\"", op.as_u128() as u32));
    set_header(h, "x-ms-request-id", &Uuid::new_v4().to_string());
    match fault {
        Some(k) => crate::faults::apply_to_body(r, &k),
        None => r,
    }
}

fn httpdate(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        &t.weekday().to_string()[..3],
        t.day(),
        &t.month().to_string()[..3],
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}
