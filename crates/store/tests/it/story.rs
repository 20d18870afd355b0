use std::sync::Arc;

use be_domain::{Account, AccountId, AccountName, ApiTokenId, Email, OrganizationId, OrganizationName, Role, TokenName, UserId};
use be_store::{
    Backend, Conflict, ConnectionRecord, JobRecord, NewApiToken, NewUser, Organization, PeriodRecord, Registration, Store, StoreError,
    SyncPeriodRecord,
};
use time::{Duration, OffsetDateTime};

crate::story!(
    migrations_are_idempotent,
    accounts_are_scoped_to_their_organization,
    account_names_are_unique_case_insensitively,
    rename_and_delete,
    users_sessions_and_tokens,
    connections_registrations_and_jobs,
    jobs_are_claimed_once_and_survive_a_crash,
);

fn now() -> OffsetDateTime {
    // Whole seconds: both backends store at least microseconds, so values compare equal after a round trip.
    OffsetDateTime::from_unix_timestamp(OffsetDateTime::now_utc().unix_timestamp()).expect("valid time")
}

async fn org(store: &Arc<dyn Store>, name: &str) -> OrganizationId {
    let org = Organization { id: OrganizationId::new(), name: OrganizationName::parse(name).expect("name"), created_at: now() };
    store.create_organization(&org).await.expect("create org");
    org.id
}

fn account(org: OrganizationId, name: &str) -> Account {
    let t = now();
    Account { id: AccountId::new(), organization_id: org, name: AccountName::parse(name).expect("name"), created_at: t, updated_at: t }
}

async fn migrations_are_idempotent(store: Arc<dyn Store>) {
    store.migrate().await.expect("second migration run is a no-op");
    store.ping().await.expect("ping");
    assert!(matches!(store.backend(), Backend::Sqlite | Backend::Postgres));
}

async fn accounts_are_scoped_to_their_organization(store: Arc<dyn Store>) {
    let a = org(&store, "Org A").await;
    let b = org(&store, "Org B").await;
    let acc = account(a, "Contoso");
    store.create_account(&acc).await.expect("create");

    assert_eq!(store.list_accounts(a).await.expect("list").len(), 1);
    assert!(store.list_accounts(b).await.expect("list").is_empty(), "B sees none of A's accounts");
    assert!(store.get_account(b, acc.id).await.expect("get").is_none());
    let renamed = AccountName::parse("Stolen").expect("name");
    assert!(store.rename_account(b, acc.id, &renamed, now()).await.expect("rename").is_none());
    assert!(!store.delete_account(b, acc.id).await.expect("delete"));
    let still = store.get_account(a, acc.id).await.expect("get").expect("still there");
    assert_eq!(still.name.as_str(), "Contoso", "B's rename and delete did nothing");
    // The same name may exist in another organization.
    store.create_account(&account(b, "Contoso")).await.expect("same name, other org");
}

async fn account_names_are_unique_case_insensitively(store: Arc<dyn Store>) {
    let a = org(&store, "Org").await;
    store.create_account(&account(a, "Contoso")).await.expect("create");
    let err = store.create_account(&account(a, "CONTOSO")).await.expect_err("duplicate");
    assert!(matches!(err, StoreError::Conflict(Conflict::AccountName)), "{err:?}");
    let listed = store.list_accounts(a).await.expect("list");
    assert_eq!(listed.len(), 1, "nothing half-written");
}

async fn rename_and_delete(store: Arc<dyn Store>) {
    let a = org(&store, "Org").await;
    let first = account(a, "Alpha");
    let second = account(a, "Beta");
    store.create_account(&first).await.expect("create");
    store.create_account(&second).await.expect("create");

    let later = now() + Duration::seconds(5);
    let renamed = store
        .rename_account(a, first.id, &AccountName::parse("Gamma").expect("name"), later)
        .await
        .expect("rename")
        .expect("exists");
    assert_eq!(renamed.name.as_str(), "Gamma");
    assert_eq!(renamed.updated_at, later);
    assert_eq!(renamed.created_at, first.created_at);

    let err = store
        .rename_account(a, first.id, &AccountName::parse("beta").expect("name"), later)
        .await
        .expect_err("taken");
    assert!(matches!(err, StoreError::Conflict(Conflict::AccountName)));
    // Renaming to the same name in another case is allowed (it is the account's own name).
    store.rename_account(a, first.id, &AccountName::parse("GAMMA").expect("name"), later).await.expect("case change");

    let names: Vec<String> = store.list_accounts(a).await.expect("list").into_iter().map(|x| x.name.to_string()).collect();
    assert_eq!(names, ["Beta", "GAMMA"], "listed by name, case-insensitively");

    assert!(store.delete_account(a, second.id).await.expect("delete"));
    assert!(!store.delete_account(a, second.id).await.expect("delete twice"));
    assert!(store.get_account(a, second.id).await.expect("get").is_none());
}

