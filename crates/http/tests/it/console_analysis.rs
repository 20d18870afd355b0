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
    rated_with(StubEngine::port(vec![now(), now().previous()])).await
}

async fn rated_with(
    engine: std::sync::Arc<dyn be_app::rating::RatingPort>,
) -> (TestApp, String, String, String) {
    let app = spawn_app_with_engine(engine).await;
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
    let end = body[start..]
        .find("</section>")
        .map_or(body.len(), |e| start + e);
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
    assert!(
        page.body
            .contains("href=\"/dashboard\" aria-current=\"page\"")
    );
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
    assert!(
        this.contains(&format!("{} {}", now().month(), now().year())),
        "{this}"
    );
    assert!(
        this.contains(">USD 1,484.62<") && this.contains("title=\"USD 1484.625\""),
        "{this}"
    );
    assert!(
        this.contains(">USD 1,200.00<") && this.contains(">USD 284.62<"),
        "{this}"
    );
    assert!(
        this.contains(">EUR 100.00<") && this.contains(">EUR 80.00<"),
        "{this}"
    );
    assert!(
        !this.contains("1,584") && !this.contains("1,280"),
        "never summed across currencies"
    );
    assert!(section(body, "last-month").contains(">USD 1,484.62<"));
    // One trend chart per currency, axis in the currency, exact titles on the bars.
    let trend = section(body, "trend");
    assert!(
        trend.contains("<svg class=\"chart\" id=\"trend-usd\""),
        "{trend}"
    );
    assert!(trend.contains("<svg class=\"chart\" id=\"trend-eur\""));
    assert!(
        trend.contains(">USD 1,500</text>") && trend.contains(">EUR 100</text>"),
        "{trend}"
    );
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
    assert_eq!(
        trend.matches("<rect class=\"bar s1\"").count(),
        2 * 13 + 2,
        "13 months and a legend per currency"
    );
    // Top lists and categories per currency.
    let fam = section(body, "top-families-usd");
    assert!(
        fam.contains(">Contoso<") && fam.contains(">USD 1,484.62<") && !fam.contains("Fabrikam")
    );
    assert!(section(body, "top-families-eur").contains(">Fabrikam<"));
    let subs = section(body, "top-sub-accounts-usd");
    assert!(
        subs.find("web-prod") < subs.find("data-prod"),
        "largest first"
    );
    assert!(section(body, "top-services-usd").contains(">Virtual Machines<"));
    let cats = section(body, "categories-usd");
    assert!(
        cats.contains("<title>Compute: USD 1,234.50</title>") && cats.contains(">Storage</text>"),
        "{cats}"
    );
    assert!(section(body, "freshness").contains("No connections"));
    let lower = body.to_lowercase();
    assert!(!lower.contains(" style=") && !lower.contains("<script>"));
}

#[tokio::test]
async fn pivots_are_cached_until_a_new_rating_of_a_period_they_read() {
    use std::sync::atomic::Ordering::SeqCst;
    let (engine, pivots) = StubEngine::counting(vec![now(), now().previous()]);
    let (app, _, _, token) = rated_with(engine).await;
    let caller = app.app.token_caller(&token).await.expect("caller");
    let query: be_app::rating::AnalysisQuery = serde_json::from_value(serde_json::json!({
        "from": now().previous().key(), "to": now().key(), "group_by": ["ServiceName"]
    }))
    .expect("query");
    let first = app.app.analysis(&caller, &query).await.expect("analysis");
    assert_eq!(pivots.load(SeqCst), 1);
    let again = app.app.analysis(&caller, &query).await.expect("analysis");
    assert_eq!(again, first);
    assert_eq!(pivots.load(SeqCst), 1, "the same runs: from the cache");
    // The dashboard: its trend without a filter comes from the runs' totals, its month is a pivot.
    app.app
        .dashboard(&caller, Some(""))
        .await
        .expect("dashboard");
    assert_eq!(pivots.load(SeqCst), 2, "the month");
    app.app
        .dashboard(&caller, Some(""))
        .await
        .expect("dashboard");
    assert_eq!(
        pivots.load(SeqCst),
        2,
        "the dashboard again: from the cache"
    );

    // A new rating of this month: a new run, so every query reading it is computed again.
    app.app.rate_now(&caller, &now().key()).await.expect("rate");
    while app.app.run_due_jobs().await.expect("jobs") > 0 {}
    let after = app.app.analysis(&caller, &query).await.expect("analysis");
    assert_eq!(
        pivots.load(SeqCst),
        3,
        "a new rating invalidates the analysis"
    );
    assert_eq!(after.periods, first.periods);
    app.app
        .dashboard(&caller, Some(""))
        .await
        .expect("dashboard");
    assert_eq!(pivots.load(SeqCst), 4, "and the dashboard's month");
    // Another query over last month only still reads the same run: cached after its first time.
    let last: be_app::rating::AnalysisQuery = serde_json::from_value(serde_json::json!({
        "from": now().previous().key(), "to": now().previous().key(), "group_by": ["ServiceName"]
    }))
    .expect("query");
    app.app.analysis(&caller, &last).await.expect("analysis");
    app.app.analysis(&caller, &last).await.expect("analysis");
    assert_eq!(pivots.load(SeqCst), 5);
}

