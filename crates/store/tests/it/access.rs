//! Users' roles and invitations on both backends: an organization never loses its last owner,
//! an invitation is used once, the family limit round-trips.

use std::sync::Arc;

use be_domain::{Email, FamilyId, InviteId, OrganizationId, Role, UserId};
use be_store::{Conflict, InviteRecord, NewUser, Store, StoreError, UserChange};
use time::Duration;

use crate::story::{now, org};

crate::story!(the_last_owner_stays, an_invitation_is_accepted_once,);

async fn user(store: &Arc<dyn Store>, org: OrganizationId, email: &str, role: Role) -> UserId {
    let u = NewUser {
        id: UserId::new(),
        organization_id: org,
        email: Email::parse(email).expect("email"),
        password_hash: "$argon2id$stub".into(),
        role,
        families: None,
        created_at: now(),
    };
    store.create_user(&u).await.expect("user");
    u.id
}

async fn the_last_owner_stays(store: Arc<dyn Store>) {
    let a = org(&store, "A").await;
    let owner = user(&store, a, "owner@example.com", Role::Owner).await;
    let other = user(&store, a, "analyst@example.com", Role::Analyst).await;
    assert_eq!(
        store
            .set_user_role(a, owner, Role::Viewer, None)
            .await
            .expect("demote"),
        UserChange::LastOwner
    );
    assert_eq!(
        store.delete_user(a, owner).await.expect("delete"),
        UserChange::LastOwner
    );
    // Another organization's ID is not found.
    let b = org(&store, "B").await;
    assert_eq!(
        store
            .set_user_role(b, other, Role::Owner, None)
            .await
            .expect("other org"),
        UserChange::NotFound
    );
    // With a second owner, the first can step down; the family limit is kept.
    assert_eq!(
        store
            .set_user_role(a, other, Role::Owner, None)
            .await
            .expect("promote"),
        UserChange::Done
    );
    let fam = [FamilyId::new(), FamilyId::new()];
    assert_eq!(
        store
            .set_user_role(a, owner, Role::Viewer, Some(&fam))
            .await
            .expect("demote"),
        UserChange::Done
    );
    let got = store.get_user(a, owner).await.expect("get").expect("found");
    assert_eq!((got.role, got.families), (Role::Viewer, Some(fam.to_vec())));
    assert_eq!(
        store.delete_user(a, owner).await.expect("delete"),
        UserChange::Done
    );
    let users = store.list_users(a).await.expect("list");
    assert_eq!(users.iter().map(|u| u.id).collect::<Vec<_>>(), vec![other]);
}

async fn an_invitation_is_accepted_once(store: Arc<dyn Store>) {
    let a = org(&store, "A").await;
    let owner = user(&store, a, "owner@example.com", Role::Owner).await;
    let t = now();
    let invite = InviteRecord {
        id: InviteId::new(),
        organization_id: a,
        email: Email::parse("new@example.com").expect("email"),
        role: Role::Analyst,
        families: None,
        invited_by: Some(owner),
        created_at: t,
        expires_at: t + Duration::days(7),
    };
    store
        .create_invite(&invite, b"secret-hash")
        .await
        .expect("invite");
    assert!(matches!(
        store
            .create_invite(
                &InviteRecord {
                    id: InviteId::new(),
                    ..invite.clone()
                },
                b"other"
            )
            .await,
        Err(StoreError::Conflict(Conflict::InviteEmail))
    ));
    assert_eq!(
        store.list_invites(a).await.expect("list"),
        vec![invite.clone()]
    );
    assert!(
        store
            .find_invite(b"secret-hash", t + Duration::days(8))
            .await
            .expect("find")
            .is_none()
    );
    let found = store
        .find_invite(b"secret-hash", t)
        .await
        .expect("find")
        .expect("pending");
    assert_eq!(found, invite);
    let new_user = NewUser {
        id: UserId::new(),
        organization_id: a,
        email: invite.email.clone(),
        password_hash: "$argon2id$stub".into(),
        role: invite.role,
        families: None,
        created_at: t,
    };
    assert!(
        store
            .accept_invite(b"secret-hash", t, &new_user)
            .await
            .expect("accept")
    );
    let again = NewUser {
        id: UserId::new(),
        ..new_user.clone()
    };
    assert!(
        !store
            .accept_invite(b"secret-hash", t, &again)
            .await
            .expect("used")
    );
    let joined = store
        .get_user(a, new_user.id)
        .await
        .expect("get")
        .expect("joined");
    assert_eq!(joined.role, Role::Analyst);
    assert!(store.list_invites(a).await.expect("list").is_empty());
}

