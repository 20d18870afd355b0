use std::sync::Arc;

use be_domain::{
    Account, AccountId, AccountName, ApiTokenId, Email, JobKind, JobState, JobSubject,
    OrganizationId, OrganizationName, Role, TokenName, UserId,
};
use be_store::{
    Backend, Conflict, ConnectionRecord, JobRecord, NewApiToken, NewUser, Organization,
    Registration, Store, StoreError,
};
use time::{Duration, OffsetDateTime};

crate::story!(
    migrations_are_idempotent,
    accounts_are_scoped_to_their_organization,
    account_names_are_unique_case_insensitively,
    rename_and_delete,
    users_sessions_and_tokens,
    connections_registrations_and_jobs,
);

pub fn now() -> OffsetDateTime {
    // Whole seconds: both backends store at least microseconds, so values compare equal after a round trip.
    OffsetDateTime::from_unix_timestamp(OffsetDateTime::now_utc().unix_timestamp())
        .expect("valid time")
}

pub async fn org(store: &Arc<dyn Store>, name: &str) -> OrganizationId {
    let org = Organization {
        id: OrganizationId::new(),
        name: OrganizationName::parse(name).expect("name"),
        created_at: now(),
    };
    store.create_organization(&org).await.expect("create org");
    org.id
}

pub fn account(org: OrganizationId, name: &str) -> Account {
    let t = now();
    Account {
        id: AccountId::new(),
        organization_id: org,
        name: AccountName::parse(name).expect("name"),
        created_at: t,
        updated_at: t,
    }
}

async fn migrations_are_idempotent(store: Arc<dyn Store>) {
    store
        .migrate()
        .await
        .expect("second migration run is a no-op");
    store.ping().await.expect("ping");
    assert!(matches!(
        store.backend(),
        Backend::Sqlite | Backend::Postgres
    ));
}

async fn accounts_are_scoped_to_their_organization(store: Arc<dyn Store>) {
    let a = org(&store, "Org A").await;
    let b = org(&store, "Org B").await;
    let acc = account(a, "Contoso");
    store.create_account(&acc).await.expect("create");

    assert_eq!(store.list_accounts(a).await.expect("list").len(), 1);
    assert!(
        store.list_accounts(b).await.expect("list").is_empty(),
        "B sees none of A's accounts"
    );
    assert!(store.get_account(b, acc.id).await.expect("get").is_none());
    let renamed = AccountName::parse("Stolen").expect("name");
    assert!(
        store
            .rename_account(b, acc.id, &renamed, now())
            .await
            .expect("rename")
            .is_none()
    );
    assert!(
        !store
            .delete_account(b, acc.id, now())
            .await
            .expect("delete")
    );
    let still = store
        .get_account(a, acc.id)
        .await
        .expect("get")
        .expect("still there");
    assert_eq!(
        still.name.as_str(),
        "Contoso",
        "B's rename and delete did nothing"
    );
    // The same name may exist in another organization.
    store
        .create_account(&account(b, "Contoso"))
        .await
        .expect("same name, other org");
}

async fn account_names_are_unique_case_insensitively(store: Arc<dyn Store>) {
    let a = org(&store, "Org").await;
    store
        .create_account(&account(a, "Contoso"))
        .await
        .expect("create");
    let err = store
        .create_account(&account(a, "CONTOSO"))
        .await
        .expect_err("duplicate");
    assert!(
        matches!(err, StoreError::Conflict(Conflict::AccountName)),
        "{err:?}"
    );
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
        .rename_account(
            a,
            first.id,
            &AccountName::parse("Gamma").expect("name"),
            later,
        )
        .await
        .expect("rename")
        .expect("exists");
    assert_eq!(renamed.name.as_str(), "Gamma");
    assert_eq!(renamed.updated_at, later);
    assert_eq!(renamed.created_at, first.created_at);

    let err = store
        .rename_account(
            a,
            first.id,
            &AccountName::parse("beta").expect("name"),
            later,
        )
        .await
        .expect_err("taken");
    assert!(matches!(err, StoreError::Conflict(Conflict::AccountName)));
    // Renaming to the same name in another case is allowed (it is the account's own name).
    store
        .rename_account(
            a,
            first.id,
            &AccountName::parse("GAMMA").expect("name"),
            later,
        )
        .await
        .expect("case change");

    let names: Vec<String> = store
        .list_accounts(a)
        .await
        .expect("list")
        .into_iter()
        .map(|x| x.name.to_string())
        .collect();
    assert_eq!(
        names,
        ["Beta", "GAMMA"],
        "listed by name, case-insensitively"
    );

    assert!(
        store
            .delete_account(a, second.id, now())
            .await
            .expect("delete")
    );
    assert!(
        !store
            .delete_account(a, second.id, now())
            .await
            .expect("delete twice")
    );
    assert!(
        store
            .get_account(a, second.id)
            .await
            .expect("get")
            .is_none()
    );
}

