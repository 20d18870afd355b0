//! Saved analysis views and asset groups (saved filter sets for the dashboard and the analysis),
//! shared inside the organization; one asset group can be the default.

use be_domain::pricing::file::{ConditionFile, parse_filter};
use be_domain::pricing::{ConditionSet, Filter, Name};
use be_domain::{SavedViewId, ViewKind};
use be_store::{Conflict, SavedViewRecord, StoreError};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::analysis::AnalysisQuery;
use crate::{App, AppError, Caller, Result};

/// A saved view or asset group, as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SavedView {
    pub id: String,
    pub kind: ViewKind,
    pub name: String,
    /// The analysis query (views) or `{"filter": [[...]]}` (asset groups).
    pub document: serde_json::Value,
    pub is_default: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// An asset group's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetGroupInput {
    pub name: String,
    /// Condition sets (OR) of conditions (AND) over provider, billing account, family,
    /// sub-account, service, region or any other dimension.
    pub filter: Vec<Vec<ConditionFile>>,
    #[serde(default)]
    pub is_default: bool,
}

fn not_found() -> AppError {
    AppError::NotFound {
        code: "view_not_found",
        message: "There is no such saved view or asset group.".into(),
    }
}

fn view_of(r: SavedViewRecord) -> SavedView {
    SavedView {
        id: r.id.to_string(),
        kind: r.kind,
        name: r.name,
        document: serde_json::from_str(&r.document).unwrap_or(serde_json::Value::Null),
        is_default: r.is_default,
        updated_at: r.updated_at,
    }
}

/// `a AND b` for filters (OR of ANDs): every pair of sets joined.
pub(crate) fn and(a: &Filter, b: &Filter) -> Filter {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.clone(),
        (_, true) => a.clone(),
        _ => Filter(
            a.0.iter()
                .flat_map(|x| {
                    b.0.iter()
                        .map(move |y| ConditionSet(x.0.iter().chain(y.0.iter()).cloned().collect()))
                })
                .collect(),
        ),
    }
}

impl App {
    pub(crate) async fn allocation_key_names(&self, caller: &Caller) -> Result<Vec<String>> {
        Ok(self
            .load_pricing(caller.organization_id)
            .await?
            .config
            .allocations
            .iter()
            .map(|a| a.key.to_string())
            .collect())
    }

    async fn store_view(
        &self,
        caller: &Caller,
        id: Option<&str>,
        kind: ViewKind,
        name: &str,
        document: String,
    ) -> Result<SavedView> {
        let name = Name::parse(name, "name")?.to_string();
        let now = self.clock.now();
        let taken = || AppError::Conflict {
            code: "view_name_taken",
            field: Some("name"),
            message: format!(
                "Another saved {} is named \"{name}\".",
                if kind == ViewKind::Analysis {
                    "view"
                } else {
                    "asset group"
                }
            ),
        };
        let record = match id {
            Some(id) => {
                let id: SavedViewId = id.trim().parse().map_err(|_| not_found())?;
                let mut r = self
                    .store
                    .get_view(caller.organization_id, id)
                    .await?
                    .filter(|r| r.kind == kind)
                    .ok_or_else(not_found)?;
                (r.name, r.document, r.updated_at) = (name.clone(), document, now);
                match self.store.update_view(&r).await {
                    Ok(true) => r,
                    Ok(false) => return Err(not_found()),
                    Err(StoreError::Conflict(Conflict::ViewName)) => return Err(taken()),
                    Err(e) => return Err(e.into()),
                }
            }
            None => {
                let r = SavedViewRecord {
                    id: SavedViewId::new(),
                    organization_id: caller.organization_id,
                    kind,
                    name: name.clone(),
                    document,
                    is_default: false,
                    created_by: Some(caller.user_id),
                    created_at: now,
                    updated_at: now,
                };
                match self.store.create_view(&r).await {
                    Ok(()) => r,
                    Err(StoreError::Conflict(Conflict::ViewName)) => return Err(taken()),
                    Err(e) => return Err(e.into()),
                }
            }
        };
        Ok(view_of(record))
    }

    /// Save an analysis view (new, or replacing `id`'s).
    pub async fn save_view(
        &self,
        caller: &Caller,
        id: Option<&str>,
        name: &str,
        query: &AnalysisQuery,
    ) -> Result<SavedView> {
        caller.require(be_domain::Permission::SaveViews)?;
        query.clone().validate_shape()?;
        self.store_view(
            caller,
            id,
            ViewKind::Analysis,
            name,
            serde_json::to_string(query).map_err(AppError::internal)?,
        )
        .await
    }

