//! The invoicing side of the store: templates, customers, runs and their finalization (gapless
//! numbers under concurrency), period locks, deliveries and schedules, on both backends.

use std::collections::BTreeSet;
use std::sync::Arc;

use be_domain::invoicing::{DeliveryState, DocumentKind, InvoiceState, LockReason};
use be_domain::{DeliveryId, InvoiceId, InvoiceRunId, OrganizationId, ScheduleId, TemplateId};
use be_store::{
    Conflict, CustomerRecord, DeliveryRecord, InvoiceRecord, InvoiceRunRecord, PeriodLockRecord,
    ScheduleRecord, Store, StoreError, TemplateRecord,
};
use time::Duration;

use crate::story::{now, org};

crate::story!(
    templates_are_named_per_organization_and_builtin_ones_do_not_change,
    customers_are_upserted_by_key,
    concurrent_finalizations_take_every_number_once,
    a_run_is_finalized_or_discarded_once,
    locks_keep_the_first_pending_change,
    a_delivery_is_claimed_by_one_runner,
    a_schedule_is_claimed_by_one_runner,
);

fn template(org: OrganizationId, name: &str, builtin: bool) -> TemplateRecord {
    TemplateRecord {
        id: TemplateId::new(),
        organization_id: org,
        name: name.into(),
        document: format!("{{\"name\":\"{name}\"}}"),
        builtin,
        created_at: now(),
        updated_at: now(),
    }
}

fn run(org: OrganizationId, template: TemplateId) -> InvoiceRunRecord {
    InvoiceRunRecord {
        id: InvoiceRunId::new(),
        organization_id: org,
        template_id: template,
        template: "{}".into(),
        period_from: "2026-10".into(),
        period_to: "2026-10".into(),
        issue_date: time::macros::date!(2026 - 11 - 05),
        state: InvoiceState::Draft,
        created_by: None,
        created_at: now(),
        finalized_at: None,
    }
}

fn invoice(
    run: &InvoiceRunRecord,
    position: i32,
    series: &str,
    customer: &str,
    total: &str,
) -> InvoiceRecord {
    InvoiceRecord {
        id: InvoiceId::new(),
        organization_id: run.organization_id,
        run_id: run.id,
        kind: DocumentKind::Invoice,
        state: InvoiceState::Draft,
        series: series.into(),
        number: None,
        position,
        customer_key: customer.into(),
        currency: "EUR".into(),
        total: total.into(),
        exact_total: total.into(),
        document: "{}".into(),
        pdf_sha256: None,
        related_invoice: None,
        created_at: now(),
        finalized_at: None,
    }
}

async fn templates_are_named_per_organization_and_builtin_ones_do_not_change(
    store: Arc<dyn Store>,
) {
    let a = org(&store, "A").await;
    let b = org(&store, "B").await;
    let standard = template(a, "Standard", true);
    store.create_template(&standard).await.expect("builtin");
    let mine = template(a, "Monthly", false);
    store.create_template(&mine).await.expect("own");
    let err = store
        .create_template(&template(a, "monthly", false))
        .await
        .expect_err("same name, other case");
    assert!(
        matches!(err, StoreError::Conflict(Conflict::TemplateName)),
        "{err:?}"
    );
    store
        .create_template(&template(b, "Monthly", false))
        .await
        .expect("B may use the same name");

    let mut edited = standard.clone();
    edited.document = "{\"edited\":true}".into();
    assert!(
        !store.update_template(&edited).await.expect("update"),
        "the builtin template is copied, not edited"
    );
    assert!(
        !store.delete_template(a, standard.id).await.expect("delete"),
        "nor deleted"
    );
    let mut renamed = mine.clone();
    renamed.name = "Quarterly".into();
    assert!(store.update_template(&renamed).await.expect("update own"));
    let names: Vec<String> = store
        .list_templates(a)
        .await
        .expect("list")
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(
        names,
        ["Standard", "Quarterly"],
        "builtin first, then by name"
    );
    assert_eq!(
        store
            .get_template(a, standard.id)
            .await
            .expect("get")
            .expect("exists")
            .document,
        standard.document
    );
    assert!(
        store
            .get_template(b, standard.id)
            .await
            .expect("get")
            .is_none(),
        "B cannot read A's template"
    );
    assert!(store.delete_template(a, mine.id).await.expect("delete own"));
}

async fn customers_are_upserted_by_key(store: Arc<dyn Store>) {
    let a = org(&store, "A").await;
    let mut c = CustomerRecord {
        organization_id: a,
        key: "Contoso".into(),
        document: "{\"v\":1}".into(),
        updated_at: now(),
    };
    store.upsert_customer(&c).await.expect("insert");
    c.document = "{\"v\":2}".into();
    store.upsert_customer(&c).await.expect("update");
    let all = store.list_customers(a).await.expect("list");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].document, "{\"v\":2}");
    assert!(store.delete_customer(a, "Contoso").await.expect("delete"));
    assert!(
        !store
            .delete_customer(a, "Contoso")
            .await
            .expect("delete again")
    );
}

