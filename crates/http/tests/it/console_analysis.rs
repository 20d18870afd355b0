//! The dashboard, the analysis page and asset groups over HTTP, on a stand-in engine
//! (`stub_engine`): figures per currency, never summed across currencies, charts as SVG with
//! exact titles, forms that work without JavaScript.

use be_domain::BillingPeriod;

use crate::harness::{Browser, TestApp, spawn_app, spawn_app_with_engine};
use crate::stub_engine::StubEngine;

fn now() -> BillingPeriod {
    BillingPeriod::of_instant(time::OffsetDateTime::now_utc())
}

/// A server whose organization has this month and last month rated (by the stand-in), and a
/// browser signed in to it.
async fn rated() -> (TestApp, String, String, String) {
    let app = spawn_app_with_engine(StubEngine::new(vec![now(), now().previous()])).await;
    let t = app.tenant("MSP").await;
    let caller = app.app.token_caller(&t.token).await.expect("caller");
    let file = std::env::temp_dir().join(format!("be-stub-{}.csv", uuid::Uuid::new_v4()));
    std::fs::write(&file, "stand-in").expect("file");
    app.app
        .import_focus(&caller, None, &file, "costs.csv")
        .await
        .expect("import");
    let _ = std::fs::remove_file(&file);
    while app.app.run_due_jobs().await.expect("jobs") > 0 {}
    (app, t.email, t.password, t.token)
}

/// The text between `<tag ... id="id"` and the next `</section>`.
fn section<'a>(body: &'a str, id: &str) -> &'a str {
    let start = body
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {body}"));
    let end = body[start..].find("</section>").map_or(body.len(), |e| start + e);
    &body[start..end]
}

#[tokio::test]
async fn signing_in_lands_on_an_empty_dashboard_that_says_what_to_do() {
    let app = spawn_app().await;
    let t = app.tenant("MSP").await;
    let mut b = Browser::new(&app);
    let page = b.login(&t.email, &t.password).await;
    assert_eq!(page.location.as_deref(), Some("/dashboard"));
    assert_eq!(b.get("/").await.location.as_deref(), Some("/dashboard"));
    let page = b.get("/dashboard").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"no-data\""), "{}", page.body);
    assert!(page.body.contains("href=\"/dashboard\" aria-current=\"page\""));
    assert!(!page.body.contains("<svg"));
}

#[tokio::test]
async fn the_dashboard_shows_each_currency_apart_with_a_trend_chart() {
    let (app, email, password, _) = rated().await;
    let mut b = Browser::new(&app);
    b.login(&email, &password).await;
    let page = b.get("/dashboard").await;
    assert_eq!(page.status, 200);
    let body = &page.body;
    assert!(!body.contains("id=\"no-data\""));
    // This month: USD 1,234.50 + 250.125 billed (half-even to the cent), EUR apart.
    let this = section(body, "this-month");
    assert!(this.contains(&format!("{} {}", now().month(), now().year())), "{this}");
    assert!(this.contains(">USD 1,484.62<") && this.contains("title=\"USD 1484.625\""), "{this}");
    assert!(this.contains(">USD 1,200.00<") && this.contains(">USD 284.62<"), "{this}");
    assert!(this.contains(">EUR 100.00<") && this.contains(">EUR 80.00<"), "{this}");
    assert!(!this.contains("1,584") && !this.contains("1,280"), "never summed across currencies");
    assert!(section(body, "last-month").contains(">USD 1,484.62<"));
    // One trend chart per currency, axis in the currency, exact titles on the bars.
    let trend = section(body, "trend");
    assert!(trend.contains("<svg class=\"chart\" id=\"trend-usd\""), "{trend}");
    assert!(trend.contains("<svg class=\"chart\" id=\"trend-eur\""));
    assert!(trend.contains(">USD 1,500</text>") && trend.contains(">EUR 100</text>"), "{trend}");
    let last = now().previous();
    let label = format!(
        "{} {:02}",
        last.month().to_string().chars().take(3).collect::<String>(),
        last.year() % 100
    );
    assert!(
        trend.contains(&format!("<title>{label} Billed: USD 1,484.62</title>")),
        "{trend}"
    );
    assert_eq!(trend.matches("<rect class=\"bar s1\"").count(), 2 * 13 + 2, "13 months and a legend per currency");
    // Top lists and categories per currency.
    let fam = section(body, "top-families-usd");
    assert!(fam.contains(">Contoso<") && fam.contains(">USD 1,484.62<") && !fam.contains("Fabrikam"));
    assert!(section(body, "top-families-eur").contains(">Fabrikam<"));
    let subs = section(body, "top-sub-accounts-usd");
    assert!(subs.find("web-prod") < subs.find("data-prod"), "largest first");
    assert!(section(body, "top-services-usd").contains(">Virtual Machines<"));
    let cats = section(body, "categories-usd");
    assert!(cats.contains("<title>Compute: USD 1,234.50</title>") && cats.contains(">Storage</text>"), "{cats}");
    assert!(section(body, "freshness").contains("No connections"));
    let lower = body.to_lowercase();
    assert!(!lower.contains(" style=") && !lower.contains("<script>"));
}
