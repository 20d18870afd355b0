//! The rating side of the store: pricing versions, import sources, sub-accounts, rating runs and
//! each period's rating state, on both backends.

use std::sync::Arc;

use be_domain::{ImportSourceId, OrganizationId, OrganizationName, RatingRunId, RatingRunState};
use be_store::{
    Conflict, ImportSourceRecord, ImportedPeriodRecord, Organization, PricingVersionRecord,
    RatingRunRecord, Store, StoreError, SubAccountRecord,
};
use time::OffsetDateTime;

crate::story!(
    pricing_versions_are_sequential_and_scoped,
    import_sources_and_their_periods,
    sub_accounts_keep_their_first_and_last_period,
    a_rating_clears_staleness_only_if_nothing_changed_since,
    saved_views_are_named_per_kind_with_one_default,
);

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(OffsetDateTime::now_utc().unix_timestamp())
        .expect("valid time")
}

async fn org(store: &Arc<dyn Store>, name: &str) -> OrganizationId {
    let org = Organization {
        id: OrganizationId::new(),
        name: OrganizationName::parse(name).expect("name"),
        created_at: now(),
    };
    store.create_organization(&org).await.expect("create org");
    org.id
}

fn version(org: OrganizationId, v: i32, doc: &str) -> PricingVersionRecord {
    PricingVersionRecord {
        organization_id: org,
        version: v,
        document: doc.into(),
        summary: format!("change {v}"),
        created_by: None,
        created_at: now(),
    }
}

async fn pricing_versions_are_sequential_and_scoped(store: Arc<dyn Store>) {
    let a = org(&store, "A").await;
    let b = org(&store, "B").await;
    assert!(store.current_pricing(a).await.expect("read").is_none());
    store
        .save_pricing_version(&version(a, 1, "{\"v\":1}"))
        .await
        .expect("v1");
    store
        .save_pricing_version(&version(a, 2, "{\"v\":2}"))
        .await
        .expect("v2");
    let err = store
        .save_pricing_version(&version(a, 2, "{\"lost\":true}"))
        .await
        .expect_err("a concurrent v2");
    assert!(
        matches!(err, StoreError::Conflict(Conflict::PricingVersion)),
        "{err:?}"
    );
    assert_eq!(
        store
            .current_pricing(a)
            .await
            .expect("read")
            .expect("current")
            .document,
        "{\"v\":2}"
    );
    assert_eq!(
        store
            .get_pricing_version(a, 1)
            .await
            .expect("read")
            .expect("v1")
            .document,
        "{\"v\":1}"
    );
    let history: Vec<i32> = store
        .list_pricing_versions(a, 10)
        .await
        .expect("list")
        .iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(history, [2, 1]);
    assert!(
        store.current_pricing(b).await.expect("read").is_none(),
        "B sees none of A's versions"
    );
    assert!(
        store
            .get_pricing_version(b, 1)
            .await
            .expect("read")
            .is_none()
    );
}

async fn import_sources_and_their_periods(store: Arc<dyn Store>) {
    let a = org(&store, "A").await;
    let b = org(&store, "B").await;
    let src = ImportSourceRecord {
        id: ImportSourceId::new(),
        organization_id: a,
        name: "AWS".into(),
        created_at: now(),
    };
    store.create_import_source(&src).await.expect("create");
    let twin = ImportSourceRecord {
        id: ImportSourceId::new(),
        organization_id: a,
        name: "aws".into(),
        created_at: now(),
    };
    let err = store
        .create_import_source(&twin)
        .await
        .expect_err("same name");
    assert!(
        matches!(err, StoreError::Conflict(Conflict::ImportSourceName)),
        "{err:?}"
    );
    let mut p = ImportedPeriodRecord {
        organization_id: a,
        source_id: src.id,
        period: "2026-10".into(),
        rows_stored: 8,
        billed_total: "700".into(),
        effective_total: "550".into(),
        file_name: "focus.csv".into(),
        bytes: 1234,
        imported_at: now(),
        billing_currency: Some("EUR".into()),
    };
    store
        .upsert_imported_period(&p)
        .await
        .expect("first import");
    assert_eq!(
        store.list_imported_periods(a).await.expect("list"),
        vec![p.clone()],
        "kept with its currency"
    );
    p.rows_stored = 9;
    p.billed_total = "701.5".into();
    p.billing_currency = None;
    store
        .upsert_imported_period(&p)
        .await
        .expect("re-import replaces");
    let listed = store.list_imported_periods(a).await.expect("list");
    assert_eq!(listed, vec![p.clone()]);
    assert!(
        store
            .list_imported_periods(b)
            .await
            .expect("list")
            .is_empty()
    );
    assert!(
        !store.delete_import_source(b, src.id).await.expect("delete"),
        "B cannot delete A's source"
    );
    assert!(store.delete_import_source(a, src.id).await.expect("delete"));
    assert!(
        store
            .list_imported_periods(a)
            .await
            .expect("list")
            .is_empty(),
        "its periods go with it"
    );
}

async fn sub_accounts_keep_their_first_and_last_period(store: Arc<dyn Store>) {
    let a = org(&store, "A").await;
    let sub = |period: &str, name: Option<&str>| SubAccountRecord {
        organization_id: a,
        sub_account_id: "sub-1".into(),
        name: name.map(Into::into),
        billing_account_id: Some("8611537".into()),
        source_id: "conn-1".into(),
        source_name: "Contoso".into(),
        first_period: period.into(),
        last_period: period.into(),
        updated_at: now(),
    };
    store
        .upsert_sub_accounts(&[sub("2026-10", Some("Web"))])
        .await
        .expect("first");
    store
        .upsert_sub_accounts(&[sub("2026-08", None)])
        .await
        .expect("an older month");
    store
        .upsert_sub_accounts(&[sub("2026-11", Some("Web (renamed)"))])
        .await
        .expect("a newer month");
    let got = store.list_sub_accounts(a).await.expect("list");
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].first_period.as_str(), got[0].last_period.as_str()),
        ("2026-08", "2026-11")
    );
    assert_eq!(
        got[0].name.as_deref(),
        Some("Web (renamed)"),
        "a missing name does not erase a known one"
    );
}