/// Twelve runs of three invoices each, finalized all at once in two organizations: every series
/// gets the numbers 1 to N exactly once, in each organization on its own.
async fn concurrent_finalizations_take_every_number_once(store: Arc<dyn Store>) {
    let orgs = [org(&store, "A").await, org(&store, "B").await];
    let mut runs = vec![];
    for (i, o) in orgs.iter().cycle().take(12).enumerate() {
        let r = run(*o, TemplateId::new());
        let invoices = [
            invoice(&r, 0, "INV", "Contoso", "1.00"),
            invoice(&r, 1, "INV", "Fabrikam", "2.00"),
            invoice(&r, 2, "CN", "Contoso", "-1.00"),
        ];
        store
            .create_invoice_run(&r, &invoices)
            .await
            .unwrap_or_else(|e| panic!("run {i}: {e}"));
        runs.push(r);
    }
    let tasks: Vec<_> = runs
        .iter()
        .map(|r| {
            let (store, org, id) = (store.clone(), r.organization_id, r.id);
            tokio::spawn(async move { store.finalize_invoice_run(org, id, now()).await })
        })
        .collect();
    for t in tasks {
        let done = t
            .await
            .expect("task")
            .expect("finalize")
            .expect("the run was a draft");
        assert_eq!(done.len(), 3);
        assert!(
            done.iter()
                .all(|i| i.state == InvoiceState::Final && i.number.is_some())
        );
    }
    for o in orgs {
        let finals = store.list_final_invoices(o, 100).await.expect("list");
        assert_eq!(finals.len(), 18);
        for (series, count) in [("INV", 12), ("CN", 6)] {
            let numbers: BTreeSet<String> = finals
                .iter()
                .filter(|i| i.series == series)
                .filter_map(|i| i.number.clone())
                .collect();
            let expected: BTreeSet<String> =
                (1..=count).map(|n| format!("{series}-{n:06}")).collect();
            assert_eq!(
                numbers, expected,
                "{series} in one organization: no gap, no duplicate"
            );
        }
    }
}

async fn a_run_is_finalized_or_discarded_once(store: Arc<dyn Store>) {
    let a = org(&store, "A").await;
    let r = run(a, TemplateId::new());
    store
        .create_invoice_run(&r, &[invoice(&r, 0, "INV", "Contoso", "256.21")])
        .await
        .expect("create");
    assert_eq!(
        store.next_invoice_number(a, "INV").await.expect("next"),
        1,
        "a new series starts at 1"
    );
    let first = store
        .finalize_invoice_run(a, r.id, now())
        .await
        .expect("finalize")
        .expect("a draft");
    assert_eq!(first[0].number.as_deref(), Some("INV-000001"));
    assert_eq!(store.next_invoice_number(a, "INV").await.expect("next"), 2);
    assert!(
        store
            .finalize_invoice_run(a, r.id, now())
            .await
            .expect("again")
            .is_none(),
        "a final run is not numbered twice"
    );
    assert!(
        !store.discard_invoice_run(a, r.id).await.expect("discard"),
        "a final run cannot be discarded"
    );
    store
        .set_invoice_pdf_hash(a, first[0].id, "abc")
        .await
        .expect("hash");
    store
        .set_invoice_pdf_hash(a, first[0].id, "changed")
        .await
        .expect("hash again");
    let stored = store
        .get_invoice(a, first[0].id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        stored.pdf_sha256.as_deref(),
        Some("abc"),
        "the first PDF hash stays"
    );
    assert_eq!(stored.total, "256.21");
    assert_eq!(
        store
            .get_invoice_run(a, r.id)
            .await
            .expect("run")
            .expect("exists")
            .state,
        InvoiceState::Final
    );

    let draft = run(a, TemplateId::new());
    store
        .create_invoice_run(&draft, &[invoice(&draft, 0, "INV", "Contoso", "1.00")])
        .await
        .expect("create");
    assert!(
        store
            .discard_invoice_run(a, draft.id)
            .await
            .expect("discard")
    );
    assert!(
        store
            .finalize_invoice_run(a, draft.id, now())
            .await
            .expect("finalize")
            .is_none(),
        "a discarded run is not finalized"
    );
    let invoices = store.list_run_invoices(a, draft.id).await.expect("list");
    assert_eq!(invoices[0].state, InvoiceState::Discarded);
    assert_eq!(
        invoices[0].number, None,
        "a discarded invoice takes no number"
    );
    let next = run(a, TemplateId::new());
    store
        .create_invoice_run(&next, &[invoice(&next, 0, "INV", "Contoso", "1.00")])
        .await
        .expect("create");
    let done = store
        .finalize_invoice_run(a, next.id, now())
        .await
        .expect("finalize")
        .expect("draft");
    assert_eq!(
        done[0].number.as_deref(),
        Some("INV-000002"),
        "the discarded run left no gap"
    );
    let runs: Vec<InvoiceRunId> = store
        .list_invoice_runs(a, 10)
        .await
        .expect("runs")
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(runs.len(), 3);
}

