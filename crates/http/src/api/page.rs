//! Pagination of every list: `?limit=` (1 to 500, default 100) and `?cursor=` (the `next_cursor`
//! of the page before). Each list has a stable order given by a unique key (for example the name
//! then the ID, or the time then the ID, newest first); a cursor is the opaque key of the last
//! item seen, so the next page starts right after it even when items were added or removed
//! meanwhile. Answers are `{"items": [...], "next_cursor": "..." | null}`.

use axum::{
    extract::FromRequestParts,
    http::{StatusCode, request::Parts},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Serialize;

use crate::{AppState, error::ApiError};

/// Items per page when `limit` is not given.
pub(crate) const DEFAULT_LIMIT: usize = 100;
/// The largest `limit`.
pub(crate) const MAX_LIMIT: usize = 500;

/// One page of a list.
#[derive(Debug, Serialize)]
pub(crate) struct Paged<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Which way a list's key runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// Smallest key first (names, periods).
    Ascending,
    /// Largest key first (newest first).
    Descending,
}

/// The page asked for: how many items, after which key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PageParams {
    pub limit: usize,
    /// The key of the last item of the previous page.
    pub after: Option<String>,
}

impl Default for PageParams {
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            after: None,
        }
    }
}

fn bad(field: &'static str, message: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_parameter", message).with_field(field)
}

impl PageParams {
    /// Read `limit` and `cursor` from a query string (other parameters are the list's own).
    pub(crate) fn from_query(query: Option<&str>) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
            .map_err(|_| bad("query", "The query string cannot be read."))?;
        let one = |name: &'static str| -> Result<Option<&str>, ApiError> {
            let mut values = pairs
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.as_str());
            let first = values.next();
            if values.next().is_some() {
                return Err(bad(name, &format!("Give `{name}` once.")));
            }
            Ok(first)
        };
        let limit = match one("limit")? {
            None => DEFAULT_LIMIT,
            Some(raw) => raw
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    bad(
                        "limit",
                        &format!("`limit` is a whole number from 1 to {MAX_LIMIT}."),
                    )
                })?,
        };
        // A cursor is a position: any text of the documented alphabet names one (the items
        // whose key sorts after it), so only text outside the alphabet is refused.
        let after = match one("cursor")? {
            None => None,
            Some(raw)
                if raw.is_empty()
                    || !raw
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
            {
                return Err(bad(
                    "cursor",
                    "`cursor` is not one this server gave: pass the `next_cursor` of the previous page as it is.",
                ));
            }
            Some(raw) => Some(
                URL_SAFE_NO_PAD
                    .decode(raw)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .unwrap_or_else(|| raw.to_string()),
            ),
        };
        Ok(Self { limit, after })
    }

    /// The page of `items` (in any order) ordered by `key`, which must be unique per item.
    pub(crate) fn apply<T>(
        &self,
        mut items: Vec<T>,
        order: Order,
        key: impl Fn(&T) -> String,
    ) -> Paged<T> {
        let mut keyed: Vec<(String, T)> = items.drain(..).map(|t| (key(&t), t)).collect();
        keyed.sort_by(|a, b| match order {
            Order::Ascending => a.0.cmp(&b.0),
            Order::Descending => b.0.cmp(&a.0),
        });
        let after = self.after.as_deref();
        let mut rest = keyed.into_iter().filter(|(k, _)| match (after, order) {
            (None, _) => true,
            (Some(a), Order::Ascending) => k.as_str() > a,
            (Some(a), Order::Descending) => k.as_str() < a,
        });
        let page: Vec<(String, T)> = rest.by_ref().take(self.limit).collect();
        let more = rest.next().is_some();
        let next_cursor = more
            .then(|| page.last().map(|(k, _)| encode_cursor(k)))
            .flatten();
        Paged {
            items: page.into_iter().map(|(_, t)| t).collect(),
            next_cursor,
        }
    }
}

/// The opaque form of a key.
pub(crate) fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key.as_bytes())
}

/// A unique key ordered by a time, then the ID (RFC 3339 in UTC with nanoseconds, so the text
/// sorts as the time does).
pub(crate) fn time_key(at: time::OffsetDateTime, id: impl std::fmt::Display) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}{:09}\u{1}{id}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.nanosecond()
    )
}

