//! Invoice templates: how rated costs become invoices. Every organization has the out-of-the-box
//! template (created on first use, copied and never edited); its own templates are copies.

use base64::Engine as _;
use be_domain::invoicing::{
    Formula, FormulaField, InvoiceMeasure, InvoiceTemplate, Issuer, Paper,
};
use be_domain::pricing::Name;
use be_domain::{Dimension, FieldError, OrganizationId, TemplateId};
use be_store::{Conflict, StoreError, TemplateRecord};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{App, AppError, Caller, Result};

/// A template as people write and read it: dimensions by name, the measure and paper as words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    pub name: String,
    /// One invoice per value of this dimension.
    #[serde(default = "default_invoice_by")]
    pub invoice_by: String,
    /// One line per combination of these dimensions (a rule's lines are their own).
    #[serde(default = "default_line_by")]
    pub line_by: Vec<String>,
    /// `BilledCost`, `EffectiveCost` or `ListCost`.
    #[serde(default = "default_measure")]
    pub measure: String,
    #[serde(default)]
    pub formulas: Vec<FormulaBody>,
    #[serde(default)]
    pub header_fields: Vec<HeaderField>,
    #[serde(default)]
    pub footer: String,
    #[serde(default)]
    pub issuer: Issuer,
    /// `a4` or `letter`.
    #[serde(default = "default_paper")]
    pub paper: String,
    #[serde(default)]
    pub show_zero_lines: bool,
    #[serde(default = "default_series")]
    pub series: String,
    #[serde(default = "default_credit_series")]
    pub credit_series: String,
    #[serde(default = "default_debit_series")]
    pub debit_series: String,
    #[serde(default = "default_terms")]
    pub payment_terms_days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormulaBody {
    pub label: String,
    /// Arithmetic over measures and numbers: `BilledCost * 0.2`.
    pub formula: String,
    /// A tax adds to what is due; a profit figure is only shown.
    #[serde(default)]
    pub adds_to_total: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderField {
    pub label: String,
    pub value: String,
}

fn default_invoice_by() -> String {
    Dimension::Family.label()
}
fn default_line_by() -> Vec<String> {
    InvoiceTemplate::standard().line_by.iter().map(Dimension::label).collect()
}
fn default_measure() -> String {
    "BilledCost".into()
}
fn default_paper() -> String {
    "a4".into()
}
fn default_series() -> String {
    "INV".into()
}
fn default_credit_series() -> String {
    "CN".into()
}
fn default_debit_series() -> String {
    "DN".into()
}
fn default_terms() -> u32 {
    30
}

/// A stored template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateView {
    pub id: String,
    /// The out-of-the-box template: copy it to change it.
    pub builtin: bool,
    #[serde(flatten)]
    pub body: TemplateBody,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

pub(crate) fn not_found() -> AppError {
    AppError::NotFound {
        code: "template_not_found",
        message: "There is no such invoice template.".into(),
    }
}

impl TemplateBody {
    pub fn of(t: &InvoiceTemplate) -> Self {
        Self {
            name: t.name.to_string(),
            invoice_by: t.invoice_by.label(),
            line_by: t.line_by.iter().map(Dimension::label).collect(),
            measure: t.measure.column().into(),
            formulas: t
                .formulas
                .iter()
                .map(|f| FormulaBody {
                    label: f.label.clone(),
                    formula: f.formula.to_string(),
                    adds_to_total: f.adds_to_total,
                })
                .collect(),
            header_fields: t
                .header_fields
                .iter()
                .map(|(label, value)| HeaderField { label: label.clone(), value: value.clone() })
                .collect(),
            footer: t.footer.clone(),
            issuer: t.issuer.clone(),
            paper: match t.paper {
                Paper::A4 => "a4",
                Paper::Letter => "letter",
            }
            .into(),
            show_zero_lines: t.show_zero_lines,
            series: t.series.clone(),
            credit_series: t.credit_series.clone(),
            debit_series: t.debit_series.clone(),
            payment_terms_days: t.payment_terms_days,
        }
    }

    /// Parse every field, collecting each error under its field's name.
    pub fn parse(self, allocation_keys: &[&str]) -> std::result::Result<InvoiceTemplate, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = keep(&mut errors, Name::parse(&self.name, "name"));
        let invoice_by = keep(&mut errors, Dimension::parse(&self.invoice_by, allocation_keys).map_err(|e| at(e, "invoice_by")));
        let line_by: Vec<Option<Dimension>> = self
            .line_by
            .iter()
            .enumerate()
            .map(|(i, d)| keep(&mut errors, Dimension::parse(d, allocation_keys).map_err(|e| at(e, format!("line_by[{i}]")))))
            .collect();
        let measure = keep(&mut errors, parse_measure(&self.measure));
        let paper = keep(&mut errors, parse_paper(&self.paper));
        let formulas: Vec<Option<FormulaField>> = self
            .formulas
            .iter()
            .enumerate()
            .map(|(i, f)| {
                keep(&mut errors, Formula::parse(&f.formula, &format!("formulas[{i}].formula")).map(|formula| FormulaField {
                    label: f.label.trim().to_string(),
                    formula,
                    adds_to_total: f.adds_to_total,
                }))
            })
            .collect();
        keep(&mut errors, check_logo(&self.issuer));
        if line_by.is_empty() {
            errors.push(FieldError::new("line_by", "line_by_empty", "Name at least one dimension for the lines, such as ServiceName."));
        }
        let (Some(name), Some(invoice_by), Some(measure), Some(paper)) = (name, invoice_by, measure, paper) else {
            return Err(errors);
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        InvoiceTemplate {
            name,
            invoice_by,
            line_by: line_by.into_iter().flatten().collect(),
            measure,
            formulas: formulas.into_iter().flatten().collect(),
            header_fields: self.header_fields.into_iter().map(|h| (h.label.trim().to_string(), h.value.trim().to_string())).collect(),
            footer: self.footer.trim().to_string(),
            issuer: self.issuer,
            paper,
            show_zero_lines: self.show_zero_lines,
            series: self.series.trim().to_string(),
            credit_series: self.credit_series.trim().to_string(),
            debit_series: self.debit_series.trim().to_string(),
            payment_terms_days: self.payment_terms_days,
        }
        .validated()
    }
}

/// Keep a parsed value, or note its error.
pub(crate) fn keep<T>(errors: &mut Vec<FieldError>, r: std::result::Result<T, FieldError>) -> Option<T> {
    r.map_err(|e| errors.push(e)).ok()
}

/// The same error, reported on `field`.
pub(crate) fn at(e: FieldError, field: impl Into<std::borrow::Cow<'static, str>>) -> FieldError {
    FieldError { field: field.into(), ..e }
}

fn parse_measure(raw: &str) -> std::result::Result<InvoiceMeasure, FieldError> {
    [InvoiceMeasure::BilledCost, InvoiceMeasure::EffectiveCost, InvoiceMeasure::ListCost]
        .into_iter()
        .find(|m| m.column().eq_ignore_ascii_case(raw.trim()))
        .ok_or_else(|| FieldError::new("measure", "measure_unknown", "The measure is BilledCost, EffectiveCost or ListCost."))
}

fn parse_paper(raw: &str) -> std::result::Result<Paper, FieldError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "a4" => Ok(Paper::A4),
        "letter" => Ok(Paper::Letter),
        _ => Err(FieldError::new("paper", "paper_unknown", "The paper is a4 or letter.")),
    }
}

