use std::time::Duration;

use be_azure::{
    AzureClient, ClientCredentials, CostMetric, CostReportRequest, Endpoints, ErrorKind,
    FetchLimits, RetryPolicy,
};
use be_azure_sim::{
    Agreement, AzureSim, FaultEndpoint, FaultKind, FaultSpec, NewApp, NewBillingAccount, NewSecret,
    NewTenant, NewUser, RunningSim, SimConfig,
};

const EA: &str = "1234567";

async fn world() -> (RunningSim, AzureClient, ClientCredentials) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sim = AzureSim::start(SimConfig::default()).await.expect("sim");
    let s = sim.sim();
    s.create_tenant(NewTenant {
        id: None,
        display_name: None,
        domains: vec!["fabrikam.onmicrosoft.com".into()],
    })
    .expect("tenant");
    let app = s
        .create_app(
            "fabrikam.onmicrosoft.com",
            NewApp {
                secret: Some(NewSecret::default()),
                ..Default::default()
            },
        )
        .expect("app");
    let admin = s
        .create_user(
            "fabrikam.onmicrosoft.com",
            NewUser {
                user_principal_name: Some("ea@fabrikam.com".into()),
                ..Default::default()
            },
        )
        .expect("user");
    s.create_billing_account(NewBillingAccount {
        name: Some(EA.into()),
        administrators: vec![admin.object_id],
        rows_per_month: Some(3_000),
        rows_per_blob: Some(1_000),
        ..NewBillingAccount::new(Agreement::Ea, "fabrikam.onmicrosoft.com")
    })
    .expect("account");
    // Grant EnrollmentReader as the administrator.
    let token = s.user_token(admin.object_id).expect("token").access_token;
    let resp = reqwest::Client::new()
        .put(format!("{}/providers/Microsoft.Billing/billingAccounts/{EA}/billingRoleAssignments/{}?api-version=2019-10-01-preview", sim.management_url(), uuid::Uuid::new_v4()))
        .bearer_auth(token)
        .json(&serde_json::json!({"properties": {"principalId": app.service_principal_object_id, "principalTenantId": app.tenant_id,
            "roleDefinitionId": format!("/providers/Microsoft.Billing/billingAccounts/{EA}/billingRoleDefinitions/24f8edb6-1668-4659-b5e2-40bb5f3a7d7e")}}))
        .send()
        .await
        .expect("grant");
    assert!(resp.status().is_success());
    let endpoints = Endpoints {
        login: url::Url::parse(&sim.login_url()).expect("url"),
        management: url::Url::parse(&sim.management_url()).expect("url"),
    };
    let policy = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(2),
        request_timeout: Duration::from_secs(20),
    };
    let client = AzureClient::new(endpoints, policy).expect("client");
    let creds = ClientCredentials {
        tenant: "fabrikam.onmicrosoft.com".into(),
        client_id: app.client_id.to_string(),
        client_secret: app.secrets[0].value.clone().into(),
    };
    (sim, client, creds)
}

fn last_month() -> CostReportRequest {
    let today = time::OffsetDateTime::now_utc().date();
    let first_this = today.replace_day(1).expect("day");
    let last = first_this.previous_day().expect("day");
    CostReportRequest::TimePeriod {
        metric: CostMetric::ActualCost,
        start: last.replace_day(1).expect("day"),
        end: last,
    }
}

fn limits() -> FetchLimits {
    FetchLimits {
        max_wait: Duration::from_secs(60),
        max_poll_interval: Duration::from_secs(2),
        download_attempts: 3,
        report_attempts: 2,
        reports_in_flight: 2,
    }
}

