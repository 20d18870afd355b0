//! The pricing configuration's use cases: families, plans and rules, strategies, allocations, and
//! rules as code. Every change writes a new version of the whole configuration (history and what
//! a rating was made with), validated as a whole; the periods whose configuration changed are
//! marked for rating and a rating is queued.

use be_domain::pricing::file::{AllocationFile, ConfigFile, RuleFile, StrategyFile};
use be_domain::pricing::{
    AssignmentTarget, Family, Member, Name, Plan, PlanAssignment, PricingConfig, Rule,
    SubAccountId, Validity,
};
use be_domain::{BillingPeriod, FamilyId, FieldError, PlanId, RuleId};
use be_store::{Conflict, PricingVersionRecord, StoreError};
use serde::Serialize;
use time::OffsetDateTime;

use crate::{App, AppError, Caller, Result};

/// The current configuration and its version (0: nothing configured yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PricingState {
    pub version: i32,
    pub config: PricingConfig,
    #[serde(with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
}

/// One entry of the configuration's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PricingVersionInfo {
    pub version: i32,
    pub summary: String,
    pub created_by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// The file formats of rules as code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigFormat {
    Json,
    Yaml,
}

impl ConfigFormat {
    pub fn parse(raw: &str) -> std::result::Result<Self, FieldError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "json" | "application/json" => Ok(Self::Json),
            "yaml" | "yml" | "application/yaml" | "application/x-yaml" | "text/yaml" => {
                Ok(Self::Yaml)
            }
            _ => Err(FieldError::new(
                "format",
                "format_invalid",
                "The format is json or yaml.",
            )),
        }
    }
}

/// What an import of rules as code did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PricingImport {
    pub dry_run: bool,
    /// One line per difference: `+` added, `-` removed, `~` changed.
    pub changes: Vec<String>,
    /// The version after the import (unchanged in a dry run or when nothing differs).
    pub version: i32,
}

fn not_found(what: &str) -> AppError {
    AppError::NotFound {
        code: "pricing_item_not_found",
        message: format!("There is no such {what}."),
    }
}

fn invalid(errors: Vec<FieldError>) -> AppError {
    if errors.len() == 1 {
        AppError::Invalid(errors.into_iter().next().expect("one"))
    } else {
        AppError::InvalidFields(errors)
    }
}

fn parse_id<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T> {
    raw.trim().parse().map_err(|_| not_found(what))
}

fn conflict(code: &'static str, message: String) -> AppError {
    AppError::Conflict {
        code,
        field: None,
        message,
    }
}

/// The period a membership or an assignment starts in: the one given, or the current one.
fn period_or(raw: Option<&str>, current: BillingPeriod) -> Result<BillingPeriod> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Ok(BillingPeriod::parse(s)?),
        None => Ok(current),
    }
}

impl App {
    pub(crate) fn current_period(&self) -> BillingPeriod {
        BillingPeriod::of_instant(self.clock.now())
    }

    pub(crate) async fn load_pricing(
        &self,
        org: be_domain::OrganizationId,
    ) -> Result<PricingState> {
        match self.store.current_pricing(org).await? {
            None => Ok(PricingState {
                version: 0,
                config: PricingConfig::default(),
                updated_at: None,
            }),
            Some(v) => {
                let config = serde_json::from_str(&v.document).map_err(|e| {
                    AppError::internal(StoreError::Corrupt(format!(
                        "pricing version {}: {e}",
                        v.version
                    )))
                })?;
                Ok(PricingState {
                    version: v.version,
                    config,
                    updated_at: Some(v.created_at),
                })
            }
        }
    }

    pub async fn pricing(&self, caller: &Caller) -> Result<PricingState> {
        caller.require(be_domain::Permission::Read)?;
        self.load_pricing(caller.organization_id).await
    }