/// A list's own query parameters (its filters), read from the query string without `cursor`
/// (and `limit`, which is the page size), for lists whose filters refuse unknown parameters.
pub(crate) fn own_params<T: serde::de::DeserializeOwned>(
    query: Option<&str>,
) -> Result<T, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
        .map_err(|_| bad("query", "The query string cannot be read."))?;
    let own: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(k, _)| k != "cursor" && k != "limit")
        .collect();
    let text = serde_urlencoded::to_string(&own).unwrap_or_default();
    serde_urlencoded::from_str(&text).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            format!("A query parameter is not valid: {e}."),
        )
    })
}

/// The page of `items` ordered by the JSON fields `fields` (dotted paths such as `account.name`;
/// the last must make the key unique, usually `id`): times sort as times, numbers as numbers,
/// text ignoring case.
pub(crate) fn paged_json<T: Serialize>(
    params: &PageParams,
    items: Vec<T>,
    order: Order,
    fields: &[&str],
) -> Result<Paged<serde_json::Value>, ApiError> {
    let values = items
        .into_iter()
        .map(serde_json::to_value)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            tracing::error!(error = %e, "a list item could not be written as JSON");
            ApiError::internal()
        })?;
    Ok(params.apply(values, order, |v| json_key(v, fields)))
}

fn json_key(v: &serde_json::Value, fields: &[&str]) -> String {
    use serde_json::Value;
    let part = |field: &str| -> String {
        let mut at = v;
        for step in field.split('.') {
            at = &at[step];
        }
        match at {
            Value::String(text) => {
                time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                    .map(|t| time_key(t, ""))
                    .unwrap_or_else(|_| text.to_lowercase())
            }
            Value::Number(n) => n
                .as_i64()
                .map(|i| format!("{:020}", i.saturating_add(i64::MAX / 2)))
                .unwrap_or_else(|| n.to_string()),
            Value::Bool(b) => b.to_string(),
            Value::Null => String::new(),
            other => other.to_string(),
        }
    };
    fields
        .iter()
        .map(|f| part(f))
        .collect::<Vec<_>>()
        .join("\u{1}")
}

impl FromRequestParts<AppState> for PageParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        Self::from_query(parts.uri.query())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pages(all: &[u32], limit: usize, order: Order) -> Vec<Vec<u32>> {
        let mut out = vec![];
        let mut params = PageParams { limit, after: None };
        loop {
            let page = params.apply(all.to_vec(), order, |n| format!("{n:05}"));
            out.push(page.items);
            match page.next_cursor {
                Some(c) => {
                    params = PageParams::from_query(Some(&format!("limit={limit}&cursor={c}")))
                        .expect("cursor")
                }
                None => return out,
            }
        }
    }

    #[test]
    fn pages_cover_every_item_once_in_order() {
        let all: Vec<u32> = (1..=7).rev().collect();
        assert_eq!(
            pages(&all, 3, Order::Ascending),
            [vec![1, 2, 3], vec![4, 5, 6], vec![7]]
        );
        assert_eq!(
            pages(&all, 3, Order::Descending),
            [vec![7, 6, 5], vec![4, 3, 2], vec![1]]
        );
        assert_eq!(
            pages(&all, 7, Order::Ascending),
            [vec![1, 2, 3, 4, 5, 6, 7]]
        );
        assert_eq!(pages(&[], 7, Order::Ascending), [Vec::<u32>::new()]);
    }

    #[test]
    fn bad_limits_and_cursors_are_refused_with_the_parameter() {
        for (q, field) in [
            ("limit=0", "limit"),
            ("limit=501", "limit"),
            ("limit=x", "limit"),
            ("limit=1&limit=2", "limit"),
            ("cursor=%FF", "cursor"),
            ("cursor=***", "cursor"),
            ("cursor=", "cursor"),
        ] {
            let e = PageParams::from_query(Some(q)).expect_err(q);
            assert_eq!(
                (e.code, e.field.as_deref()),
                ("invalid_parameter", Some(field)),
                "{q}"
            );
        }
        assert_eq!(
            PageParams::from_query(None).expect("none"),
            PageParams::default()
        );
    }
}
