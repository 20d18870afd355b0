//! Reports of one billing account in flight at once: never more than `reports_in_flight`, and
//! as many as that when several are asked for together (a period's actual and amortized reports).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Router, http::StatusCode, response::IntoResponse};
use be_azure::{CostMetric, CostReportRequest, FetchLimits};

use crate::{client, serve, token};

/// Reports created and not yet downloaded, and the most seen at once, per scope.
#[derive(Default)]
struct Counts {
    open: std::collections::HashMap<String, usize>,
    most: std::collections::HashMap<String, usize>,
    base: String,
}

type Shared = Arc<Mutex<Counts>>;

/// A Cost Details endpoint whose reports are ready at the first poll (after `Retry-After: 0`)
/// and whose single blob is served slowly enough for the fetches to overlap.
fn cost_details(counts: Shared) -> Router {
    Router::new()
        .route(
            "/providers/Microsoft.Billing/billingAccounts/{account}/providers/Microsoft.CostManagement/generateCostDetailsReport",
            post(|State(c): State<Shared>, Path(account): Path<String>| async move {
                let mut c = c.lock().expect("lock");
                let open = c.open.entry(account.clone()).or_default();
                *open += 1;
                let now = *open;
                let most = c.most.entry(account.clone()).or_default();
                *most = (*most).max(now);
                let location = format!("{}/providers/Microsoft.Billing/billingAccounts/{account}/providers/Microsoft.CostManagement/costDetailsOperationResults/1?api-version=2022-05-01", c.base);
                (StatusCode::ACCEPTED, [("location", location), ("retry-after", "0".to_string())]).into_response()
            }),
        )
        .route(
            "/providers/Microsoft.Billing/billingAccounts/{account}/providers/Microsoft.CostManagement/costDetailsOperationResults/1",
            get(|State(c): State<Shared>, Path(account): Path<String>| async move {
                let base = c.lock().expect("lock").base.clone();
                let body = serde_json::json!({"status": "Completed", "manifest": {"blobCount": 1, "byteCount": 4, "blobs": [{"blobLink": format!("{base}/blob/{account}"), "byteCount": 4}]}});
                axum::Json(body).into_response()
            }),
        )
        .route(
            "/blob/{account}",
            get(|State(c): State<Shared>, Path(account): Path<String>| async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                *c.lock().expect("lock").open.entry(account).or_default() -= 1;
                "a,b\n"
            }),
        )
        .with_state(counts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_billing_account_never_has_more_reports_in_flight_than_allowed() {
    let counts: Shared = Arc::default();
    let base = serve(cost_details(counts.clone())).await;
    counts.lock().expect("lock").base = base.as_str().trim_end_matches('/').to_string();
    let c = client(base, 3);
    let tok = token();
    let limits = FetchLimits {
        reports_in_flight: 2,
        ..FetchLimits::default()
    };
    let dir = std::env::temp_dir().join(format!("be-azure-in-flight-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let request = CostReportRequest::TimePeriod {
        metric: CostMetric::ActualCost,
        start: time::macros::date!(2026 - 01 - 01),
        end: time::macros::date!(2026 - 01 - 31),
    };
    let fetch = |scope: &'static str, n: usize| {
        let (c, tok, request, dir) = (c.clone(), tok.clone(), request.clone(), dir.clone());
        async move {
            c.fetch_report(
                &tok,
                scope,
                &request,
                &dir,
                &format!("{}-{n}", scope.rsplit('/').next().unwrap_or("x")),
                &limits,
            )
            .await
        }
    };
    let mut all = Vec::new();
    for n in 0..5 {
        all.push(tokio::spawn(fetch(
            "providers/Microsoft.Billing/billingAccounts/1111111",
            n,
        )));
    }
    all.push(tokio::spawn(fetch(
        "providers/Microsoft.Billing/billingAccounts/2222222",
        0,
    )));
    for f in all {
        let got = f.await.expect("task").expect("fetched");
        assert_eq!(got.bytes, 4);
    }
    let c = counts.lock().expect("lock");
    assert_eq!(
        c.most.get("1111111"),
        Some(&2),
        "two of the five reports at a time, no more and no fewer"
    );
    assert_eq!(
        c.most.get("2222222"),
        Some(&1),
        "another billing account has its own turns"
    );
    let _ = std::fs::remove_dir_all(dir);
}