/// A logo is a PNG or an SVG, base64, at most 256 KiB.
fn check_logo(issuer: &Issuer) -> std::result::Result<(), FieldError> {
    let Some(logo) = issuer.logo_base64.as_deref().filter(|l| !l.trim().is_empty()) else {
        return Ok(());
    };
    let field = "issuer.logo_base64";
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(logo.trim())
        .map_err(|_| FieldError::new(field, "logo_invalid", "The logo is not base64 text; upload the PNG or SVG file again."))?;
    if bytes.len() > 256 * 1024 {
        return Err(FieldError::new(field, "logo_too_large", "The logo is at most 256 KiB."));
    }
    let png = bytes.starts_with(b"\x89PNG\r\n\x1a\n");
    let svg = std::str::from_utf8(&bytes).is_ok_and(|t| t.contains("<svg"));
    if !png && !svg {
        return Err(FieldError::new(field, "logo_format", "The logo must be a PNG or an SVG image."));
    }
    Ok(())
}

fn view_of(r: &TemplateRecord) -> Result<TemplateView> {
    let t = decode(r)?;
    Ok(TemplateView { id: r.id.to_string(), builtin: r.builtin, body: TemplateBody::of(&t), updated_at: r.updated_at })
}

pub(crate) fn decode(r: &TemplateRecord) -> Result<InvoiceTemplate> {
    serde_json::from_str(&r.document)
        .map_err(|e| AppError::internal(StoreError::Corrupt(format!("invoice template {}: {e}", r.id))))
}

fn taken(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict(Conflict::TemplateName) => AppError::Conflict {
            code: "template_name_taken",
            field: Some("name"),
            message: "A template with this name exists; choose another name.".into(),
        },
        other => other.into(),
    }
}

impl App {
    /// The organization's templates, the out-of-the-box one first (created on first use).
    pub async fn invoice_templates(&self, caller: &Caller) -> Result<Vec<TemplateView>> {
        let org = caller.organization_id;
        self.ensure_builtin_template(org).await?;
        self.store.list_templates(org).await?.iter().map(view_of).collect()
    }

