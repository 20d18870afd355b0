//! The console's Invoices area over HTTP (this server has no rating engine, so runs hold no
//! invoices here; the browser test in be-cli shows them on the worked example): every page with
//! the area's tabs and nothing inline, the new run form's mistakes beside their fields, a draft
//! discarded, templates copied, edited (each mistake beside its field) and deleted, customers,
//! period locks and schedules.

use crate::harness::{Browser, Page, TestApp, spawn_app};

async fn signed_in(app: &TestApp) -> (Browser<'_>, String) {
    let t = app.tenant("MSP").await;
    let mut b = Browser::new(app);
    b.login(&t.email, &t.password).await;
    let csrf = b.get("/invoices/runs").await.csrf();
    (b, csrf)
}

fn id_in(location: Option<&str>) -> String {
    let path = location
        .expect("a redirect")
        .split('?')
        .next()
        .expect("path");
    path.rsplit('/').next().expect("id").to_string()
}

/// The form `good` with one field changed.
fn with<'a>(good: &[(&'a str, &'a str)], field: &str, value: &'a str) -> Vec<(&'a str, &'a str)> {
    good.iter()
        .map(|(k, v)| if *k == field { (*k, value) } else { (*k, *v) })
        .collect()
}

fn error_of(page: &Page, field: &str) -> String {
    page.field_error(field)
        .unwrap_or_else(|| panic!("no error beside {field}: {}", page.body))
}