    /// The configuration as it was at a version.
    pub async fn pricing_version(&self, caller: &Caller, version: i32) -> Result<PricingConfig> {
        caller.require(be_domain::Permission::Read)?;
        let v = self
            .store
            .get_pricing_version(caller.organization_id, version)
            .await?
            .ok_or_else(|| not_found("configuration version"))?;
        serde_json::from_str(&v.document)
            .map_err(|e| AppError::internal(StoreError::Corrupt(e.to_string())))
    }

    pub async fn pricing_history(
        &self,
        caller: &Caller,
        limit: i64,
    ) -> Result<Vec<PricingVersionInfo>> {
        caller.require(be_domain::Permission::Read)?;
        let versions = self
            .store
            .list_pricing_versions(caller.organization_id, limit.clamp(1, 500))
            .await?;
        Ok(versions
            .into_iter()
            .map(|v| PricingVersionInfo {
                version: v.version,
                summary: v.summary,
                created_by: v.created_by.map(|u| u.to_string()),
                created_at: v.created_at,
            })
            .collect())
    }

    /// Apply `change` to the current configuration and save it as the next version; retried when
    /// another change saved first. Periods whose configuration changed are queued for rating.
    pub(crate) async fn change_pricing<T>(
        &self,
        caller: &Caller,
        summary: &str,
        change: impl Fn(&mut PricingConfig) -> Result<T>,
    ) -> Result<T> {
        caller.require(be_domain::Permission::ManagePricing)?;
        for _ in 0..5 {
            let current = self.load_pricing(caller.organization_id).await?;
            let mut next = current.config.clone();
            let out = change(&mut next)?;
            let next = next.validated().map_err(invalid)?;
            if next == current.config {
                return Ok(out);
            }
            let record = PricingVersionRecord {
                organization_id: caller.organization_id,
                version: current.version + 1,
                document: serde_json::to_string(&next).map_err(AppError::internal)?,
                summary: summary.to_string(),
                created_by: Some(caller.user_id),
                created_at: self.clock.now(),
            };
            match self.store.save_pricing_version(&record).await {
                Ok(()) => {
                    tracing::info!(org = %caller.organization_id, version = record.version, summary, "pricing changed");
                    self.audit_pricing(caller, &current.config, &next).await;
                    self.pricing_changed(caller.organization_id, &current.config, &next)
                        .await?;
                    return Ok(out);
                }
                Err(StoreError::Conflict(Conflict::PricingVersion)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(conflict(
            "pricing_busy",
            "The configuration is being changed by someone else right now; try again.".into(),
        ))
    }

    // Families.

    pub async fn create_family(&self, caller: &Caller, name: &str) -> Result<Family> {
        caller.require(be_domain::Permission::ManagePricing)?;
        let name = Name::parse(name, "name")?;
        let family = Family {
            id: FamilyId::new(),
            name: name.clone(),
            members: vec![],
        };
        let created = family.clone();
        self.change_pricing(caller, &format!("family {name} created"), move |c| {
            c.families.push(family.clone());
            Ok(())
        })
        .await?;
        Ok(created)
    }

    pub async fn rename_family(&self, caller: &Caller, id: &str, name: &str) -> Result<()> {
        caller.require(be_domain::Permission::ManagePricing)?;
        let id: FamilyId = parse_id(id, "family")?;
        let name = Name::parse(name, "name")?;
        self.change_pricing(caller, &format!("family renamed to {name}"), |c| {
            c.families
                .iter_mut()
                .find(|f| f.id == id)
                .ok_or_else(|| not_found("family"))?
                .name = name.clone();
            Ok(())
        })
        .await
    }

    /// Refused while a plan is assigned to the family (unassign it first: its customers' prices
    /// would change silently otherwise).
    pub async fn delete_family(&self, caller: &Caller, id: &str) -> Result<()> {
        caller.require(be_domain::Permission::ManagePricing)?;
        let id: FamilyId = parse_id(id, "family")?;
        self.change_pricing(caller, "family deleted", |c| {
            let family = c.family(id).ok_or_else(|| not_found("family"))?;
            if let Some(plan) = c.plans.iter().find(|p| {
                p.assigned_to
                    .iter()
                    .any(|a| a.target == AssignmentTarget::Family(id))
            }) {
                return Err(conflict(
                    "family_has_plan",
                    format!(
                        "Family \"{}\" is assigned to plan \"{}\"; remove that assignment first.",
                        family.name, plan.name
                    ),
                ));
            }
            c.families.retain(|f| f.id != id);
            Ok(())
        })
        .await
    }

    /// Put sub-accounts into a family from a period (default: the current one). A sub-account in
    /// another family leaves it from that period on (its earlier months keep their family).
    pub async fn add_family_members(
        &self,
        caller: &Caller,
        id: &str,
        subs: &[String],
        from: Option<&str>,
    ) -> Result<()> {
        caller.require(be_domain::Permission::ManagePricing)?;
        let id: FamilyId = parse_id(id, "family")?;
        let from = period_or(from, self.current_period())?;
        let subs = subs
            .iter()
            .map(|s| SubAccountId::parse(s))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        if subs.is_empty() {
            return Err(FieldError::new(
                "sub_account_ids",
                "sub_accounts_empty",
                "Choose at least one sub-account.",
            )
            .into());
        }
        self.change_pricing(
            caller,
            &format!(
                "{} sub-account(s) added to a family from {from}",
                subs.len()
            ),
            |c| {
                c.family(id).ok_or_else(|| not_found("family"))?;
                for sub in &subs {
                    end_membership(c, sub, from);
                    let family = c
                        .families
                        .iter_mut()
                        .find(|f| f.id == id)
                        .expect("checked above");
                    family.members.push(Member {
                        sub_account_id: sub.clone(),
                        valid: Validity::from(from),
                    });
                }
                Ok(())
            },
        )
        .await
    }

    /// Take a sub-account out of its family from a period on (default: the current one).
    pub async fn remove_family_member(
        &self,
        caller: &Caller,
        id: &str,
        sub: &str,
        from: Option<&str>,
    ) -> Result<()> {
        caller.require(be_domain::Permission::ManagePricing)?;
        let id: FamilyId = parse_id(id, "family")?;
        let sub = SubAccountId::parse(sub)?;
        let from = period_or(from, self.current_period())?;
        self.change_pricing(
            caller,
            &format!("sub-account {sub} leaves a family from {from}"),
            |c| {
                let family = c.family(id).ok_or_else(|| not_found("family"))?;
                if !family.members.iter().any(|m| m.sub_account_id == sub) {
                    return Err(not_found("member of this family"));
                }
                end_membership(c, &sub, from);
                Ok(())
            },
        )
        .await
    }

    // Plans and rules.

    pub async fn create_plan(&self, caller: &Caller, name: &str) -> Result<Plan> {
        caller.require(be_domain::Permission::ManagePricing)?;
        let name = Name::parse(name, "name")?;
        let plan = Plan {
            id: PlanId::new(),
            name: name.clone(),
            assigned_to: vec![],
            rules: vec![],
        };
        let created = plan.clone();
        self.change_pricing(caller, &format!("plan {name} created"), move |c| {
            c.plans.push(plan.clone());
            Ok(())
        })
        .await?;
        Ok(created)
    }

    pub async fn rename_plan(&self, caller: &Caller, id: &str, name: &str) -> Result<()> {
        caller.require(be_domain::Permission::ManagePricing)?;
        let id: PlanId = parse_id(id, "plan")?;
        let name = Name::parse(name, "name")?;
        self.change_pricing(caller, &format!("plan renamed to {name}"), |c| {
            c.plans
                .iter_mut()
                .find(|p| p.id == id)
                .ok_or_else(|| not_found("plan"))?
                .name = name.clone();
            Ok(())
        })
        .await
    }

    /// Delete a plan with its rules and assignments.
    pub async fn delete_plan(&self, caller: &Caller, id: &str) -> Result<()> {
        caller.require(be_domain::Permission::ManagePricing)?;
        let id: PlanId = parse_id(id, "plan")?;
        self.change_pricing(caller, "plan deleted", |c| {
            c.plan(id).ok_or_else(|| not_found("plan"))?;
            c.plans.retain(|p| p.id != id);
            Ok(())
        })
        .await
    }

    /// Assign a plan to a family or a sub-account from a period (default: the current one). An
    /// earlier assignment of the same target to another plan ends the period before.
    pub async fn assign_plan(&self, caller: &Caller, id: &str, target: &AssignTo) -> Result<()> {
        caller.require(be_domain::Permission::ManagePricing)?;
        let id: PlanId = parse_id(id, "plan")?;
        let from = period_or(target.from.as_deref(), self.current_period())?;
        let target = target.parse()?;
        self.change_pricing(caller, &format!("plan assigned from {from}"), |c| {
            c.plan(id).ok_or_else(|| not_found("plan"))?;
            if let AssignmentTarget::Family(f) = &target {
                c.family(*f).ok_or_else(|| not_found("family"))?;
            }
            end_assignments(c, &target, from);
            let plan = c
                .plans
                .iter_mut()
                .find(|p| p.id == id)
                .expect("checked above");
            plan.assigned_to.push(PlanAssignment {
                target: target.clone(),
                valid: Validity::from(from),
            });
            Ok(())
        })
        .await
    }

    /// End a plan's assignment to a target from a period on (default: the current one).
    pub async fn unassign_plan(&self, caller: &Caller, id: &str, target: &AssignTo) -> Result<()> {
        caller.require(be_domain::Permission::ManagePricing)?;
        let id: PlanId = parse_id(id, "plan")?;
        let from = period_or(target.from.as_deref(), self.current_period())?;
        let target = target.parse()?;
        self.change_pricing(caller, &format!("plan unassigned from {from}"), |c| {
            let plan = c.plan(id).ok_or_else(|| not_found("plan"))?;
            if !plan.assigned_to.iter().any(|a| a.target == target) {
                return Err(not_found("assignment of this plan"));
            }
            end_assignments(c, &target, from);
            Ok(())
        })
        .await
    }

    fn allocation_keys(c: &PricingConfig) -> Vec<String> {
        c.allocations.iter().map(|a| a.key.to_string()).collect()
    }

    /// Add a rule to a plan (at the end, or at `position`, 0-based).
    pub async fn add_rule(
        &self,
        caller: &Caller,
        plan: &str,
        rule: &RuleFile,
        position: Option<usize>,
    ) -> Result<Rule> {
        caller.require(be_domain::Permission::ManagePricing)?;
        let plan: PlanId = parse_id(plan, "plan")?;
        let now = self.current_period();
        self.change_pricing(caller, &format!("rule {} added", rule.name.trim()), |c| {
            let keys = Self::allocation_keys(c);
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            let new = rule.into_rule(&keys, now).map_err(invalid)?;
            let p = c
                .plans
                .iter_mut()
                .find(|p| p.id == plan)
                .ok_or_else(|| not_found("plan"))?;
            let at = position.unwrap_or(p.rules.len()).min(p.rules.len());
            p.rules.insert(at, new.clone());
            Ok(new)
        })
        .await
    }

    /// Replace a rule's definition (its ID and place stay).
    pub async fn update_rule(&self, caller: &Caller, id: &str, rule: &RuleFile) -> Result<Rule> {
        caller.require(be_domain::Permission::ManagePricing)?;
        let id: RuleId = parse_id(id, "rule")?;
        let now = self.current_period();
        self.change_pricing(caller, &format!("rule {} changed", rule.name.trim()), |c| {
            let keys = Self::allocation_keys(c);
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            let mut new = rule.into_rule(&keys, now).map_err(invalid)?;
            let slot = c
                .plans
                .iter_mut()
                .flat_map(|p| p.rules.iter_mut())
                .find(|r| r.id == id)
                .ok_or_else(|| not_found("rule"))?;
            new.id = id;
            *slot = new.clone();
            Ok(new)
        })
        .await
    }

    pub async fn delete_rule(&self, caller: &Caller, id: &str) -> Result<()> {
        caller.require(be_domain::Permission::ManagePricing)?;
        let id: RuleId = parse_id(id, "rule")?;
        self.change_pricing(caller, "rule deleted", |c| {
            let plan = c
                .plans
                .iter_mut()
                .find(|p| p.rules.iter().any(|r| r.id == id))
                .ok_or_else(|| not_found("rule"))?;
            plan.rules.retain(|r| r.id != id);
            Ok(())
        })
        .await
    }

    /// Move a rule to `position` (0-based) in its plan: rules run in order.
    pub async fn move_rule(&self, caller: &Caller, id: &str, position: usize) -> Result<()> {
        caller.require(be_domain::Permission::ManagePricing)?;
        let id: RuleId = parse_id(id, "rule")?;
        self.change_pricing(
            caller,
            &format!("rule moved to position {}", position + 1),
            |c| {
                let plan = c
                    .plans
                    .iter_mut()
                    .find(|p| p.rules.iter().any(|r| r.id == id))
                    .ok_or_else(|| not_found("rule"))?;
                let from = plan
                    .rules
                    .iter()
                    .position(|r| r.id == id)
                    .expect("found above");
                let rule = plan.rules.remove(from);
                let to = position.min(plan.rules.len());
                plan.rules.insert(to, rule);
                Ok(())
            },
        )
        .await
    }

    pub async fn set_rule_enabled(&self, caller: &Caller, id: &str, enabled: bool) -> Result<()> {
        caller.require(be_domain::Permission::ManagePricing)?;
        let id: RuleId = parse_id(id, "rule")?;
        let what = if enabled { "enabled" } else { "disabled" };
        self.change_pricing(caller, &format!("rule {what}"), |c| {
            c.plans
                .iter_mut()
                .flat_map(|p| p.rules.iter_mut())
                .find(|r| r.id == id)
                .ok_or_else(|| not_found("rule"))?
                .enabled = enabled;
            Ok(())
        })
        .await
    }

    // Strategies and allocations.

    /// Set the strategies effective from a period (replacing a set from the same period).
    pub async fn set_strategy(&self, caller: &Caller, s: &StrategyFile) -> Result<()> {
        caller.require(be_domain::Permission::ManagePricing)?;
        let set = s.into_strategy().map_err(invalid)?;
        self.change_pricing(caller, &format!("strategies from {}", set.from), |c| {
            c.strategies.retain(|x| x.from != set.from);
            c.strategies.push(set);
            c.strategies.sort_by_key(|x| x.from);
            Ok(())
        })
        .await
    }

    pub async fn delete_strategy(&self, caller: &Caller, from: &str) -> Result<()> {
        caller.require(be_domain::Permission::ManagePricing)?;
        let from = BillingPeriod::parse(from)?;
        self.change_pricing(caller, &format!("strategies from {from} removed"), |c| {
            let before = c.strategies.len();
            c.strategies.retain(|x| x.from != from);
            if c.strategies.len() == before {
                Err(not_found("strategy set"))
            } else {
                Ok(())
            }
        })
        .await
    }

    /// Create an allocation assignment, or replace the one with the same key (its place kept).
    pub async fn put_allocation(
        &self,
        caller: &Caller,
        a: &AllocationFile,
    ) -> Result<be_domain::pricing::Allocation> {
        caller.require(be_domain::Permission::ManagePricing)?;
        let now = self.current_period();
        self.change_pricing(caller, &format!("allocation {} saved", a.key.trim()), |c| {
            let at = c
                .allocations
                .iter()
                .position(|x| x.key.as_str().eq_ignore_ascii_case(a.key.trim()));
            let earlier: Vec<String> = c.allocations[..at.unwrap_or(c.allocations.len())]
                .iter()
                .map(|x| x.key.to_string())
                .collect();
            let new = a.into_allocation(c, &earlier, now).map_err(invalid)?;
            match at {
                Some(i) => c.allocations[i] = new.clone(),
                None => c.allocations.push(new.clone()),
            }
            Ok(new)
        })
        .await
    }

    pub async fn delete_allocation(&self, caller: &Caller, key: &str) -> Result<()> {
        caller.require(be_domain::Permission::ManagePricing)?;
        self.change_pricing(caller, &format!("allocation {} deleted", key.trim()), |c| {
            let before = c.allocations.len();
            c.allocations
                .retain(|x| !x.key.as_str().eq_ignore_ascii_case(key.trim()));
            if c.allocations.len() == before {
                Err(not_found("allocation"))
            } else {
                Ok(())
            }
        })
        .await
    }

    // Rules as code.

    pub async fn export_pricing(&self, caller: &Caller, format: ConfigFormat) -> Result<String> {
        caller.require(be_domain::Permission::Export)?;
        let state = self.load_pricing(caller.organization_id).await?;
        let file = ConfigFile::from_config(&state.config);
        match format {
            ConfigFormat::Json => serde_json::to_string_pretty(&file)
                .map(|s| s + "\n")
                .map_err(AppError::internal),
            ConfigFormat::Yaml => serde_yaml_ng::to_string(&file).map_err(AppError::internal),
        }
    }

    /// Import a configuration file: the whole configuration becomes the file's (matched by name,
    /// so IDs are kept and importing twice changes nothing). A dry run changes nothing and says
    /// what would change.
    pub async fn import_pricing(
        &self,
        caller: &Caller,
        text: &str,
        format: ConfigFormat,
        dry_run: bool,
    ) -> Result<PricingImport> {
        caller.require(be_domain::Permission::ManagePricing)?;
        let file = parse_config_file(text, format)?;
        let current = self.load_pricing(caller.organization_id).await?;
        let next = file
            .clone()
            .into_config(&current.config, self.current_period())
            .map_err(invalid)?;
        let changes = be_domain::pricing::diff::diff(
            &ConfigFile::from_config(&current.config),
            &ConfigFile::from_config(&next),
        );
        if dry_run || changes.is_empty() {
            return Ok(PricingImport {
                dry_run,
                changes,
                version: current.version,
            });
        }
        let summary = format!("rules as code imported ({} changes)", changes.len());
        self.change_pricing(caller, &summary, |c| {
            *c = file
                .clone()
                .into_config(c, self.current_period())
                .map_err(invalid)?;
            Ok(())
        })
        .await?;
        let version = self.load_pricing(caller.organization_id).await?.version;
        Ok(PricingImport {
            dry_run,
            changes,
            version,
        })
    }
}

/// Read a rules-as-code file; a syntax error names its line and column.
fn parse_config_file(text: &str, format: ConfigFormat) -> Result<ConfigFile> {
    let syntax = |message: String| {
        AppError::Invalid(FieldError::new("file", "config_file_invalid", message))
    };
    match format {
        ConfigFormat::Json => {
            let de = &mut serde_json::Deserializer::from_str(text);
            serde_path_to_error::deserialize(de)
                .map_err(|e| syntax(format!("{} (at {})", e.inner(), e.path())))
        }
        ConfigFormat::Yaml => serde_yaml_ng::from_str(text).map_err(|e| syntax(e.to_string())),
    }
}

/// End every membership of `sub` that is still valid in `from` (it then ends the month before;
/// one that starts in `from` or later is removed).
fn end_membership(c: &mut PricingConfig, sub: &SubAccountId, from: BillingPeriod) {
    for f in &mut c.families {
        f.members
            .retain(|m| !(m.sub_account_id == *sub && m.valid.from >= from));
        for m in f
            .members
            .iter_mut()
            .filter(|m| m.sub_account_id == *sub && m.valid.covers(from))
        {
            m.valid.to = Some(from.previous());
        }
    }
}

/// The same for plan assignments of `target`.
fn end_assignments(c: &mut PricingConfig, target: &AssignmentTarget, from: BillingPeriod) {
    for p in &mut c.plans {
        p.assigned_to
            .retain(|a| !(a.target == *target && a.valid.from >= from));
        for a in p
            .assigned_to
            .iter_mut()
            .filter(|a| a.target == *target && a.valid.covers(from))
        {
            a.valid.to = Some(from.previous());
        }
    }
}

/// What a plan is assigned to, as a request names it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignTo {
    #[serde(default)]
    pub family_id: Option<String>,
    #[serde(default)]
    pub sub_account_id: Option<String>,
    /// The first period (default: the current one).
    #[serde(default)]
    pub from: Option<String>,
}

impl AssignTo {
    fn parse(&self) -> Result<AssignmentTarget> {
        match (&self.family_id, &self.sub_account_id) {
            (Some(f), None) => Ok(AssignmentTarget::Family(parse_id(f, "family")?)),
            (None, Some(s)) => Ok(AssignmentTarget::SubAccount(SubAccountId::parse(s)?)),
            _ => Err(FieldError::new(
                "target",
                "assignment_target",
                "Assign a plan to either a family_id or a sub_account_id.",
            )
            .into()),
        }
    }
}

/// The configuration as the API and the console show it: the rules-as-code shapes, with the IDs
/// that address each part.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PricingView {
    pub version: i32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
    pub strategies: Vec<StrategyFile>,
    pub families: Vec<FamilyView>,
    pub allocations: Vec<AllocationView>,
    pub plans: Vec<PlanView>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FamilyView {
    pub id: String,
    pub name: String,
    pub members: Vec<be_domain::pricing::file::MemberFile>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AllocationView {
    pub id: String,
    #[serde(flatten)]
    pub allocation: AllocationFile,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanView {
    pub id: String,
    pub name: String,
    pub assigned_to: Vec<AssignmentView>,
    pub rules: Vec<RuleView>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssignmentView {
    pub family_id: Option<String>,
    pub family: Option<String>,
    pub sub_account_id: Option<String>,
    pub from: String,
    pub to: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleView {
    pub id: String,
    #[serde(flatten)]
    pub rule: RuleFile,
}

impl RuleView {
    pub fn of(rule: &Rule) -> Self {
        Self {
            id: rule.id.to_string(),
            rule: RuleFile::from_rule(rule),
        }
    }
}

impl PricingState {
    pub fn view(&self) -> PricingView {
        let c = &self.config;
        let file = ConfigFile::from_config(c);
        PricingView {
            version: self.version,
            updated_at: self.updated_at,
            strategies: file.strategies,
            families: c
                .families
                .iter()
                .zip(file.families)
                .map(|(f, ff)| FamilyView {
                    id: f.id.to_string(),
                    name: ff.name,
                    members: ff.members,
                })
                .collect(),
            allocations: c
                .allocations
                .iter()
                .zip(file.allocations)
                .map(|(a, af)| AllocationView {
                    id: a.id.to_string(),
                    allocation: af,
                })
                .collect(),
            plans: c
                .plans
                .iter()
                .map(|p| PlanView {
                    id: p.id.to_string(),
                    name: p.name.to_string(),
                    assigned_to: p
                        .assigned_to
                        .iter()
                        .map(|a| {
                            let (family_id, family, sub_account_id) = match &a.target {
                                AssignmentTarget::Family(id) => (
                                    Some(id.to_string()),
                                    c.family(*id).map(|f| f.name.to_string()),
                                    None,
                                ),
                                AssignmentTarget::SubAccount(s) => {
                                    (None, None, Some(s.to_string()))
                                }
                            };
                            AssignmentView {
                                family_id,
                                family,
                                sub_account_id,
                                from: a.valid.from.to_string(),
                                to: a.valid.to.map(|t| t.to_string()),
                            }
                        })
                        .collect(),
                    rules: p.rules.iter().map(RuleView::of).collect(),
                })
                .collect(),
        }
    }
}