async fn users_sessions_and_tokens(store: Arc<dyn Store>) {
    let a = org(&store, "Org").await;
    let user = NewUser {
        id: UserId::new(),
        organization_id: a,
        email: Email::parse("ada@example.com").expect("email"),
        password_hash: "$argon2id$stub".into(),
        role: Role::Owner,
        families: None,
        created_at: now(),
    };
    store.create_user(&user).await.expect("create user");
    let dup = NewUser {
        id: UserId::new(),
        ..user.clone()
    };
    assert!(matches!(
        store.create_user(&dup).await,
        Err(StoreError::Conflict(Conflict::UserEmail))
    ));

    let creds = store
        .find_user_credentials(&user.email)
        .await
        .expect("find")
        .expect("exists");
    assert_eq!(creds.user.id, user.id);
    assert_eq!(creds.password_hash, "$argon2id$stub");
    store
        .set_password_hash(user.id, "$argon2id$other")
        .await
        .expect("set hash");
    let creds = store
        .find_user_credentials(&user.email)
        .await
        .expect("find")
        .expect("exists");
    assert_eq!(creds.password_hash, "$argon2id$other");

    // Sessions expire.
    let t = now();
    store
        .create_session(b"session-hash", user.id, t, t + Duration::hours(1))
        .await
        .expect("session");
    assert_eq!(
        store
            .find_session(b"session-hash", t)
            .await
            .expect("find")
            .expect("live")
            .user
            .id,
        user.id
    );
    assert!(
        store
            .find_session(b"session-hash", t + Duration::hours(2))
            .await
            .expect("find")
            .is_none()
    );
    assert!(
        store
            .find_session(b"other", t)
            .await
            .expect("find")
            .is_none()
    );
    assert_eq!(
        store
            .delete_expired_sessions(t + Duration::hours(2))
            .await
            .expect("gc"),
        1
    );

    // API tokens: found by hash, last use recorded, revocable only by their owner.
    let token = NewApiToken {
        id: ApiTokenId::new(),
        organization_id: a,
        user_id: user.id,
        name: TokenName::parse("cli").expect("name"),
        token_hash: b"token-hash".to_vec(),
        prefix: "be_abcd".into(),
        role: None,
        created_at: t,
    };
    store.create_api_token(&token).await.expect("token");
    let (found, owner) = store
        .use_api_token(b"token-hash", t + Duration::minutes(1))
        .await
        .expect("use")
        .expect("found");
    assert_eq!((found.id, owner.id), (token.id, user.id));
    let listed = store.list_api_tokens(a, user.id).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_used_at, Some(t + Duration::minutes(1)));
    let other_org = org(&store, "Other").await;
    assert!(
        !store
            .revoke_api_token(other_org, user.id, token.id)
            .await
            .expect("revoke"),
        "wrong org"
    );
    assert!(
        store
            .revoke_api_token(a, user.id, token.id)
            .await
            .expect("revoke")
    );
    assert!(
        store
            .use_api_token(b"token-hash", t)
            .await
            .expect("use")
            .is_none()
    );
}