async fn users_sessions_and_tokens(store: Arc<dyn Store>) {
    let a = org(&store, "Org").await;
    let user = NewUser {
        id: UserId::new(),
        organization_id: a,
        email: Email::parse("ada@example.com").expect("email"),
        password_hash: "$argon2id$stub".into(),
        role: Role::Admin,
        created_at: now(),
    };
    store.create_user(&user).await.expect("create user");
    let dup = NewUser { id: UserId::new(), ..user.clone() };
    assert!(matches!(store.create_user(&dup).await, Err(StoreError::Conflict(Conflict::UserEmail))));

    let creds = store.find_user_credentials(&user.email).await.expect("find").expect("exists");
    assert_eq!(creds.user.id, user.id);
    assert_eq!(creds.password_hash, "$argon2id$stub");
    store.set_password_hash(user.id, "$argon2id$other").await.expect("set hash");
    let creds = store.find_user_credentials(&user.email).await.expect("find").expect("exists");
    assert_eq!(creds.password_hash, "$argon2id$other");

    // Sessions expire.
    let t = now();
    store.create_session(b"session-hash", user.id, t, t + Duration::hours(1)).await.expect("session");
    assert_eq!(store.find_session(b"session-hash", t).await.expect("find").expect("live").user.id, user.id);
    assert!(store.find_session(b"session-hash", t + Duration::hours(2)).await.expect("find").is_none());
    assert!(store.find_session(b"other", t).await.expect("find").is_none());
    assert_eq!(store.delete_expired_sessions(t + Duration::hours(2)).await.expect("gc"), 1);

    // API tokens: found by hash, last use recorded, revocable only by their owner.
    let token = NewApiToken {
        id: ApiTokenId::new(),
        organization_id: a,
        user_id: user.id,
        name: TokenName::parse("cli").expect("name"),
        token_hash: b"token-hash".to_vec(),
        prefix: "be_abcd".into(),
        created_at: t,
    };
    store.create_api_token(&token).await.expect("token");
    let (found, owner) = store.use_api_token(b"token-hash", t + Duration::minutes(1)).await.expect("use").expect("found");
    assert_eq!((found.id, owner.id), (token.id, user.id));
    let listed = store.list_api_tokens(a, user.id).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_used_at, Some(t + Duration::minutes(1)));
    let other_org = org(&store, "Other").await;
    assert!(!store.revoke_api_token(other_org, user.id, token.id).await.expect("revoke"), "wrong org");
    assert!(store.revoke_api_token(a, user.id, token.id).await.expect("revoke"));
    assert!(store.use_api_token(b"token-hash", t).await.expect("use").is_none());
}

fn draft(org: OrganizationId, account: AccountId) -> ConnectionRecord {
    let t = now();
    ConnectionRecord {
        id: be_domain::ConnectionId::new(),
        organization_id: org,
        account_id: account,
        provider: be_domain::Provider::Azure,
        product: be_domain::Product::BillingEngine,
        state: be_domain::ConnectionState::Draft,
        step: "ids".into(),
        tenant_id: None,
        tenant_guid: None,
        client_id: None,
        agreement_type: None,
        billing_account_id: None,
        billing_account_name: None,
        principal_object_id: None,
        secret_ciphertext: None,
        secret_expires_on: None,
        secret_set_at: None,
        checks: None,
        last_validated_at: None,
        created_at: t,
        updated_at: t,
    }
}