/// `/analysis?...` for a range and groupings, the asset group left at none.
fn analysis_url(from: BillingPeriod, to: BillingPeriod, group_by: &[&str], extra: &str) -> String {
    let mut url = format!("/analysis?from={from}&to={to}&asset_group=");
    for g in group_by {
        url.push_str(&format!("&group_by={g}"));
    }
    url + extra
}

#[tokio::test]
async fn the_analysis_page_groups_nests_and_totals_per_currency() {
    let (app, email, password, _) = rated().await;
    let mut b = Browser::new(&app);
    b.login(&email, &password).await;
    // It opens on the latest rated month, by family.
    let page = b.get("/analysis").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains(&format!("name=\"from\" type=\"text\" value=\"{}\"", now())),
        "{}",
        page.body
    );
    let result = section(&page.body, "result");
    assert!(
        result.contains(">Contoso</th>") && result.contains(">Fabrikam</th>"),
        "{result}"
    );
    assert!(result.contains(">Total USD</th>") && result.contains(">Total EUR</th>"));
    assert!(result.contains("title=\"USD 1484.625\">USD 1,484.62<"));
    assert!(!result.contains("1,584"), "never summed across currencies");

    // Two levels over two months: subtotals, nested rows, and the table folds.
    let url = analysis_url(
        now().previous(),
        now(),
        &["BillingFamilyName", "SubAccountName"],
        "",
    );
    let page = b.get(&url).await;
    let result = section(&page.body, "result");
    assert!(result.contains("data-collapsible"));
    assert!(
        result.contains("class=\"level-1 subtotal\" data-level=\"1\" data-path=\"USD|Contoso\""),
        "{result}"
    );
    assert!(result.contains("data-path=\"USD|Contoso/web-prod\" data-parent=\"USD|Contoso\""));
    assert!(
        result.contains(">USD 2,469.00<"),
        "web-prod over two months: {result}"
    );
    assert!(result.contains(">USD 2,969.25<"), "the USD total: {result}");
    let web = result.find("USD|Contoso/web-prod").expect("web");
    let data = result.find("USD|Contoso/data-prod").expect("data");
    assert!(web < data, "largest first by default");

    // Sorted by name, and top 1 with others.
    let page = b
        .get(&analysis_url(
            now(),
            now(),
            &["SubAccountName"],
            "&sort=SubAccountName&top=1",
        ))
        .await;
    let result = section(&page.body, "result");
    assert!(
        result.contains(">data-prod</th>") && result.contains(">Others</th>"),
        "{result}"
    );
    assert!(!result.contains(">web-prod</th>"));
}

#[tokio::test]
async fn analysis_mistakes_are_shown_beside_their_fields() {
    let (app, email, password, _) = rated().await;
    let mut b = Browser::new(&app);
    b.login(&email, &password).await;
    let page = b
        .get("/analysis?from=October&to=2026-10&group_by=BillingFamilyName")
        .await;
    assert_eq!(page.status, 200);
    assert!(page.field_error("from").is_some(), "{}", page.body);
    assert!(!page.body.contains("id=\"result\""));
    let page = b
        .get(&analysis_url(now(), now(), &["NoSuchField"], ""))
        .await;
    assert!(
        page.field_error("group_by")
            .expect("beside group by")
            .contains("NoSuchField"),
        "{}",
        page.body
    );
    let page = b.get(&analysis_url(now(), now(), &[], "&top=many")).await;
    assert!(
        page.field_error("top")
            .expect("beside top")
            .contains("whole number")
    );
    let page = b
        .get(&analysis_url(
            now(),
            now(),
            &[],
            "&when[0][0].on=dimension&when[0][0].name=Nope&when[0][0].op=equals&when[0][0].value=x",
        ))
        .await;
    assert!(
        page.field_error("when[0][0].name").is_some(),
        "{}",
        page.body
    );
    // A condition row is added by the form's own button (no JavaScript).
    let page = b
        .get(&analysis_url(now(), now(), &[], "&act=add:when"))
        .await;
    assert!(page.body.contains("name=\"when[0][0].name\""));
}