pub fn draft(org: OrganizationId, account: AccountId) -> ConnectionRecord {
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
    use be_domain::{
        AgreementType, BillingAccountId, ClientId, ConnectionState, Product, Provider, TenantId,
    };
    let a = org(&store, "Org").await;
    let other = org(&store, "Other").await;
    let acc = account(a, "Contoso");
    store.create_account(&acc).await.expect("account");

    let mut c = draft(a, acc.id);
    store.create_connection(&c).await.expect("create");
    let again = draft(a, acc.id);
    assert!(
        matches!(
            store.create_connection(&again).await,
            Err(StoreError::Conflict(Conflict::AccountConnected))
        ),
        "one per account"
    );
    assert_eq!(
        store.list_registrations(a).await.expect("list"),
        [Registration {
            account_id: acc.id,
            product: Product::BillingEngine,
            provider: Provider::Azure
        }],
        "the connection registers its account"
    );

    // Every field round-trips, including the sealed secret and the expiry date.
    c.state = ConnectionState::Connected;
    c.step = "done".into();
    c.tenant_id = Some(TenantId::parse("contoso.onmicrosoft.com").expect("t"));
    c.tenant_guid = Some("11111111-2222-3333-4444-555555555555".into());
    c.client_id = Some(ClientId::parse("00001111-aaaa-2222-bbbb-3333cccc4444").expect("c"));
    c.agreement_type = Some(AgreementType::EnterpriseAgreement);
    c.billing_account_id =
        Some(BillingAccountId::parse(AgreementType::EnterpriseAgreement, "8611537").expect("b"));
    c.billing_account_name = Some("Contoso EA".into());
    c.principal_object_id = Some("99a1a759-30dd-42c2-828c-db398826bb67".into());
    c.secret_ciphertext = Some(vec![1, 0, 255, 7]);
    c.secret_expires_on = Some(time::macros::date!(2027 - 06 - 30));
    c.secret_set_at = Some(now());
    c.checks = Some("[]".into());
    c.last_validated_at = Some(now());
    c.updated_at = now() + Duration::seconds(1);
    assert!(store.update_connection(&c).await.expect("update"));
    assert_eq!(
        store
            .get_connection(a, c.id)
            .await
            .expect("get")
            .expect("exists"),
        c
    );
    assert_eq!(store.list_connections(a).await.expect("list"), [c.clone()]);

    // Scoped to the organization.
    assert!(
        store
            .get_connection(other, c.id)
            .await
            .expect("get")
            .is_none()
    );
    assert!(
        store
            .list_connections(other)
            .await
            .expect("list")
            .is_empty()
    );
    let mut stolen = c.clone();
    stolen.organization_id = other;
    assert!(!store.update_connection(&stolen).await.expect("update"));
    assert!(
        !store
            .delete_connection(other, c.id, now())
            .await
            .expect("delete")
    );

    // A sync of the connection, queued.
    let job = store
        .enqueue_job(&JobRecord::queued(
            a,
            JobSubject::Connection(c.id),
            JobKind::Sync,
            now(),
            now(),
        ))
        .await
        .expect("enqueue");

    // A registration for another product; only accounts of the organization can be registered.
    let reg = Registration {
        account_id: acc.id,
        product: Product::CostIntelligence,
        provider: Provider::Azure,
    };
    store
        .add_registration(a, &reg, now())
        .await
        .expect("register");
    store
        .add_registration(a, &reg, now())
        .await
        .expect("idempotent");
    store
        .add_registration(other, &reg, now())
        .await
        .expect("no-op");
    assert_eq!(store.list_registrations(a).await.expect("list").len(), 2);
    assert!(
        store
            .list_registrations(other)
            .await
            .expect("list")
            .is_empty()
    );

    // Deleting the connection takes its Billing Engine registration with it and cancels its
    // queued job (the record stays).
    assert!(
        store
            .delete_connection(a, c.id, now())
            .await
            .expect("delete")
    );
    let cancelled = store.get_job(a, job.id).await.expect("get").expect("kept");
    assert_eq!(cancelled.state, JobState::Cancelled);
    assert_eq!(store.list_registrations(a).await.expect("list"), [reg]);
    store
        .create_connection(&draft(a, acc.id))
        .await
        .expect("a new connection after deletion");
    // Deleting the account takes everything.
    assert!(
        store
            .delete_account(a, acc.id, now())
            .await
            .expect("delete account")
    );
    assert!(store.list_connections(a).await.expect("list").is_empty());
    assert!(store.list_registrations(a).await.expect("list").is_empty());
}