    /// Save an asset group (new, or replacing `id`'s); its filter is checked like a rule's.
    pub async fn save_asset_group(
        &self,
        caller: &Caller,
        id: Option<&str>,
        input: &AssetGroupInput,
    ) -> Result<SavedView> {
        caller.require(be_domain::Permission::SaveViews)?;
        let keys = self.allocation_key_names(caller).await?;
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        parse_filter(&input.filter, &keys, "filter").map_err(AppError::InvalidFields)?;
        let document = serde_json::to_string(&serde_json::json!({"filter": input.filter}))
            .map_err(AppError::internal)?;
        let mut saved = self
            .store_view(caller, id, ViewKind::AssetGroup, &input.name, document)
            .await?;
        if input.is_default {
            self.store
                .set_default_view(
                    caller.organization_id,
                    ViewKind::AssetGroup,
                    Some(saved.id.parse().map_err(|_| not_found())?),
                )
                .await?;
            saved.is_default = true;
        }
        Ok(saved)
    }

    pub async fn list_views(&self, caller: &Caller, kind: ViewKind) -> Result<Vec<SavedView>> {
        caller.require(be_domain::Permission::ViewAnalysis)?;
        Ok(self
            .store
            .list_views(caller.organization_id, kind)
            .await?
            .into_iter()
            .map(view_of)
            .collect())
    }

    pub async fn get_view(&self, caller: &Caller, id: &str) -> Result<SavedView> {
        caller.require(be_domain::Permission::ViewAnalysis)?;
        let id: SavedViewId = id.trim().parse().map_err(|_| not_found())?;
        self.store
            .get_view(caller.organization_id, id)
            .await?
            .map(view_of)
            .ok_or_else(not_found)
    }

    pub async fn delete_view(&self, caller: &Caller, id: &str) -> Result<()> {
        caller.require(be_domain::Permission::SaveViews)?;
        let id: SavedViewId = id.trim().parse().map_err(|_| not_found())?;
        if self.store.delete_view(caller.organization_id, id).await? {
            Ok(())
        } else {
            Err(not_found())
        }
    }

    /// Make an asset group the default (or none).
    pub async fn set_default_asset_group(&self, caller: &Caller, id: Option<&str>) -> Result<()> {
        caller.require(be_domain::Permission::SaveViews)?;
        let id = match id {
            Some(raw) => {
                let v = self.get_view(caller, raw).await?;
                if v.kind != ViewKind::AssetGroup {
                    return Err(not_found());
                }
                Some(raw.trim().parse().map_err(|_| not_found())?)
            }
            None => None,
        };
        Ok(self
            .store
            .set_default_view(caller.organization_id, ViewKind::AssetGroup, id)
            .await?)
    }

    /// The filter of an asset group: the one named, else the default one (`Some("")`: none),
    /// and a viewer's family limit.
    pub(crate) async fn asset_group_filter(
        &self,
        caller: &Caller,
        chosen: Option<&str>,
    ) -> Result<(Option<SavedView>, Filter)> {
        caller.require(be_domain::Permission::ViewAnalysis)?;
        let (group, filter) = self.asset_group_only(caller, chosen).await?;
        Ok((group, and(&self.family_limit(caller).await?, &filter)))
    }

    /// A viewer limited to some families sees only rows of those families (by their current
    /// names); everyone else sees everything.
    pub(crate) async fn family_limit(&self, caller: &Caller) -> Result<Filter> {
        let Some(ids) = &caller.families else {
            return Ok(Filter::all());
        };
        let config = self.load_pricing(caller.organization_id).await?.config;
        let names: Vec<String> = config
            .families
            .iter()
            .filter(|f| ids.contains(&f.id))
            .map(|f| f.name.to_string())
            .collect();
        if names.is_empty() {
            return Err(AppError::Forbidden {
                code: "no_families_visible",
                message: "None of the families you may see exist any more. Ask an owner of your organization.".into(),
            });
        }
        let condition = ConditionFile {
            dimension: Some(be_domain::FAMILY_DIMENSION.to_string()),
            tag: None,
            op: "in".into(),
            value: None,
            values: Some(names),
        };
        parse_filter(&[vec![condition]], &[], "families").map_err(AppError::InvalidFields)
    }

    async fn asset_group_only(
        &self,
        caller: &Caller,
        chosen: Option<&str>,
    ) -> Result<(Option<SavedView>, Filter)> {
        let group = match chosen.map(str::trim) {
            Some("") => None,
            Some(id) => {
                Some(self.get_view(caller, id).await?).filter(|v| v.kind == ViewKind::AssetGroup)
            }
            None => self
                .list_views(caller, ViewKind::AssetGroup)
                .await?
                .into_iter()
                .find(|v| v.is_default),
        };
        let Some(group) = group else {
            return Ok((None, Filter::all()));
        };
        let sets: Vec<Vec<ConditionFile>> =
            serde_json::from_value(group.document["filter"].clone()).map_err(AppError::internal)?;
        let keys = self.allocation_key_names(caller).await?;
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        // A group saved before an allocation key was removed still reads; its unknown parts fail clearly.
        let filter =
            parse_filter(&sets, &keys, "asset_group.filter").map_err(AppError::InvalidFields)?;
        Ok((Some(group), filter))
    }
}