    pub async fn invoice_template(&self, caller: &Caller, id: &str) -> Result<TemplateView> {
        view_of(&self.template_record(caller.organization_id, id).await?)
    }

    /// A new template; it starts as a copy of `copy_from` when given, the fields sent win.
    pub async fn create_invoice_template(&self, caller: &Caller, body: TemplateBody) -> Result<TemplateView> {
        let org = caller.organization_id;
        self.ensure_builtin_template(org).await?;
        let template = self.parse_template(org, body).await?;
        let now = self.clock.now();
        let record = TemplateRecord {
            id: TemplateId::new(),
            organization_id: org,
            name: template.name.to_string(),
            document: serde_json::to_string(&template).map_err(AppError::internal)?,
            builtin: false,
            created_at: now,
            updated_at: now,
        };
        self.store.create_template(&record).await.map_err(taken)?;
        tracing::info!(template = %record.id, "invoice template created");
        view_of(&record)
    }

    /// A copy of a template under a new name.
    pub async fn copy_invoice_template(&self, caller: &Caller, id: &str, name: &str) -> Result<TemplateView> {
        let source = self.template_record(caller.organization_id, id).await?;
        let mut body = TemplateBody::of(&decode(&source)?);
        body.name = name.to_string();
        self.create_invoice_template(caller, body).await
    }

    pub async fn update_invoice_template(&self, caller: &Caller, id: &str, body: TemplateBody) -> Result<TemplateView> {
        let org = caller.organization_id;
        let mut record = self.template_record(org, id).await?;
        if record.builtin {
            return Err(builtin_is_read_only());
        }
        let template = self.parse_template(org, body).await?;
        record.name = template.name.to_string();
        record.document = serde_json::to_string(&template).map_err(AppError::internal)?;
        record.updated_at = self.clock.now();
        if !self.store.update_template(&record).await.map_err(taken)? {
            return Err(not_found());
        }
        view_of(&record)
    }

    pub async fn delete_invoice_template(&self, caller: &Caller, id: &str) -> Result<()> {
        let org = caller.organization_id;
        let record = self.template_record(org, id).await?;
        if record.builtin {
            return Err(builtin_is_read_only());
        }
        if self.store.list_schedules(org).await?.iter().any(|s| s.template_id == record.id) {
            return Err(AppError::Conflict {
                code: "template_in_use",
                field: None,
                message: "A scheduled invoice run uses this template; delete or change the schedule first.".into(),
            });
        }
        self.store.delete_template(org, record.id).await?;
        Ok(())
    }

    async fn parse_template(&self, org: OrganizationId, body: TemplateBody) -> Result<InvoiceTemplate> {
        let keys: Vec<String> = self.load_pricing(org).await?.config.allocations.iter().map(|a| a.key.to_string()).collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        body.parse(&refs).map_err(AppError::InvalidFields)
    }

    /// A template by ID or by name (ignoring case); the out-of-the-box one when `None`.
    pub(crate) async fn template_by(&self, org: OrganizationId, chosen: Option<&str>) -> Result<TemplateRecord> {
        self.ensure_builtin_template(org).await?;
        let all = self.store.list_templates(org).await?;
        let found = match chosen.map(str::trim).filter(|c| !c.is_empty()) {
            None => all.into_iter().find(|t| t.builtin),
            Some(c) => all.into_iter().find(|t| t.id.to_string() == c || t.name.eq_ignore_ascii_case(c)),
        };
        found.ok_or_else(not_found)
    }

    async fn template_record(&self, org: OrganizationId, id: &str) -> Result<TemplateRecord> {
        let id: TemplateId = id.parse().map_err(|_| not_found())?;
        self.store.get_template(org, id).await?.ok_or_else(not_found)
    }

    async fn ensure_builtin_template(&self, org: OrganizationId) -> Result<()> {
        if self.store.list_templates(org).await?.iter().any(|t| t.builtin) {
            return Ok(());
        }
        let standard = InvoiceTemplate::standard();
        let now = self.clock.now();
        let record = TemplateRecord {
            id: TemplateId::new(),
            organization_id: org,
            name: standard.name.to_string(),
            document: serde_json::to_string(&standard).map_err(AppError::internal)?,
            builtin: true,
            created_at: now,
            updated_at: now,
        };
        match self.store.create_template(&record).await {
            // Made by a concurrent request in the meantime, or a template of the organization
            // already has the name: either way there is nothing to add.
            Ok(()) | Err(StoreError::Conflict(Conflict::TemplateName)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

fn builtin_is_read_only() -> AppError {
    AppError::Conflict {
        code: "template_builtin",
        field: None,
        message: "The out-of-the-box template is not edited: copy it and change the copy.".into(),
    }
}
