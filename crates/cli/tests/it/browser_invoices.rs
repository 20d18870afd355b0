//! The console's Invoices area in headless Chromium on the worked example (imported, priced and
//! rated through the CLI): a run made from the form, one tab per invoice (Contoso 256.21, exact
//! on hover; Fabrikam 175.00), finalized after its confirmation page (INV-000001), the list, an
//! invoice's page, the tie-out, a late price change re-rated into credit note CN-000001; full-page screenshots of each at 1400 and 800 px.

use std::time::Duration;

use fantoccini::Locator;

use crate::browser::{
    attr, browser, click, fill, goto, shots, start_chromedriver, text_of, until_shown,
};

#[tokio::test]
async fn a_run_drafted_reviewed_and_finalized_in_the_console() {
    let fresh = crate::invoices::rated();
    let url = fresh.url.clone();
    let driver = start_chromedriver();
    let c = browser(&driver).await;
    let result = async {
        goto(&c, &url, "/login").await;
        fill(&c, "input#email", crate::rating::EMAIL).await;
        fill(&c, "input#password", "a very good password").await;
        click(&c, "button[type=submit]").await;
        c.wait()
            .for_element(Locator::Css("#trend"))
            .await
            .expect("signed in, on the dashboard");

        // A template of our own: the out-of-the-box one with a VAT line shown for information.
        goto(&c, &url, "/invoices/templates/new").await;
        fill(&c, "#f-name", "Monthly with VAT").await;
        fill(&c, "#f-formulas-0-label", "VAT 20%").await;
        fill(&c, "#f-formulas-0-formula", "BilledCost * 0.2").await;
        click(&c, "#save-template").await;
        until_shown(&c, "#notice", "created").await;
        shots(&c, "invoice-template-created").await;

        // A mistake first, beside its field; then the draft with that template.
        goto(&c, &url, "/invoices/runs").await;
        assert!(text_of(&c, "#no-runs").await.contains("No runs yet"));
        fill(&c, "#f-from", "2026-10").await;
        fill(&c, "#f-issue_date", "5/11/2026").await;
        click(&c, "#create-run").await;
        let error = text_of(&c, "[data-field='issue_date']").await;
        assert!(error.contains("YYYY-MM-DD"), "{error}");
        shots(&c, "invoice-run-error").await;
        fill(&c, "#f-issue_date", "2026-11-05").await;
        fill(&c, "#f-parameters-0-label", "Contract").await;
        fill(&c, "#f-parameters-0-value", "C-1042").await;
        let chosen = c
            .execute(
                "const s = document.querySelector('#f-template'); \
                 for (const o of s.options) { if (o.text.includes('Monthly with VAT')) { s.value = o.value; } } \
                 return s.options[s.selectedIndex].text;",
                vec![],
            )
            .await
            .expect("choose the template");
        assert!(
            chosen.as_str().unwrap_or("").contains("Monthly with VAT"),
            "{chosen}"
        );
        click(&c, "#create-run").await;
        until_shown(&c, "#run-state", "draft").await;

        let tabs = text_of(&c, ".invoice-tabs").await;
        assert!(
            ["Contoso", "USD 256.21", "Fabrikam", "USD 175.00"]
                .iter()
                .all(|t| tabs.contains(t)),
            "{tabs}"
        );
        shots(&c, "invoice-draft").await;
        assert!(text_of(&c, "#doc-customer").await.contains("Contoso"));
        let number = text_of(&c, "#doc-number").await;
        assert!(number.contains("INV-000001 (to be)"), "{number}");
        assert_eq!(
            attr(&c, "#doc-total", "title").await,
            "USD 256.2125",
            "exact on hover"
        );
        let lines = text_of(&c, "#doc-lines").await;
        assert!(
            lines.contains("Support fee") && lines.contains("USD 16.96"),
            "the rule's line: {lines}"
        );
        let document = text_of(&c, "#invoice-document").await;
        assert!(
            document.contains("C-1042"),
            "the run's parameter: {document}"
        );
        assert!(
            document.contains("VAT 20%") && document.contains("51.24"),
            "the template's formula line: {document}"
        );

        // The other tab, by keyboard-reachable link.
        c.find(Locator::XPath(
            "//nav[contains(@class,'invoice-tabs')]//a[contains(., 'Fabrikam')]",
        ))
        .await
        .expect("Fabrikam's tab")
        .click()
        .await
        .expect("click");
        until_shown(&c, "#doc-customer", "Fabrikam").await;
        assert_eq!(text_of(&c, "#doc-total").await, "USD 175.00");
        shots(&c, "invoice-draft-fabrikam").await;

        // Finalize, after the confirmation page.
        click(&c, "#finalize").await;
        let numbers = text_of(&c, "#numbers").await;
        assert!(
            numbers.contains("INV-000001") && numbers.contains("INV-000002"),
            "{numbers}"
        );
        shots(&c, "invoice-finalize").await;
        click(&c, "#confirm-finalize").await;
        until_shown(&c, "#notice", "Finalized").await;
        assert_eq!(text_of(&c, "#run-state").await, "final");
        assert_eq!(text_of(&c, "#doc-number").await, "INV-000001");
        shots(&c, "invoice-final-run").await;

        goto(&c, &url, "/invoices").await;
        let list = text_of(&c, "#invoices").await;
        assert!(
            list.contains("INV-000001")
                && list.contains("INV-000002")
                && list.contains("USD 256.21"),
            "{list}"
        );
        shots(&c, "invoices").await;
        click(&c, "tr[data-number='INV-000001'] a").await;
        until_shown(&c, "#doc-number", "INV-000001").await;
        assert!(attr(&c, "#download-pdf", "href").await.ends_with("/pdf"));
        // The PDF as the browser downloads it, with the session's cookie.
        let pdf = c
            .execute_async(
                "const done = arguments[arguments.length - 1]; \
                 fetch(document.querySelector('#download-pdf').href).then((r) => r.arrayBuffer()).then((b) => { \
                   const u = new Uint8Array(b); done(String.fromCharCode(...u.slice(0, 5)) + ' ' + u.length); });",
                vec![],
            )
            .await
            .expect("download the PDF");
        let pdf = pdf.as_str().unwrap_or("").to_string();
        let size: usize = pdf
            .split(' ')
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(pdf.starts_with("%PDF-") && size > 10_000, "a PDF: {pdf}");
        shots(&c, "invoice").await;

        goto(&c, &url, "/invoices/periods/2026-10/tie-out").await;
        assert_eq!(text_of(&c, "#reconciled-USD").await, "reconciled");
        shots(&c, "invoice-tie-out").await;

        // A late price change waits on the locked month; the re-rate's dry run, then the note.
        let volume =
            std::fs::read_to_string(crate::rating::shared("data/engine/example-config.json"))
                .expect("read")
                .replace("\"graduated\"", "\"volume\"");
        let volume_file = fresh.dir.0.join("volume.json");
        std::fs::write(&volume_file, volume).expect("write");
        let (ok, _, err) = fresh.run(&["pricing", "import", volume_file.to_str().expect("path")]);
        assert!(ok, "{err}");
        goto(&c, &url, "/invoices/periods").await;
        let month = text_of(&c, "#months tr[data-period='2026-10']").await;
        assert!(
            month.contains("locked") && month.contains("since"),
            "a change waits: {month}"
        );
        shots(&c, "invoice-periods-pending").await;
        click(&c, "#months tr[data-period='2026-10'] a[href$='/rerate']").await;
        let change = until_shown(&c, ".change", "INV-000001").await;
        assert!(
            change.contains("Credit note") && change.contains("-5.00"),
            "{change}"
        );
        shots(&c, "invoice-rerate").await;
        click(&c, "#issue-notes").await;
        c.accept_alert().await.expect("confirm");
        let issued = until_shown(&c, "#issued", "CN-000001").await;
        assert!(issued.contains("-5.00"), "{issued}");
        shots(&c, "invoice-rerate-issued").await;
        for (path, name) in [
            ("/invoices/runs", "invoice-runs"),
            ("/invoices/periods", "invoice-periods"),
            ("/invoices/templates", "invoice-templates"),
            ("/invoices/templates/new", "invoice-template-new"),
            ("/invoices/customers", "invoice-customers"),
            ("/invoices/customers/edit?key=Contoso", "invoice-customer"),
            ("/invoices/schedules", "invoice-schedules"),
        ] {
            goto(&c, &url, path).await;
            shots(&c, name).await;
        }
    };
    let outcome = tokio::time::timeout(Duration::from_secs(300), result).await;
    let _ = c.close().await;
    outcome.expect("the browser test finished in time");
}