#[tokio::test]
async fn the_current_table_exports_as_csv_with_exact_values() {
    let (app, email, password, _) = rated().await;
    let mut b = Browser::new(&app);
    b.login(&email, &password).await;
    let page = b
        .get(&analysis_url(now(), now(), &["BillingFamilyName"], ""))
        .await;
    let marker = "id=\"export-csv\"";
    let at = page.body.find(marker).expect("export link");
    let href_at = page.body[..at].rfind("href=\"").expect("href") + 6;
    let href = page.body[href_at..]
        .split('"')
        .next()
        .expect("href")
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    let csv = b.get(&href).await;
    assert_eq!(csv.status, 200, "{href}");
    let lines: Vec<&str> = csv.body.lines().collect();
    assert!(
        lines[0].starts_with("row,BillingFamilyName,BillingCurrency,ProviderCost,BilledCost"),
        "{}",
        csv.body
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("group,Contoso,USD,1200,1484.625,")),
        "{}",
        csv.body
    );
    assert!(
        lines.iter().any(|l| l.starts_with("total,,EUR,80,100,")),
        "{}",
        csv.body
    );
}

#[tokio::test]
async fn a_saved_view_opens_by_its_address_inside_the_organization_only() {
    let (app, email, password, _) = rated().await;
    let mut b = Browser::new(&app);
    b.login(&email, &password).await;
    let url = analysis_url(now(), now(), &["SubAccountName"], "&sort=SubAccountName");
    let page = b.get(&url).await;
    let csrf = page.csrf();
    let q_at = page
        .body
        .find("name=\"query\" value=\"")
        .expect("query field")
        + 20;
    let query = page.body[q_at..]
        .split('"')
        .next()
        .expect("value")
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    // A name is required, said beside the field.
    let refused = b
        .post(
            "/analysis/views",
            &[("csrf", &csrf), ("query", &query), ("name", " ")],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.field_error("name").is_some(), "{}", refused.body);
    let saved = b
        .post(
            "/analysis/views",
            &[
                ("csrf", &csrf),
                ("query", &query),
                ("name", "By sub-account"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303);
    let location = saved.location.expect("to the view");
    assert!(location.starts_with("/analysis?view="), "{location}");
    let opened = b.get(&location).await;
    assert!(opened.body.contains("id=\"view-name\">By sub-account<"));
    assert!(opened.body.contains("id=\"notice\""));
    assert!(opened.body.contains("value=\"SubAccountName\""));
    assert!(section(&opened.body, "result").contains(">web-prod</th>"));
    assert!(section(&opened.body, "views").contains(">By sub-account</a>"));
    // Another organization cannot open it.
    let other = app.tenant("Other").await;
    let mut stranger = Browser::new(&app);
    stranger.login(&other.email, &other.password).await;
    let id = location
        .trim_start_matches("/analysis?view=")
        .split('&')
        .next()
        .expect("id");
    assert_eq!(
        stranger.get(&format!("/analysis?view={id}")).await.status,
        404
    );
    // Deleted, it is gone.
    let gone = b
        .post(&format!("/analysis/views/{id}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(gone.location.as_deref(), Some("/analysis?notice=deleted"));
    assert_eq!(b.get(&format!("/analysis?view={id}")).await.status, 404);
}

#[tokio::test]
async fn a_row_drills_down_to_its_rated_rows_and_each_to_its_explanation() {
    let (app, email, password, _) = rated().await;
    let mut b = Browser::new(&app);
    b.login(&email, &password).await;
    let page = b
        .get(&analysis_url(
            now(),
            now(),
            &["BillingFamilyName", "SubAccountName"],
            "",
        ))
        .await;
    let result = section(&page.body, "result");
    let row = result
        .find("data-path=\"USD|Contoso/web-prod\"")
        .expect("row");
    let href_at = result[row..]
        .find("class=\"drill\"")
        .map(|i| row + i)
        .expect("drill link");
    let start = result[..href_at].rfind("href=\"").expect("href") + 6;
    let href = result[start..]
        .split('"')
        .next()
        .expect("href")
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    let rows = b.get(&href).await;
    assert_eq!(rows.status, 200, "{href}");
    assert!(
        rows.body.contains(
            "BillingFamilyName = Contoso, SubAccountName = web-prod, BillingCurrency = USD"
        ),
        "{}",
        rows.body
    );
    assert!(
        rows.body
            .contains(&format!("data-line=\"{}/stub/0\"", now())),
        "{}",
        rows.body
    );
    assert!(!rows.body.contains("/stub/1\""), "only the cell's rows");
    assert!(
        rows.body
            .contains(&format!("href=\"/explain?line={}%2Fstub%2F0\"", now()))
    );
    assert!(rows.body.contains("id=\"back-to-analysis\""));
}

#[tokio::test]
async fn asset_groups_are_created_made_default_and_deleted() {
    let (app, email, password, _) = rated().await;
    let mut b = Browser::new(&app);
    b.login(&email, &password).await;
    let page = b.get("/asset-groups").await;
    assert!(page.body.contains("id=\"no-groups\""));
    assert!(
        page.body
            .contains("href=\"/asset-groups\" aria-current=\"page\"")
    );
    let csrf = page.csrf();
    // Mistakes beside their fields.
    let empty = b
        .post("/asset-groups", &[("csrf", &csrf), ("name", "Nothing")])
        .await;
    assert_eq!(empty.status, 422);
    assert!(
        empty
            .field_error("provider")
            .expect("beside the first field")
            .contains("at least one")
    );
    let unnamed = b
        .post(
            "/asset-groups",
            &[("csrf", &csrf), ("name", ""), ("family", "Contoso")],
        )
        .await;
    assert!(unnamed.field_error("name").is_some(), "{}", unnamed.body);
    assert!(
        unnamed.body.contains(">Contoso</textarea>"),
        "what was typed stays"
    );
    // Created as the default: the dashboard and the analysis show only its costs.
    let created = b
        .post(
            "/asset-groups",
            &[
                ("csrf", &csrf),
                ("name", "Contoso only"),
                ("family", "Contoso\n"),
                ("is_default", "1"),
            ],
        )
        .await;
    assert_eq!(
        created.location.as_deref(),
        Some("/asset-groups?notice=created")
    );
    let list = b.get("/asset-groups").await;
    let groups = section(&list.body, "groups");
    assert!(groups.contains(">Contoso only</a>") && groups.contains("id=\"default-badge\""));
    assert!(
        groups.contains("BillingFamilyName is one of [Contoso]"),
        "{groups}"
    );
    let taken = b
        .post(
            "/asset-groups",
            &[
                ("csrf", &csrf),
                ("name", "contoso ONLY"),
                ("service", "Storage"),
            ],
        )
        .await;
    assert!(taken.field_error("name").is_some(), "{}", taken.body);
    let dash = b.get("/dashboard").await;
    assert!(dash.body.contains("id=\"asset-group-name\">Contoso only<"));
    let this = section(&dash.body, "this-month");
    assert!(
        this.contains(">USD 1,484.62<") && !this.contains("EUR"),
        "{this}"
    );
    // "All costs" on the dashboard ignores the default.
    let all = b.get("/dashboard?asset_group=").await;
    assert!(section(&all.body, "this-month").contains(">EUR 100.00<"));
    let analysis = b.get("/analysis").await;
    let result = section(&analysis.body, "result");
    assert!(
        result.contains(">Contoso</th>") && !result.contains("Fabrikam"),
        "{result}"
    );
    // No default, then deleted.
    let id_at = groups.find("data-group=\"").expect("row") + 12;
    let id = groups[id_at..].split('"').next().expect("id").to_string();
    b.post("/asset-groups/none/default", &[("csrf", &csrf)])
        .await;
    assert!(
        !b.get("/asset-groups")
            .await
            .body
            .contains("id=\"default-badge\"")
    );
    assert!(section(&b.get("/dashboard").await.body, "this-month").contains(">EUR 100.00<"));
    let gone = b
        .post(&format!("/asset-groups/{id}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(
        gone.location.as_deref(),
        Some("/asset-groups?notice=deleted")
    );
    assert!(
        b.get("/asset-groups")
            .await
            .body
            .contains("id=\"no-groups\"")
    );
}

/// An imported period keeps its billing currency, and the connections page shows its amounts in it.
#[tokio::test]
async fn imported_periods_show_their_amounts_in_their_currency() {
    let (app, email, password, _) = rated().await;
    let mut b = Browser::new(&app);
    b.login(&email, &password).await;
    let page = b.get("/connections").await;
    assert_eq!(page.status, 200);
    let start = page
        .body
        .find("data-source=")
        .expect("the imported source's table");
    let table = &page.body[start..];
    let table = &table[..table.find("</table>").expect("end of table")];
    let cells: Vec<&str> = table
        .split("<td class=\"num")
        .skip(1)
        .filter(|c| c.contains("title="))
        .collect();
    assert_eq!(cells.len(), 2, "one amount per month: {table}");
    for cell in cells {
        assert!(cell.contains("EUR"), "{cell}");
    }
}
