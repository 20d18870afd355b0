//! The server-rendered console. Sessions live in an HttpOnly cookie; every form carries a CSRF
//! token bound to the session (or, before login, to a random per-browser cookie), and
//! [`csrf::guard`] refuses any POST without a valid one.

mod allocations;
mod analysis;
mod asset_groups;
mod audit;
mod chart;
mod code;
mod conditions;
mod connect;
mod csrf;
mod dashboard;
mod data;
mod families;
mod invoicing;
pub(crate) mod once;
mod pages;
mod plans;
mod rating;
mod rule_form;
mod strategies;
mod upload;
mod users;
mod view;
mod what_if;

use axum::{
    Router,
    extract::{DefaultBodyLimit, FromRequestParts},
    http::{header, request::Parts},
    middleware,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use be_app::Caller;

use crate::{AppState, cookies};

pub(crate) fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(pages::login_page).post(pages::login))
        .route("/logout", post(pages::logout))
        .route(
            "/accounts",
            get(pages::accounts_page).post(pages::create_account),
        )
        .route("/accounts/{id}", get(pages::account_page))
        .route("/accounts/{id}/rename", post(pages::rename_account))
        .route(
            "/accounts/{id}/delete",
            get(pages::delete_page).post(pages::delete_account),
        )
        .route("/tokens", get(pages::tokens_page).post(pages::create_token))
        .route("/tokens/{id}/revoke", post(pages::revoke_token))
        .route("/audit", get(audit::audit_page))
        .route("/audit.csv", get(audit::audit_csv))
        .route("/users", get(users::users_page))
        .route("/users/invite", post(users::invite))
        .route("/users/{id}/role", post(users::set_role))
        .route("/users/{id}/remove", post(users::remove))
        .route("/invites/{id}/revoke", post(users::revoke_invite))
        .route(
            "/invite/{token}",
            get(users::invite_page).post(users::accept),
        )
        .route(
            "/connect",
            get(connect::account_step).post(connect::create_account),
        )
        .route("/connect/check", post(connect::check_field))
        .route(
            "/connect/{account}/provider",
            get(connect::provider_step).post(connect::choose_provider),
        )
        .route(
            "/connect/{account}/product",
            get(connect::product_step).post(connect::choose_product),
        )
        .route("/connections/{id}", get(connect::connection_page))
        .route(
            "/connections/{id}/login",
            get(connect::login_step).post(connect::login_done),
        )
        .route(
            "/connections/{id}/ids",
            get(connect::ids_step).post(connect::save_ids),
        )
        .route(
            "/connections/{id}/secret",
            get(connect::secret_step).post(connect::save_secret),
        )
        .route("/connections/{id}/grant", get(connect::grant_step))
        .route("/connections/{id}/validate", post(connect::validate))
        .route("/connections/{id}/pause", post(connect::pause))
        .route("/connections/{id}/sync", post(connect::sync_now))
        .route("/connections/{id}/resume", post(connect::resume))
        .route(
            "/connections/{id}/delete",
            get(connect::delete_page).post(connect::delete),
        )
        .route("/administration", get(connect::administration))
        .route(
            "/administration/cloud-account",
            get(connect::cloud_account).post(connect::add_cloud_account),
        )
        .route("/dashboard", get(dashboard::dashboard_page))
        .route("/analysis", get(analysis::analysis_page))
        .route("/analysis/export", get(analysis::export))
        .route("/analysis/rows", get(analysis::rows_page))
        .route("/analysis/views", post(analysis::save_view))
        .route(
            "/asset-groups",
            get(asset_groups::asset_groups_page).post(asset_groups::create),
        )
        .route(
            "/asset-groups/{id}/default",
            post(asset_groups::make_default),
        )
        .route("/asset-groups/{id}/delete", post(asset_groups::delete))
        .route("/analysis/views/{id}/delete", post(analysis::delete_view))
        .merge(invoicing::routes())
        .route(
            "/families",
            get(families::families_page).post(families::create_family),
        )
        .route("/families/members", post(families::add_members))
        .route("/families/{id}", get(families::family_page))
        .route("/families/{id}/rename", post(families::rename_family))
        .route("/families/{id}/delete", post(families::delete_family))
        .route(
            "/families/{id}/members/remove",
            post(families::remove_member),
        )
        .route("/plans", get(plans::plans_page).post(plans::create_plan))
        .route("/plans/{id}", get(plans::plan_page))
        .route("/plans/{id}/rename", post(plans::rename_plan))
        .route("/plans/{id}/delete", post(plans::delete_plan))
        .route("/plans/{id}/assign", post(plans::assign))
        .route("/plans/{id}/unassign", post(plans::unassign))
        .route("/plans/{id}/rules", post(plans::add_rule))
        .route("/plans/{id}/rules/new", get(plans::new_rule))
        .route("/rules/{id}", post(plans::save_rule))
        .route("/rules/{id}/edit", get(plans::edit_rule))
        .route("/rules/{id}/{action}", post(plans::rule_action))
        .route(
            "/strategies",
            get(strategies::strategies_page).post(strategies::set_strategies),
        )
        .route(
            "/strategies/{from}/delete",
            post(strategies::delete_strategies),
        )
        .route(
            "/allocations",
            get(allocations::allocations_page).post(allocations::save_allocation),
        )
        .route("/allocations/new", get(allocations::new_allocation))
        .route("/allocations/{key}", get(allocations::edit_allocation))
        .route(
            "/allocations/{key}/delete",
            post(allocations::delete_allocation),
        )
        .route("/connections", get(data::connections_page))
        .route("/sources/{id}/delete", post(data::delete_source))
        .route("/import", get(data::import_page))
        .route("/pricing/code", get(code::code_page))
        .route("/pricing/export", get(code::export))
        .route("/rating", get(rating::rating_page))
        .route("/rating/{period}", get(rating::period_page))
        .route("/rating/{period}/rate", post(rating::rate_now))
        .route("/rating/{period}/lines", get(rating::lines_page))
        .route("/rating/{period}/what-if", get(rating::what_if_page))
        .route("/explain", get(rating::explain_page))
        .route("/static/app.css", get(pages::stylesheet))
        .route("/static/app.js", get(pages::app_script))
        .route("/static/wizard.js", get(pages::wizard_script))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            crate::access::console_guard,
        ))
        .fallback(pages::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), csrf::guard))
        .merge(upload_routes(state))
}

