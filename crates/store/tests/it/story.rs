use std::sync::Arc;

use be_domain::{Account, AccountId, AccountName, ApiTokenId, Email, OrganizationId, OrganizationName, Role, TokenName, UserId};
use be_store::{Backend, Conflict, NewApiToken, NewUser, Organization, Store, StoreError};
use time::{Duration, OffsetDateTime};

crate::story!(
    migrations_are_idempotent,
    accounts_are_scoped_to_their_organization,
    account_names_are_unique_case_insensitively,
    rename_and_delete,
    users_sessions_and_tokens,
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