#[tokio::test]
async fn every_invoices_page_has_its_tabs_and_nothing_inline() {
    let app = spawn_app().await;
    let (mut b, _) = signed_in(&app).await;
    for path in [
        "/invoices",
        "/invoices/runs",
        "/invoices/templates",
        "/invoices/templates/new",
        "/invoices/customers",
        "/invoices/customers/edit",
        "/invoices/periods",
        "/invoices/schedules",
    ] {
        let page = b.get(path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        for tab in ["Runs", "Templates", "Customers", "Periods", "Schedules"] {
            assert!(
                page.body.contains(&format!("\">{tab}</a>")),
                "{path} lacks the {tab} tab"
            );
        }
        assert!(
            page.body
                .contains("href=\"/invoices\" aria-current=\"page\">Invoices</a>"),
            "{path}: the navigation marks Invoices"
        );
        let lower = page.body.to_lowercase();
        assert!(
            !lower.contains("<script>")
                && !lower.contains(" style=")
                && !lower.contains(" onclick="),
            "{path} has inline script or style"
        );
        assert!(
            !page.body.contains("coming next"),
            "{path} is no placeholder"
        );
    }
    assert!(b.get("/invoices").await.body.contains("id=\"no-invoices\""));
    assert!(
        b.get("/invoices/runs")
            .await
            .body
            .contains("id=\"no-runs\"")
    );
}

#[tokio::test]
async fn a_new_run_shows_each_mistake_beside_its_field_and_a_draft_is_discarded() {
    let app = spawn_app().await;
    let (mut b, csrf) = signed_in(&app).await;
    let form =
        |from: &'static str, to: &'static str, date: &'static str, template: &'static str| {
            vec![
                ("from", from),
                ("to", to),
                ("issue_date", date),
                ("template", template),
            ]
        };
    let mut post = async |fields: Vec<(&'static str, &'static str)>| {
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend(fields);
        b.post("/invoices/runs", &all).await
    };
    let page = post(form("2026-13", "", "", "")).await;
    assert_eq!(page.status, 422);
    assert!(error_of(&page, "from").contains("YYYY-MM"), "{}", page.body);
    assert!(
        page.body.contains("value=\"2026-13\""),
        "what was typed stays"
    );
    let page = post(form("2026-10", "2026-09", "", "")).await;
    assert!(error_of(&page, "to").contains("before it starts"));
    let page = post(form("2026-10", "", "5/11/2026", "")).await;
    assert!(error_of(&page, "issue_date").contains("YYYY-MM-DD"));
    let page = post(form("2026-10", "", "", "No such template")).await;
    assert!(
        error_of(&page, "template").contains("no such invoice template"),
        "{}",
        page.body
    );

    // Without the form's token: refused.
    let refused = b.post("/invoices/runs", &[("from", "2026-10")]).await;
    assert_eq!(refused.status, 403);

    // A month with no rated cost: a draft with no invoice, which says why, then discarded.
    let made = b
        .post(
            "/invoices/runs",
            &[
                ("csrf", &csrf),
                ("from", "2026-10"),
                ("issue_date", "2026-11-05"),
                ("parameters[0].label", "Contract"),
                ("parameters[0].value", "C-1042"),
            ],
        )
        .await;
    assert_eq!(made.status, 303, "{}", made.body);
    let run = id_in(made.location.as_deref());
    let page = b.get(&format!("/invoices/runs/{run}")).await;
    assert!(
        page.body.contains("id=\"no-invoices\"") && page.body.contains(">draft</span>"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(&format!("href=\"/invoices/runs/{run}/finalize\""))
    );
    let confirm = b.get(&format!("/invoices/runs/{run}/finalize")).await;
    assert!(
        confirm.body.contains("cannot be undone")
            && confirm.body.contains("id=\"confirm-finalize\"")
    );
    let listed = b.get("/invoices/runs").await;
    assert!(
        listed
            .body
            .contains(&format!("href=\"/invoices/runs/{run}\">2026-10</a>"))
    );
    let gone = b
        .post(&format!("/invoices/runs/{run}/discard"), &[("csrf", &csrf)])
        .await;
    assert_eq!(gone.status, 303);
    let page = b.get(gone.location.as_deref().expect("back")).await;
    assert!(page.body.contains("Draft discarded.") && page.body.contains(">discarded</span>"));
    assert!(
        !page.body.contains("id=\"finalize\""),
        "a discarded run has no buttons"
    );
    let again = b
        .post(
            &format!("/invoices/runs/{run}/finalize"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(again.status, 409);
    assert!(
        again.body.contains("only a draft can be finalized"),
        "{}",
        again.body
    );
    assert_eq!(b.get("/invoices/runs/nonsense").await.status, 404);
    assert_eq!(b.get("/invoices/nonsense").await.status, 404);
}

#[tokio::test]
async fn templates_are_copied_edited_with_errors_beside_fields_and_deleted() {
    let app = spawn_app().await;
    let (mut b, csrf) = signed_in(&app).await;
    let list = b.get("/invoices/templates").await;
    assert!(list.body.contains("built in") && list.body.contains(">Copy</button>"));
    assert!(
        !list.body.contains(">Edit</a>"),
        "the built-in one is copied, not edited"
    );
    let builtin = {
        let at = list.body.find("/copy\"").expect("copy form");
        let start = list.body[..at]
            .rfind("/invoices/templates/")
            .expect("action")
            + "/invoices/templates/".len();
        list.body[start..at].to_string()
    };
    let page = b
        .post(
            &format!("/invoices/templates/{builtin}/copy"),
            &[("csrf", &csrf), ("name", "")],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(!error_of(&page, "name").is_empty());
    let copied = b
        .post(
            &format!("/invoices/templates/{builtin}/copy"),
            &[("csrf", &csrf), ("name", "Monthly VAT")],
        )
        .await;
    assert_eq!(copied.status, 303, "{}", copied.body);
    let id = id_in(copied.location.as_deref());
    let edit = b
        .get(copied.location.as_deref().expect("to the copy"))
        .await;
    assert!(
        edit.body.contains("Copied: this copy is yours to edit.")
            && edit.body.contains("value=\"Monthly VAT\"")
    );
    let builtin_page = b.get(&format!("/invoices/templates/{builtin}")).await;
    assert!(
        builtin_page.body.contains("is not edited")
            && !builtin_page.body.contains("id=\"template-form\"")
    );

    let good: Vec<(&str, &str)> = vec![
        ("csrf", &csrf),
        ("name", "Monthly VAT"),
        ("invoice_by", "BillingFamilyName"),
        ("line_by", "ServiceName"),
        ("measure", "BilledCost"),
        ("formulas[0].label", "VAT 20%"),
        ("formulas[0].formula", "BilledCost * 0.2"),
        ("formulas[0].adds_to_total", "1"),
        ("header_fields[0].label", "IBAN"),
        ("header_fields[0].value", "GB33 BUKB"),
        ("footer", "Thank you."),
        ("issuer.name", "MSP Ltd"),
        ("issuer.address", "1 High Street\nLondon"),
        ("issuer.tax_id", "GB123"),
        ("issuer.email", "billing@msp.example"),
        ("paper", "a4"),
        ("series", "INV"),
        ("credit_series", "CN"),
        ("debit_series", "DN"),
        ("payment_terms_days", "14"),
    ];
    let path = format!("/invoices/templates/{id}");
    for (field, value, shown) in [
        ("line_by", "NoSuchColumn", "line_by"),
        ("line_by", "", "line_by"),
        ("measure", "Profit", "measure"),
        ("formulas[0].formula", "BilledCost *", "formulas[0].formula"),
        ("payment_terms_days", "two weeks", "payment_terms_days"),
        ("name", "Standard", "name"),
        ("paper", "a3", "paper"),
    ] {
        let page = b.post(&path, &with(&good, field, value)).await;
        assert!(
            page.status == 422 || page.status == 409,
            "{field}={value}: {}",
            page.status
        );
        assert!(!error_of(&page, shown).is_empty(), "{field}={value}");
        assert!(
            page.body.contains("value=\"MSP Ltd\""),
            "{field}: the other values stay"
        );
    }
    let saved = b.post(&path, &good).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let page = b.get(saved.location.as_deref().expect("back")).await;
    assert!(
        page.body.contains("Saved.")
            && page.body.contains("BilledCost * 0.2")
            && page.body.contains("value=\"14\"")
    );
    assert!(
        page.body
            .contains("name=\"formulas[0].adds_to_total\" value=\"1\" checked")
    );
    assert!(b.get("/invoices/templates").await.body.contains(&format!(
        "href=\"/invoices/templates/{id}\">Monthly VAT</a>"
    )));

    let created = b
        .post("/invoices/templates", &with(&good, "name", "Second"))
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let deleted = b
        .post(
            &format!("/invoices/templates/{id}/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(deleted.status, 303);
    let list = b.get("/invoices/templates").await;
    assert!(!list.body.contains("Monthly VAT") && list.body.contains("Second"));
}

#[tokio::test]
async fn customers_list_families_and_are_edited_with_errors_beside_fields() {
    let app = spawn_app().await;
    let (mut b, csrf) = signed_in(&app).await;
    assert_eq!(
        b.post("/families", &[("csrf", &csrf), ("name", "Contoso")])
            .await
            .status,
        303
    );
    let list = b.get("/invoices/customers").await;
    assert!(
        list.body.contains("data-customer=\"Contoso\"") && list.body.contains("not set up"),
        "{}",
        list.body
    );
    let edit = b.get("/invoices/customers/edit?key=Contoso").await;
    assert!(
        edit.body.contains("Customer Contoso")
            && edit.body.contains("name=\"key\" value=\"Contoso\"")
    );

    let page = b
        .post(
            "/invoices/customers",
            &[
                ("csrf", &csrf),
                ("key", "Contoso"),
                ("known", "1"),
                ("billing_name", ""),
                ("emails", "ap@contoso.example\nnot-an-address"),
                ("payment_terms_days", ""),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(!error_of(&page, "emails").is_empty());
    assert!(error_of(&page, "billing_name").contains("addressed to"));
    assert!(page.body.contains("not-an-address"), "what was typed stays");
    let page = b
        .post(
            "/invoices/customers",
            &[
                ("csrf", &csrf),
                ("key", "Contoso"),
                ("billing_name", "Contoso Ltd"),
                ("payment_terms_days", "soon"),
            ],
        )
        .await;
    assert!(error_of(&page, "payment_terms_days").contains("whole number"));
    let page = b
        .post(
            "/invoices/customers",
            &[("csrf", &csrf), ("key", ""), ("billing_name", "X")],
        )
        .await;
    assert!(!error_of(&page, "key").is_empty());

    let saved = b
        .post(
            "/invoices/customers",
            &[
                ("csrf", &csrf),
                ("key", "Contoso"),
                ("billing_name", "Contoso Ltd"),
                ("address", "1 Main St\nSpringfield"),
                ("emails", "ap@contoso.example"),
                ("tax_id", "US-99"),
                ("payment_terms_days", "45"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let list = b.get(saved.location.as_deref().expect("back")).await;
    assert!(
        list.body.contains("Customer saved")
            && list.body.contains("Contoso Ltd")
            && list.body.contains("ap@contoso.example")
    );
    assert!(list.body.contains(">set up</span>"));
}

#[tokio::test]
async fn months_are_locked_and_unlocked_and_schedules_made() {
    let app = spawn_app().await;
    let (mut b, csrf) = signed_in(&app).await;
    let page = b
        .post(
            "/invoices/periods",
            &[("csrf", &csrf), ("period", "October")],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(error_of(&page, "period").contains("YYYY-MM"));
    let locked = b
        .post(
            "/invoices/periods",
            &[("csrf", &csrf), ("period", "2026-10")],
        )
        .await;
    assert_eq!(locked.status, 303);
    let page = b.get(locked.location.as_deref().expect("back")).await;
    assert!(
        page.body.contains("data-period=\"2026-10\"") && page.body.contains("locked by hand"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("href=\"/invoices/periods/2026-10/rerate\"")
    );
    let unlocked = b
        .post("/invoices/periods/2026-10/unlock", &[("csrf", &csrf)])
        .await;
    assert_eq!(unlocked.status, 303);
    assert!(
        !b.get("/invoices/periods")
            .await
            .body
            .contains("locked by hand")
    );
    let page = b.get("/invoices/periods/2026-10/rerate").await;
    assert_eq!(page.status, 409);
    assert!(page.body.contains("is not locked"));

    let mut post = async |fields: &[(&str, &str)]| {
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        b.post("/invoices/schedules", &all).await
    };
    let page = post(&[("name", "Monthly"), ("day_of_month", "31")]).await;
    assert_eq!(page.status, 422);
    assert!(error_of(&page, "day_of_month").contains("1 to 28"));
    let page = post(&[("name", ""), ("day_of_month", "5")]).await;
    assert!(error_of(&page, "name").contains("name"));
    let page = post(&[
        ("name", "Monthly"),
        ("day_of_month", "5"),
        ("template", "Nope"),
    ])
    .await;
    assert!(!error_of(&page, "template").is_empty(), "{}", page.body);
    let made = post(&[
        ("name", "Monthly"),
        ("day_of_month", "5"),
        ("finalize", "1"),
    ])
    .await;
    assert_eq!(made.status, 303, "{}", made.body);
    let page = b.get("/invoices/schedules").await;
    assert!(
        page.body.contains("data-schedule=\"Monthly\"") && page.body.contains(">finalize</td>"),
        "{}",
        page.body
    );
    let at = page.body.find("/delete\"").expect("delete form");
    let start = page.body[..at]
        .rfind("/invoices/schedules/")
        .expect("action");
    let action = format!("{}/delete", &page.body[start..at]);
    assert_eq!(b.post(&action, &[("csrf", &csrf)]).await.status, 303);
    assert!(
        b.get("/invoices/schedules")
            .await
            .body
            .contains("id=\"no-schedules\"")
    );
}