pub(crate) use pages::error_page;

/// Upload forms: streamed, so not buffered by the CSRF guard; each checks its token itself
/// ([`upload::read`]).
fn upload_routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route(
            "/import/upload",
            post(data::import_upload).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/pricing/code/upload",
            post(code::upload).layer(DefaultBodyLimit::max(
                2 * crate::api::PRICING_FILE_BYTES + 64 * 1024,
            )),
        )
        .route_layer(middleware::from_fn_with_state(
            state,
            crate::access::console_guard,
        ))
}

/// A signed-in console user, with the CSRF token for the forms on the page.
pub(crate) struct ConsoleUser {
    pub caller: Caller,
    pub csrf: String,
}

impl FromRequestParts<AppState> for ConsoleUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let to_login = || {
            let next = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let target = format!(
                "/login?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            );
            Redirect::to(&target).into_response()
        };
        let Some(token) = cookies::get(
            &parts.headers,
            cookies::SESSION,
            state.settings.secure_cookies,
        ) else {
            return Err(to_login());
        };
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(ConsoleUser {
                caller: caller.clone(),
                csrf: state.app.keys().csrf_token(&csrf::session_binding(&token)),
            });
        }
        match state.app.session_caller(&token).await {
            Ok(Some(mut caller)) => Ok(ConsoleUser {
                caller: {
                    caller.address = crate::access::client_address(&parts.extensions);
                    caller
                },
                csrf: state.app.keys().csrf_token(&csrf::session_binding(&token)),
            }),
            Ok(None) => {
                let mut r = to_login();
                r.headers_mut().append(
                    header::SET_COOKIE,
                    cookies::clear(cookies::SESSION, state.settings.secure_cookies),
                );
                Err(r)
            }
            Err(e) => Err(pages::error_page(&e)),
        }
    }
}
