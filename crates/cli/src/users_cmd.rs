//! `billing-engine users ...`: the organization's users and roles, through the REST API (owners).

use clap::Subcommand;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use reqwest::Method;
use serde_json::{Value, json};

use crate::client::{Api, str_of};

#[derive(Subcommand)]
pub enum UsersCommand {
    /// List the users, their roles and pending invitations.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Invite someone: prints the link to pass on (no e-mail is sent).
    Invite {
        email: String,
        /// owner, billing_admin, analyst or viewer.
        #[arg(long)]
        role: String,
        /// For a viewer: a family ID they may see (repeat for several; none: all).
        #[arg(long = "family")]
        families: Vec<String>,
    },
    /// Change a user's role (by user ID).
    Role {
        id: String,
        role: String,
        #[arg(long = "family")]
        families: Vec<String>,
    },
    /// Remove a user (their sessions and API tokens end).
    Remove { id: String },
    /// Revoke a pending invitation.
    Revoke { id: String },
}

fn items(v: &Value) -> impl Iterator<Item = &Value> {
    v.get("items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

pub async fn run(cmd: UsersCommand) -> anyhow::Result<()> {
    let api = Api::from_env()?;
    match cmd {
        UsersCommand::List { json } => {
            let (_, users) = api.call(Method::GET, "/users", None).await?;
            let (_, invites) = api.call(Method::GET, "/invites", None).await?;
            if json {
                let all = json!({"users": users["items"], "invites": invites["items"]});
                println!("{}", serde_json::to_string_pretty(&all)?);
                return Ok(());
            }
            let mut t = Table::new();
            t.load_preset(UTF8_FULL_CONDENSED)
                .set_header(["ID", "E-MAIL", "ROLE", "FAMILIES", "STATE"]);
            for u in items(&users) {
                let families = u["families"].as_array().map_or("all".into(), |f| {
                    f.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(",")
                });
                t.add_row([
                    str_of(u, "id"),
                    str_of(u, "email"),
                    str_of(u, "role"),
                    &families,
                    "active",
                ]);
            }
            for i in items(&invites) {
                let state = format!("invited until {}", str_of(i, "expires_at"));
                t.add_row([
                    str_of(i, "id"),
                    str_of(i, "email"),
                    str_of(i, "role"),
                    "",
                    &state,
                ]);
            }
            println!("{t}");
        }
        UsersCommand::Invite {
            email,
            role,
            families,
        } => {
            let body = json!({"email": email, "role": role, "families": families});
            let (_, made) = api.call(Method::POST, "/invites", Some(body)).await?;
            println!(
                "invited {} as {}; send them this link (valid 7 days, once; not shown again):",
                str_of(&made, "email"),
                str_of(&made, "role")
            );
            println!("{}", str_of(&made, "link"));
        }
        UsersCommand::Role { id, role, families } => {
            let body = json!({"role": role, "families": families});
            let (_, user) = api
                .call(Method::PATCH, &format!("/users/{id}"), Some(body))
                .await?;
            println!(
                "{} is now {}",
                str_of(&user, "email"),
                str_of(&user, "role")
            );
        }
        UsersCommand::Remove { id } => {
            api.call(Method::DELETE, &format!("/users/{id}"), None)
                .await?;
            println!("removed user {id}");
        }
        UsersCommand::Revoke { id } => {
            api.call(Method::DELETE, &format!("/invites/{id}"), None)
                .await?;
            println!("revoked invitation {id}");
        }
    }
    Ok(())
}