async fn a_rating_clears_staleness_only_if_nothing_changed_since(store: Arc<dyn Store>) {
    let a = org(&store, "A").await;
    store
        .mark_periods_stale(a, &["2026-09".into(), "2026-10".into()], now())
        .await
        .expect("mark");
    assert_eq!(
        store
            .organizations_with_stale_periods()
            .await
            .expect("orgs"),
        vec![a]
    );
    let periods = store.list_rated_periods(a).await.expect("list");
    let oct = periods.iter().find(|p| p.period == "2026-10").expect("oct");
    assert!(oct.stale && oct.current_run.is_none());
    let generation = oct.generation;

    let run = RatingRunRecord {
        id: RatingRunId::new(),
        organization_id: a,
        period: "2026-10".into(),
        state: RatingRunState::Running,
        pricing_version: 3,
        inputs: "[]".into(),
        rows_rated: 0,
        new_lines: 0,
        billed_total: None,
        provider_total: None,
        error_code: None,
        error_message: None,
        started_at: now(),
        finished_at: None,
    };
    store.create_rating_run(&run).await.expect("run");
    // A configuration change arrives while the run works.
    store
        .mark_periods_stale(a, &["2026-10".into()], now())
        .await
        .expect("mark again");
    let done = RatingRunRecord {
        state: RatingRunState::Succeeded,
        rows_rated: 9,
        new_lines: 2,
        billed_total: Some("441.2125".into()),
        finished_at: Some(now()),
        ..run.clone()
    };
    store.finish_rating_run(&done).await.expect("finish");
    store
        .finish_period_rating(a, "2026-10", Some(run.id), generation)
        .await
        .expect("record");
    let oct = store
        .list_rated_periods(a)
        .await
        .expect("list")
        .into_iter()
        .find(|p| p.period == "2026-10")
        .expect("oct");
    assert_eq!(oct.current_run, Some(run.id), "the run is current");
    assert!(
        oct.stale,
        "but the change that came during the run still needs a rating"
    );
    store
        .finish_period_rating(a, "2026-10", None, oct.generation)
        .await
        .expect("record");
    let oct = store
        .list_rated_periods(a)
        .await
        .expect("list")
        .into_iter()
        .find(|p| p.period == "2026-10")
        .expect("oct");
    assert!(!oct.stale);
    assert_eq!(
        oct.current_run,
        Some(run.id),
        "a failed run keeps the previous rating"
    );
    assert_eq!(
        store
            .get_rating_run(a, run.id)
            .await
            .expect("get")
            .expect("run"),
        done
    );
    assert_eq!(
        store.list_rating_runs(a, "2026-10", 5).await.expect("runs"),
        vec![done]
    );
    let b = org(&store, "B").await;
    assert!(
        store
            .get_rating_run(b, run.id)
            .await
            .expect("get")
            .is_none()
    );
}

async fn saved_views_are_named_per_kind_with_one_default(store: Arc<dyn Store>) {
    use be_domain::{SavedViewId, ViewKind};
    use be_store::SavedViewRecord;
    let a = org(&store, "A").await;
    let view = |kind, name: &str| SavedViewRecord {
        id: SavedViewId::new(),
        organization_id: a,
        kind,
        name: name.into(),
        document: "{}".into(),
        is_default: false,
        created_by: None,
        created_at: now(),
        updated_at: now(),
    };
    let prod = view(ViewKind::AssetGroup, "Production");
    store.create_view(&prod).await.expect("create");
    let err = store
        .create_view(&view(ViewKind::AssetGroup, "production"))
        .await
        .expect_err("same name, same kind");
    assert!(
        matches!(err, StoreError::Conflict(Conflict::ViewName)),
        "{err:?}"
    );
    store
        .create_view(&view(ViewKind::Analysis, "Production"))
        .await
        .expect("same name, other kind");
    let other = view(ViewKind::AssetGroup, "Europe");
    store.create_view(&other).await.expect("create");
    store
        .set_default_view(a, ViewKind::AssetGroup, Some(prod.id))
        .await
        .expect("default");
    store
        .set_default_view(a, ViewKind::AssetGroup, Some(other.id))
        .await
        .expect("another default");
    let defaults: Vec<String> = store
        .list_views(a, ViewKind::AssetGroup)
        .await
        .expect("list")
        .into_iter()
        .filter(|v| v.is_default)
        .map(|v| v.name)
        .collect();
    assert_eq!(defaults, vec!["Europe".to_string()], "one default per kind");
    let mut renamed = prod.clone();
    renamed.name = "Prod".into();
    renamed.document = "{\"x\":1}".into();
    assert!(store.update_view(&renamed).await.expect("update"));
    assert_eq!(
        store
            .get_view(a, prod.id)
            .await
            .expect("get")
            .expect("view")
            .document,
        "{\"x\":1}"
    );
    let b = org(&store, "B").await;
    assert!(store.get_view(b, prod.id).await.expect("get").is_none());
    assert!(!store.delete_view(b, prod.id).await.expect("delete"));
    assert!(store.delete_view(a, prod.id).await.expect("delete"));
}
