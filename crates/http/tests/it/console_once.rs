//! Issue 9 item 14: a form submitted twice (a double click, a reload) does the work once and lands
//! where the first submission went; item 16: names that wrap.

use crate::harness::{Browser, Page, spawn_app};

/// The form token of the page's form (the hidden `form_token` field).
fn form_token(page: &Page) -> String {
    let marker = "name=\"form_token\" value=\"";
    let start = page
        .body
        .find(marker)
        .map(|i| i + marker.len())
        .expect("the form carries a form token");
    let end = page.body[start..].find('"').expect("closing quote") + start;
    page.body[start..end].to_string()
}

#[tokio::test]
async fn create_account_twice_lands_on_the_account_created_once() {
    let app = spawn_app().await;
    let t = app.tenant("Org").await;
    let mut b = Browser::new(&app);
    b.login(&t.email, &t.password).await;

    let page = b.get("/accounts").await;
    let (csrf, token) = (page.csrf(), form_token(&page));
    let form = [
        ("csrf", csrf.as_str()),
        ("form_token", token.as_str()),
        ("name", "Contoso"),
    ];
    let first = b.post("/accounts", &form).await;
    assert_eq!(first.status, 303, "{}", first.body);
    let second = b.post("/accounts", &form).await;
    assert_eq!(
        (second.status, second.location.as_deref()),
        (303, first.location.as_deref()),
        "the second submission lands on the same account, not on \"already exists\": {}",
        second.body
    );
    let (_, list) = app
        .api(reqwest::Method::GET, "/accounts", Some(&t.token), None)
        .await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));

    // A new rendering of the form has a new token: the same name is then refused beside the field.
    let page = b.get("/accounts").await;
    assert_ne!(form_token(&page), token);
    let again = [
        ("csrf", csrf.as_str()),
        ("form_token", &form_token(&page)),
        ("name", "Contoso"),
    ];
    let page = b.post("/accounts", &again).await;
    assert_eq!(page.status, 409);
    assert!(
        page.field_error("name")
            .is_some_and(|e| e.contains("already"))
    );
    // A refused submission is not remembered: corrected, the same token creates the account.
    let token = form_token(&page);
    let fixed = [
        ("csrf", csrf.as_str()),
        ("form_token", token.as_str()),
        ("name", "Contoso EU"),
    ];
    let page = b.post("/accounts", &fixed).await;
    assert_eq!(page.status, 303, "{}", page.body);
}

#[tokio::test]
async fn the_wizard_s_first_steps_submitted_twice_continue_the_same_draft() {
    let app = spawn_app().await;
    let t = app.tenant("Org").await;
    let mut b = Browser::new(&app);
    b.login(&t.email, &t.password).await;

    let page = b.get("/connect").await;
    let (csrf, token) = (page.csrf(), form_token(&page));
    let form = [
        ("csrf", csrf.as_str()),
        ("form_token", token.as_str()),
        ("name", "Contoso"),
    ];
    let first = b.post("/connect", &form).await;
    let second = b.post("/connect", &form).await;
    assert_eq!(first.status, 303, "{}", first.body);
    assert_eq!(
        (second.status, second.location.as_deref()),
        (303, first.location.as_deref()),
        "{}",
        second.body
    );
    let provider = first.location.expect("the provider step");
    let product = provider.replace("/provider", "/product");

    let page = b.get(&product).await;
    let token = form_token(&page);
    let form = [
        ("csrf", csrf.as_str()),
        ("form_token", token.as_str()),
        ("product", "billing_engine"),
    ];
    let first = b.post(&product, &form).await;
    let second = b.post(&product, &form).await;
    let login = first.location.clone().expect("the login step");
    assert!(login.ends_with("/login"), "{login}");
    assert_eq!(
        (second.status, second.location.as_deref()),
        (303, Some(login.as_str())),
        "not \"already connected\" for the user's own draft: {}",
        second.body
    );
    // Back to the product step (a new rendering) and submitted again: the draft is continued.
    let page = b.get(&product).await;
    let form = [
        ("csrf", csrf.as_str()),
        ("form_token", &form_token(&page)),
        ("product", "billing_engine"),
    ];
    let page = b.post(&product, &form).await;
    assert_eq!(
        (page.status, page.location.as_deref()),
        (303, Some(login.as_str())),
        "{}",
        page.body
    );
    let (_, list) = app
        .api(reqwest::Method::GET, "/connections", Some(&t.token), None)
        .await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "one draft");
}

#[tokio::test]
async fn long_account_names_wrap_in_tables() {
    let app = spawn_app().await;
    let t = app.tenant("Org").await;
    let long = "W".repeat(100);
    let (status, _) = app
        .api(
            reqwest::Method::POST,
            "/accounts",
            Some(&t.token),
            Some(serde_json::json!({"name": long})),
        )
        .await;
    assert_eq!(status, 201);
    let mut b = Browser::new(&app);
    b.login(&t.email, &t.password).await;
    let page = b.get("/accounts").await;
    assert!(
        page.body.contains("<td class=\"account-name\"><a href=") && page.body.contains(&long),
        "{}",
        page.body
    );
    let css = b.get("/static/app.css").await.body;
    let rule = css
        .lines()
        .find(|l| l.contains("td.account-name"))
        .expect("a rule for name cells");
    assert!(rule.contains("overflow-wrap: anywhere"), "{rule}");
}