async fn the_audit_trail_is_append_only_and_filtered(store: Arc<dyn Store>) {
    use be_domain::{AuditAction, AuditEventId, AuditKind};
    use be_store::{AuditFilter, AuditRecord};
    let a = org(&store, "A").await;
    let b = org(&store, "B").await;
    let t = now();
    let event = |org, at, kind, action, target: &str| AuditRecord {
        id: AuditEventId::new(),
        organization_id: org,
        at,
        actor_id: None,
        actor_email: "ada@example.com".into(),
        address: Some("192.0.2.1".into()),
        kind,
        action,
        target: target.into(),
        before: None,
        after: Some(r#"{"name":"x"}"#.into()),
    };
    let first = event(a, t, AuditKind::Family, AuditAction::Create, "f1");
    let second = event(
        a,
        t + Duration::minutes(1),
        AuditKind::Plan,
        AuditAction::Update,
        "p1",
    );
    for e in [
        &first,
        &second,
        &event(b, t, AuditKind::Family, AuditAction::Create, "f9"),
    ] {
        store.append_audit(e).await.expect("append");
    }
    let all = AuditFilter {
        limit: 100,
        ..Default::default()
    };
    assert_eq!(
        store.list_audit(a, &all).await.expect("list"),
        vec![second.clone(), first.clone()]
    );
    let families = AuditFilter {
        kind: Some(AuditKind::Family),
        ..all.clone()
    };
    assert_eq!(
        store.list_audit(a, &families).await.expect("list"),
        vec![first.clone()]
    );
    let later = AuditFilter {
        from: Some(t + Duration::seconds(30)),
        ..all.clone()
    };
    assert_eq!(
        store.list_audit(a, &later).await.expect("list"),
        vec![second.clone()]
    );
    let nobody = AuditFilter {
        actor: Some("eve@example.com".into()),
        ..all
    };
    assert!(store.list_audit(a, &nobody).await.expect("list").is_empty());
}

/// The database itself refuses to change or remove an audit entry, on both backends.
#[tokio::test]
async fn audit_entries_cannot_be_changed_or_removed() {
    use sqlx::Connection;
    let lite = crate::harness::TestDb::sqlite().await;
    the_audit_trail_is_append_only_and_filtered(lite.store.clone()).await;
    let mut c = sqlx::SqliteConnection::connect(&lite.url)
        .await
        .expect("sqlite");
    assert!(
        sqlx::query("DELETE FROM audit_events")
            .execute(&mut c)
            .await
            .is_err()
    );
    assert!(
        sqlx::query("UPDATE audit_events SET target = 'x'")
            .execute(&mut c)
            .await
            .is_err()
    );
    let pg = crate::harness::TestDb::postgres().await;
    the_audit_trail_is_append_only_and_filtered(pg.store.clone()).await;
    let mut c = sqlx::PgConnection::connect(&pg.url)
        .await
        .expect("postgres");
    assert!(
        sqlx::query("DELETE FROM audit_events")
            .execute(&mut c)
            .await
            .is_err()
    );
    assert!(
        sqlx::query("UPDATE audit_events SET target = 'x'")
            .execute(&mut c)
            .await
            .is_err()
    );
    c.close().await.expect("close");
    pg.drop_db().await;
}