async fn connections_registrations_and_jobs(store: Arc<dyn Store>) {
    use be_domain::{AgreementType, BillingAccountId, ClientId, ConnectionState, Product, Provider, TenantId};
    let a = org(&store, "Org").await;
    let other = org(&store, "Other").await;
    let acc = account(a, "Contoso");
    store.create_account(&acc).await.expect("account");

    let mut c = draft(a, acc.id);
    store.create_connection(&c).await.expect("create");
    let again = draft(a, acc.id);
    assert!(matches!(store.create_connection(&again).await, Err(StoreError::Conflict(Conflict::AccountConnected))), "one per account");
    assert_eq!(
        store.list_registrations(a).await.expect("list"),
        [Registration { account_id: acc.id, product: Product::BillingEngine, provider: Provider::Azure }],
        "the connection registers its account"
    );

    // Every field round-trips, including the sealed secret and the expiry date.
    c.state = ConnectionState::Connected;
    c.step = "done".into();
    c.tenant_id = Some(TenantId::parse("contoso.onmicrosoft.com").expect("t"));
    c.tenant_guid = Some("11111111-2222-3333-4444-555555555555".into());
    c.client_id = Some(ClientId::parse("00001111-aaaa-2222-bbbb-3333cccc4444").expect("c"));
    c.agreement_type = Some(AgreementType::EnterpriseAgreement);
    c.billing_account_id = Some(BillingAccountId::parse(AgreementType::EnterpriseAgreement, "8611537").expect("b"));
    c.billing_account_name = Some("Contoso EA".into());
    c.principal_object_id = Some("99a1a759-30dd-42c2-828c-db398826bb67".into());
    c.secret_ciphertext = Some(vec![1, 0, 255, 7]);
    c.secret_expires_on = Some(time::macros::date!(2027 - 06 - 30));
    c.secret_set_at = Some(now());
    c.checks = Some("[]".into());
    c.last_validated_at = Some(now());
    c.updated_at = now() + Duration::seconds(1);
    assert!(store.update_connection(&c).await.expect("update"));
    assert_eq!(store.get_connection(a, c.id).await.expect("get").expect("exists"), c);
    assert_eq!(store.list_connections(a).await.expect("list"), [c.clone()]);

    // Scoped to the organization.
    assert!(store.get_connection(other, c.id).await.expect("get").is_none());
    assert!(store.list_connections(other).await.expect("list").is_empty());
    let mut stolen = c.clone();
    stolen.organization_id = other;
    assert!(!store.update_connection(&stolen).await.expect("update"));
    assert!(!store.delete_connection(other, c.id).await.expect("delete"));

    // One active job per connection and kind.
    let job = |id| JobRecord {
        id,
        organization_id: a,
        connection_id: c.id,
        kind: "sync".into(),
        state: "queued".into(),
        run_after: now(),
        attempts: 0,
        last_error: None,
        progress_done: 0,
        progress_total: 0,
        created_at: now(),
        updated_at: now(),
    };
    let first = store.enqueue_job(&job(be_domain::JobId::new())).await.expect("enqueue");
    let second = store.enqueue_job(&job(be_domain::JobId::new())).await.expect("enqueue again");
    assert_eq!(first.id, second.id, "the waiting job is returned, not a second one");
    assert_eq!(store.list_jobs(a, c.id).await.expect("jobs").len(), 1);

    // A registration for another product; only accounts of the organization can be registered.
    let reg = Registration { account_id: acc.id, product: Product::CostIntelligence, provider: Provider::Azure };
    store.add_registration(a, &reg, now()).await.expect("register");
    store.add_registration(a, &reg, now()).await.expect("idempotent");
    store.add_registration(other, &reg, now()).await.expect("no-op");
    assert_eq!(store.list_registrations(a).await.expect("list").len(), 2);
    assert!(store.list_registrations(other).await.expect("list").is_empty());

    // Deleting the connection takes its jobs and its Billing Engine registration with it.
    assert!(store.delete_connection(a, c.id).await.expect("delete"));
    assert!(store.list_jobs(a, c.id).await.expect("jobs").is_empty());
    assert_eq!(store.list_registrations(a).await.expect("list"), [reg]);
    store.create_connection(&draft(a, acc.id)).await.expect("a new connection after deletion");
    // Deleting the account takes everything.
    assert!(store.delete_account(a, acc.id).await.expect("delete account"));
    assert!(store.list_connections(a).await.expect("list").is_empty());
    assert!(store.list_registrations(a).await.expect("list").is_empty());
}