async fn locks_keep_the_first_pending_change(store: Arc<dyn Store>) {
    let a = org(&store, "A").await;
    let lock = PeriodLockRecord {
        organization_id: a,
        period: "2026-10".into(),
        reason: LockReason::Invoiced,
        locked_by: None,
        locked_at: now(),
        pending_since: None,
    };
    store.lock_period(&lock).await.expect("lock");
    let first = now() - Duration::hours(1);
    store
        .mark_lock_pending(a, "2026-10", first)
        .await
        .expect("pending");
    store
        .mark_lock_pending(a, "2026-10", now())
        .await
        .expect("pending again");
    store
        .mark_lock_pending(a, "2026-09", now())
        .await
        .expect("an unlocked period is not marked");
    let locks = store.list_period_locks(a).await.expect("list");
    assert_eq!(locks.len(), 1);
    assert_eq!(locks[0].reason, LockReason::Invoiced);
    assert_eq!(
        locks[0].pending_since,
        Some(first),
        "the first change is kept"
    );
    store.clear_lock_pending(a, "2026-10").await.expect("clear");
    assert_eq!(
        store.list_period_locks(a).await.expect("list")[0].pending_since,
        None
    );
    assert!(store.unlock_period(a, "2026-10").await.expect("unlock"));
    assert!(store.list_period_locks(a).await.expect("list").is_empty());
}

async fn a_delivery_is_claimed_by_one_runner(store: Arc<dyn Store>) {
    let a = org(&store, "A").await;
    let r = run(a, TemplateId::new());
    let inv = invoice(&r, 0, "INV", "Contoso", "1.00");
    store
        .create_invoice_run(&r, std::slice::from_ref(&inv))
        .await
        .expect("create");
    let mut d = DeliveryRecord {
        id: DeliveryId::new(),
        organization_id: a,
        invoice_id: inv.id,
        recipients: "[\"billing@contoso.example\"]".into(),
        state: DeliveryState::Pending,
        attempts: 0,
        server_answer: None,
        next_attempt_at: Some(now() - Duration::minutes(1)),
        created_at: now(),
        sent_at: None,
    };
    store.create_delivery(&d).await.expect("create");
    let due = store.pending_deliveries(a, 10).await.expect("pending");
    assert_eq!(due.iter().map(|d| d.id).collect::<Vec<_>>(), [d.id]);
    assert!(
        store
            .pending_deliveries(org(&store, "B").await, 10)
            .await
            .expect("pending")
            .is_empty(),
        "scoped to the organization"
    );
    let retry = now() + Duration::minutes(5);
    assert!(store.claim_delivery(&due[0], retry).await.expect("claim"));
    assert!(
        !store
            .claim_delivery(&due[0], retry)
            .await
            .expect("claim again"),
        "a second runner holding the same view loses"
    );
    let again = store.pending_deliveries(a, 10).await.expect("pending");
    assert_eq!(
        again[0].next_attempt_at,
        Some(retry),
        "not due again before the retry time"
    );
    assert_eq!(again[0].attempts, 1);
    (d.state, d.attempts, d.server_answer, d.sent_at) = (
        DeliveryState::Sent,
        1,
        Some("250 2.0.0 Ok: queued".into()),
        Some(now()),
    );
    store.update_delivery(&d).await.expect("sent");
    let listed = store.list_deliveries(a, inv.id).await.expect("list");
    assert_eq!(listed[0].state, DeliveryState::Sent);
    assert_eq!(
        listed[0].server_answer.as_deref(),
        Some("250 2.0.0 Ok: queued")
    );
}

async fn a_schedule_is_claimed_by_one_runner(store: Arc<dyn Store>) {
    let a = org(&store, "A").await;
    let s = ScheduleRecord {
        id: ScheduleId::new(),
        organization_id: a,
        name: "Monthly".into(),
        template_id: TemplateId::new(),
        day_of_month: 3,
        finalize: true,
        send: true,
        next_run_at: now() - Duration::hours(1),
        last_run_id: None,
        created_at: now(),
    };
    store.create_schedule(&s).await.expect("create");
    let due = store.list_schedules(a).await.expect("list");
    assert_eq!(due.len(), 1);
    let next = now() + Duration::days(30);
    assert!(store.claim_schedule(&due[0], next).await.expect("claim"));
    assert!(
        !store
            .claim_schedule(&due[0], next)
            .await
            .expect("claim again"),
        "only one runner runs it"
    );
    assert_eq!(
        store.list_schedules(a).await.expect("list")[0].next_run_at,
        next
    );
    assert!(store.delete_schedule(a, s.id).await.expect("delete"));
}