fn temp() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("be-azure-fetch-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&d).expect("dir");
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_split_over_several_blobs_is_downloaded_whole() {
    let (sim, client, creds) = world().await;
    let token = client.token(&creds).await.expect("token");
    let dir = temp();
    let fetched = client
        .fetch_report(
            &token,
            &AzureClient::billing_account_scope(EA),
            &last_month(),
            &dir,
            "actual",
            &limits(),
        )
        .await
        .expect("fetch");
    assert!(
        fetched.files.len() >= 2,
        "split over several blobs: {}",
        fetched.files.len()
    );
    let on_disk: u64 = fetched
        .files
        .iter()
        .map(|f| std::fs::metadata(f).expect("file").len())
        .sum();
    assert_eq!(on_disk, fetched.bytes);
    for f in &fetched.files {
        let text = std::fs::read_to_string(f).expect("utf-8");
        assert!(
            text.lines()
                .next()
                .expect("header")
                .contains("CostInBillingCurrency"),
            "every part has its header"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
    drop(sim);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_downloads_are_retried_and_size_checked() {
    let (sim, client, creds) = world().await;
    let token = client.token(&creds).await.expect("token");
    for kind in [
        FaultKind::Truncate { after_bytes: 500 },
        FaultKind::DropConnection { after_bytes: 500 },
        FaultKind::ServerError { status: 500 },
    ] {
        sim.sim().add_fault(FaultSpec {
            endpoint: FaultEndpoint::BlobDownload,
            billing_account: None,
            kind: kind.clone(),
            count: Some(1),
        });
        let dir = temp();
        let fetched = client
            .fetch_report(
                &token,
                &AzureClient::billing_account_scope(EA),
                &last_month(),
                &dir,
                "actual",
                &limits(),
            )
            .await;
        let fetched = fetched.unwrap_or_else(|e| panic!("{kind:?} is retried: {e}"));
        let on_disk: u64 = fetched
            .files
            .iter()
            .map(|f| std::fs::metadata(f).expect("file").len())
            .sum();
        assert_eq!(on_disk, fetched.bytes, "{kind:?}");
        let _ = std::fs::remove_dir_all(dir);
    }
    // A download that keeps breaking is reported as such, never as a short file.
    sim.sim().add_fault(FaultSpec {
        endpoint: FaultEndpoint::BlobDownload,
        billing_account: None,
        kind: FaultKind::Truncate { after_bytes: 100 },
        count: None,
    });
    let dir = temp();
    let err = client
        .fetch_report(
            &token,
            &AzureClient::billing_account_scope(EA),
            &last_month(),
            &dir,
            "actual",
            &limits(),
        )
        .await
        .expect_err("keeps failing");
    assert_eq!(err.kind, ErrorKind::DownloadFailed, "{err}");
    assert!(err.message.contains("manifest says"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_links_are_renewed_by_requesting_the_report_again() {
    let (sim, client, creds) = world().await;
    let token = client.token(&creds).await.expect("token");
    let scope = AzureClient::billing_account_scope(EA);
    let manifest = client
        .wait_for_report(&token, &scope, &last_month(), &limits())
        .await
        .expect("report")
        .expect("data");
    // The links expire (the simulator's clock moves past validTill).
    sim.clock().advance(time::Duration::days(2));
    let dir = temp();
    let err = client
        .download_blob(
            &manifest.blobs[0].link,
            manifest.blobs[0].byte_count,
            &dir.join("x.csv"),
        )
        .await
        .expect_err("expired");
    assert_eq!(
        (err.kind, err.status),
        (ErrorKind::DownloadFailed, Some(403))
    );
    // A fresh token (the old one expired with the clock) and a fetch: it asks for the report again.
    let token = client.token(&creds).await.expect("token");
    let fetched = client
        .fetch_report(&token, &scope, &last_month(), &dir, "actual", &limits())
        .await
        .expect("fresh report");
    assert!(!fetched.files.is_empty());
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_report_creation_is_retried() {
    let (sim, client, creds) = world().await;
    let token = client.token(&creds).await.expect("token");
    sim.sim().add_fault(FaultSpec {
        endpoint: FaultEndpoint::GenerateCostDetailsReport,
        billing_account: None,
        kind: FaultKind::Throttle {
            retry_after_secs: 1,
        },
        count: Some(1),
    });
    let dir = temp();
    let started = std::time::Instant::now();
    client
        .fetch_report(
            &token,
            &AzureClient::billing_account_scope(EA),
            &last_month(),
            &dir,
            "actual",
            &limits(),
        )
        .await
        .expect("after the wait");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );
    let _ = std::fs::remove_dir_all(dir);
}