async fn jobs_are_claimed_once_and_survive_a_crash(store: Arc<dyn Store>) {
    let a = org(&store, "Org").await;
    let acc = account(a, "Contoso");
    store.create_account(&acc).await.expect("account");
    let c = draft(a, acc.id);
    store.create_connection(&c).await.expect("connection");
    let t = now();
    let job = JobRecord {
        id: be_domain::JobId::new(),
        organization_id: a,
        connection_id: c.id,
        kind: "sync".into(),
        state: "queued".into(),
        run_after: t + Duration::minutes(10),
        attempts: 0,
        last_error: None,
        progress_done: 0,
        progress_total: 0,
        created_at: t,
        updated_at: t,
    };
    store.enqueue_job(&job).await.expect("enqueue");
    assert!(store.claim_next_job(t).await.expect("claim").is_none(), "not due yet");
    let claimed = store.claim_next_job(t + Duration::minutes(11)).await.expect("claim").expect("due");
    assert_eq!((claimed.id, claimed.state.as_str(), claimed.attempts), (job.id, "running", 1));
    assert!(store.claim_next_job(t + Duration::minutes(11)).await.expect("claim").is_none(), "taken once");

    // A period pull in progress when the process dies.
    let running = SyncPeriodRecord {
        id: be_domain::SyncPeriodId::new(),
        organization_id: a,
        connection_id: c.id,
        job_id: job.id,
        period: "2026-10".into(),
        started_at: t,
        finished_at: None,
        outcome: "running".into(),
        rows_written: 0,
        bytes_downloaded: 0,
        source_total: None,
        focus_total: None,
        amortized_total: None,
        effective_total: None,
        reconciled: None,
        error_code: None,
        error_message: None,
        remedy: None,
    };
    store.record_sync_period(&running).await.expect("start");
    assert_eq!(store.requeue_interrupted_jobs(t).await.expect("requeue"), 1);
    let history = store.list_sync_periods(a, c.id, 10).await.expect("history");
    assert_eq!((history[0].outcome.as_str(), history[0].error_code.as_deref()), ("failed", Some("sync_interrupted")));
    let again = store.claim_next_job(t + Duration::minutes(11)).await.expect("claim").expect("queued again");
    assert_eq!(again.attempts, 2);
    store.set_job_progress(again.id, 3, 13).await.expect("progress");
    let listed = &store.list_jobs(a, c.id).await.expect("jobs")[0];
    assert_eq!((listed.progress_done, listed.progress_total), (3, 13));
    store.finish_job(again.id, "done", None, t).await.expect("finish");
    assert_eq!(store.list_jobs(a, c.id).await.expect("jobs")[0].state, "done");

    let mut done = running.clone();
    done.id = be_domain::SyncPeriodId::new();
    done.outcome = "succeeded".into();
    done.rows_written = 29;
    done.source_total = Some("1234.5678901234567890123456".into());
    done.focus_total = Some("1234.5678901234567890123456".into());
    done.amortized_total = Some("1200.5".into());
    done.effective_total = Some("1200.5".into());
    done.reconciled = Some(true);
    done.finished_at = Some(t + Duration::seconds(3));
    store.record_sync_period(&done).await.expect("insert");
    store.record_sync_period(&done).await.expect("update is idempotent");
    assert_eq!(store.list_sync_periods(a, c.id, 10).await.expect("history").len(), 2);

    let p = PeriodRecord {
        organization_id: a,
        connection_id: c.id,
        period: "2026-10".into(),
        rows_stored: 29,
        source_total: "1234.5678901234567890123456".into(),
        focus_total: "1234.5678901234567890123456".into(),
        amortized_total: "1200.5".into(),
        effective_total: "1200.5".into(),
        reconciled: true,
        pulled_at: t,
        closed: false,
    };
    store.upsert_period(&p).await.expect("upsert");
    store.upsert_period(&PeriodRecord { rows_stored: 30, closed: true, ..p.clone() }).await.expect("replace");
    let periods = store.list_periods(a, c.id).await.expect("periods");
    assert_eq!(periods.len(), 1);
    assert_eq!((periods[0].rows_stored, periods[0].closed), (30, true));
    assert_eq!(periods[0].source_total, "1234.5678901234567890123456", "exact text round trip");
}
