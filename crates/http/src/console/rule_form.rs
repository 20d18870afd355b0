//! The form of a rule of any kind (engine.md 2.4): what the person typed (a [`Draft`]), read from
//! and written to the rules-as-code shape the app takes ([`RuleFile`]), and the form as rendered
//! with each of the app's messages beside its field (`tiers.bands[1].from`).

use be_domain::pricing::file::{BandFile, RuleFile, TiersFile};

use super::conditions::{self, ConditionsView, Sets};
use super::view::{Errors, FormData, Input};

/// Every rule kind, with its name for people.
pub(crate) const KINDS: [(&str, &str); 7] = [
    ("markup", "Markup"),
    ("markdown", "Markdown"),
    ("upcharge", "Upcharge"),
    ("discount", "Discount"),
    ("one_time_fee", "One-time fee"),
    ("one_time_discount", "One-time discount"),
    ("recurring_fee", "Recurring fee"),
];

pub(crate) fn kind_label(kind: &str) -> &str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, l)| *l)
        .unwrap_or(kind)
}

fn is_charge(kind: &str) -> bool {
    matches!(kind, "upcharge" | "discount")
}

fn is_one_time(kind: &str) -> bool {
    matches!(kind, "one_time_fee" | "one_time_discount")
}

/// A rule as typed in the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Draft {
    pub name: String,
    pub kind: String,
    /// `percent` or `tiers` (upcharges and discounts).
    pub rate: String,
    pub percent: String,
    pub scope: String,
    pub mode: String,
    pub bands: Vec<(String, String)>,
    pub minimum: String,
    pub maximum: String,
    pub amount: String,
    pub currency: String,
    pub period: String,
    pub from: String,
    pub to: String,
    pub enabled: bool,
    pub sets: Sets,
}

impl Draft {
    /// A new rule of `kind`; periods start at `period`.
    pub(crate) fn new(kind: &str, period: &str) -> Self {
        let kind = if KINDS.iter().any(|(k, _)| *k == kind) {
            kind
        } else {
            "markup"
        };
        Draft {
            name: String::new(),
            kind: kind.to_string(),
            rate: "percent".into(),
            percent: String::new(),
            scope: "family".into(),
            mode: "graduated".into(),
            bands: vec![("0".into(), String::new())],
            minimum: String::new(),
            maximum: String::new(),
            amount: String::new(),
            currency: String::new(),
            period: period.to_string(),
            from: period.to_string(),
            to: String::new(),
            enabled: true,
            sets: vec![],
        }
    }

    pub(crate) fn from_file(f: &RuleFile) -> Self {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        Draft {
            name: f.name.clone(),
            kind: f.kind.clone(),
            rate: if f.tiers.is_some() {
                "tiers".into()
            } else {
                "percent".into()
            },
            percent: s(&f.percent),
            scope: f.scope.clone().unwrap_or_else(|| "family".into()),
            mode: f
                .tiers
                .as_ref()
                .and_then(|t| t.mode.clone())
                .unwrap_or_else(|| "graduated".into()),
            bands: f
                .tiers
                .as_ref()
                .map(|t| {
                    t.bands
                        .iter()
                        .map(|b| (b.from.clone(), b.percent.clone()))
                        .collect()
                })
                .unwrap_or_else(|| vec![("0".into(), String::new())]),
            minimum: s(&f.minimum),
            maximum: s(&f.maximum),
            amount: s(&f.amount),
            currency: s(&f.currency),
            period: s(&f.period),
            from: s(&f.from),
            to: s(&f.to),
            enabled: f.enabled.unwrap_or(true),
            sets: conditions::from_file(&f.when),
        }
    }

    /// Read the form; band rows left blank are dropped.
    pub(crate) fn from_form(form: &FormData) -> Self {
        let mut bands: std::collections::BTreeMap<usize, (String, String)> = Default::default();
        for (key, value) in &form.0 {
            if let Some((ix, field)) = conditions::indices(key, "tiers.bands")
                && let [k] = ix[..]
            {
                let band = bands.entry(k).or_default();
                match field {
                    "from" => band.0 = value.clone(),
                    "percent" => band.1 = value.clone(),
                    _ => {}
                }
            }
        }
        Draft {
            name: form.text("name"),
            kind: form.text("kind"),
            rate: form.get("rate").unwrap_or("percent").to_string(),
            percent: form.text("percent"),
            scope: form.get("scope").unwrap_or("family").to_string(),
            mode: form.get("tiers.mode").unwrap_or("graduated").to_string(),
            bands: Some(
                bands
                    .into_values()
                    .filter(|(f, p)| !f.trim().is_empty() || !p.trim().is_empty())
                    .collect::<Vec<_>>(),
            )
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| vec![("0".into(), String::new())]),
            minimum: form.text("minimum"),
            maximum: form.text("maximum"),
            amount: form.text("amount"),
            currency: form.text("currency"),
            period: form.text("period"),
            from: form.text("from"),
            to: form.text("to"),
            enabled: form.get("enabled").is_some(),
            sets: conditions::from_form(form, ""),
        }
    }

    /// The rule in the app's shape: only the fields of its kind.
    pub(crate) fn to_file(&self) -> RuleFile {
        let opt = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
        let kind = self.kind.trim();
        let charge = is_charge(kind);
        let tiers = charge && self.rate == "tiers";
        RuleFile {
            name: self.name.clone(),
            kind: kind.to_string(),
            percent: if matches!(kind, "markup" | "markdown") || (charge && !tiers) {
                opt(&self.percent)
            } else {
                None
            },
            scope: if charge { opt(&self.scope) } else { None },
            tiers: tiers.then(|| TiersFile {
                mode: opt(&self.mode),
                bands: self
                    .bands
                    .iter()
                    .map(|(from, percent)| BandFile {
                        from: from.trim().to_string(),
                        percent: percent.trim().to_string(),
                    })
                    .collect(),
            }),
            minimum: if charge { opt(&self.minimum) } else { None },
            maximum: if charge { opt(&self.maximum) } else { None },
            amount: if is_one_time(kind) || kind == "recurring_fee" {
                opt(&self.amount)
            } else {
                None
            },
            currency: if is_one_time(kind) || kind == "recurring_fee" {
                opt(&self.currency)
            } else {
                None
            },
            period: if is_one_time(kind) {
                opt(&self.period)
            } else {
                None
            },
            from: if kind == "recurring_fee" {
                opt(&self.from)
            } else {
                None
            },
            to: if kind == "recurring_fee" {
                opt(&self.to)
            } else {
                None
            },
            when: conditions::to_file(&self.sets),
            enabled: (!self.enabled).then_some(false),
        }
    }

    /// A row button: bands (`add:tiers.bands`, `del:tiers.bands[1]`) or conditions.
    pub(crate) fn act(&mut self, action: &str) -> bool {
        match action.split_once(':') {
            Some(("add", "tiers.bands")) => self.bands.push((String::new(), String::new())),
            Some(("del", path)) if path.starts_with("tiers.bands") => {
                match conditions::indices(path, "tiers.bands").map(|(ix, _)| ix) {
                    Some(ix) if ix.len() == 1 && ix[0] < self.bands.len() => {
                        self.bands.remove(ix[0]);
                    }
                    _ => return false,
                }
            }
            _ => return conditions::act(&mut self.sets, action),
        }
        true
    }
}

pub(crate) struct BandView {
    pub from: Input,
    pub percent: Input,
    pub remove: String,
}

/// The form as rendered.
pub(crate) struct RuleFormView {
    pub kind: String,
    pub rate: Input,
    pub name: Input,
    pub kind_input: Input,
    pub percent: Input,
    pub scope: Input,
    pub mode: Input,
    pub bands: Vec<BandView>,
    pub bands_error: Option<String>,
    pub rate_error: Option<String>,
    pub minimum: Input,
    pub maximum: Input,
    pub amount: Input,
    pub currency: Input,
    pub period: Input,
    pub from: Input,
    pub to: Input,
    pub enabled: bool,
    pub conditions: ConditionsView,
    pub leftover: Vec<String>,
}

impl RuleFormView {
    pub(crate) fn of(d: &Draft, errors: &Errors) -> Self {
        let mut view = RuleFormView {
            kind: d.kind.clone(),
            rate: errors.input("rate", d.rate.clone()),
            name: errors.input("name", d.name.clone()),
            kind_input: errors.input("kind", d.kind.clone()),
            percent: errors.input("percent", d.percent.clone()),
            scope: errors.input("scope", d.scope.clone()),
            mode: errors.input("tiers.mode", d.mode.clone()),
            bands: d
                .bands
                .iter()
                .enumerate()
                .map(|(k, (from, percent))| BandView {
                    from: errors.input(&format!("tiers.bands[{k}].from"), from.clone()),
                    percent: errors.input(&format!("tiers.bands[{k}].percent"), percent.clone()),
                    remove: format!("del:tiers.bands[{k}]"),
                })
                .collect(),
            bands_error: [errors.take("tiers.bands"), errors.take("tiers")]
                .into_iter()
                .flatten()
                .reduce(|a, b| a + " " + &b),
            rate_error: errors.take(""),
            minimum: errors.input("minimum", d.minimum.clone()),
            maximum: errors.input("maximum", d.maximum.clone()),
            amount: errors.input("amount", d.amount.clone()),
            currency: errors.input("currency", d.currency.clone()),
            period: errors.input("period", d.period.clone()),
            from: errors.input("from", d.from.clone()),
            to: errors.input("to", d.to.clone()),
            enabled: d.enabled,
            conditions: conditions::view(&d.sets, "", errors),
            leftover: vec![],
        };
        view.leftover = errors.unclaimed();
        view
    }

    pub(crate) fn kinds(&self) -> &'static [(&'static str, &'static str)] {
        &KINDS
    }

    pub(crate) fn scopes(&self) -> &'static [(&'static str, &'static str)] {
        &[("family", "Family"), ("sub_account", "Sub-account")]
    }

    pub(crate) fn rates(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("percent", "A percent of the spend"),
            ("tiers", "Tiers by spend"),
        ]
    }

    pub(crate) fn modes(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("graduated", "Graduated: each part at its band's percent"),
            ("volume", "Volume: all at the band reached"),
        ]
    }

    pub(crate) fn operators(&self) -> &'static [(&'static str, &'static str)] {
        &conditions::OPERATORS
    }

    pub(crate) fn has_percent(&self) -> bool {
        matches!(self.kind.as_str(), "markup" | "markdown")
            || (self.is_charge() && self.rate.value != "tiers")
    }

    pub(crate) fn is_charge(&self) -> bool {
        is_charge(&self.kind)
    }

    pub(crate) fn has_tiers(&self) -> bool {
        self.is_charge() && self.rate.value == "tiers"
    }

    pub(crate) fn is_one_time(&self) -> bool {
        is_one_time(&self.kind)
    }

    pub(crate) fn is_recurring(&self) -> bool {
        self.kind == "recurring_fee"
    }

    /// What the percent means for this kind.
    pub(crate) fn percent_hint(&self) -> &'static str {
        match self.kind.as_str() {
            "markup" => {
                "Added to each matching row's billed and effective cost (two 10 % markups give 21 %). More than 0, at most 1000."
            }
            "markdown" => {
                "Taken off each matching row's billed and effective cost. More than 0, at most 100."
            }
            "upcharge" => {
                "Of the scope's spend on matching rows, charged as a new line. At most 1000."
            }
            _ => "Of the scope's spend on matching rows, credited as a new line. At most 100.",
        }
    }
}

/// A rule in words, for the plan's list: `+10 %`, `graduated tiers: from 0 at 10 %, ...`.
pub(crate) fn describe(f: &RuleFile) -> String {
    let or = |v: &Option<String>| v.clone().unwrap_or_default();
    let currency = f
        .currency
        .as_ref()
        .map(|c| format!(" {c}"))
        .unwrap_or_default();
    match f.kind.as_str() {
        "markup" => format!("+{} % on each row", or(&f.percent)),
        "markdown" => format!("−{} % on each row", or(&f.percent)),
        "upcharge" | "discount" => {
            let scope = if f.scope.as_deref() == Some("sub_account") {
                "sub-account"
            } else {
                "family"
            };
            let rate = match &f.tiers {
                Some(t) => format!(
                    "{} tiers: {}",
                    t.mode.as_deref().unwrap_or("graduated"),
                    t.bands
                        .iter()
                        .map(|b| format!("from {} at {} %", b.from, b.percent))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None => format!("{} %", or(&f.percent)),
            };
            let mut out = format!("{rate} of each {scope}'s spend");
            if let Some(m) = &f.minimum {
                out.push_str(&format!(", minimum {m}"));
            }
            if let Some(m) = &f.maximum {
                out.push_str(&format!(", maximum {m}"));
            }
            out
        }
        "one_time_fee" | "one_time_discount" => {
            format!("{}{currency} in {}", or(&f.amount), or(&f.period))
        }
        "recurring_fee" => match &f.to {
            Some(to) => format!(
                "{}{currency} a month, {} to {to}",
                or(&f.amount),
                or(&f.from)
            ),
            None => format!("{}{currency} a month from {}", or(&f.amount), or(&f.from)),
        },
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> FormData {
        FormData(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn a_tiered_upcharge_from_the_form() {
        let d = Draft::from_form(&form(&[
            ("name", "Support fee"),
            ("kind", "upcharge"),
            ("rate", "tiers"),
            ("percent", "7"),
            ("scope", "family"),
            ("tiers.mode", "graduated"),
            ("tiers.bands[0].from", "0"),
            ("tiers.bands[0].percent", "10"),
            ("tiers.bands[1].from", ""),
            ("tiers.bands[1].percent", ""),
            ("tiers.bands[2].from", "100"),
            ("tiers.bands[2].percent", "5"),
            ("minimum", "29"),
            ("amount", "left over from another kind"),
            ("enabled", "on"),
        ]));
        let f = d.to_file();
        assert_eq!(f.percent, None, "tiers, not a percent");
        assert_eq!(f.amount, None, "fields of other kinds are not sent");
        let bands: Vec<(&str, &str)> = f
            .tiers
            .as_ref()
            .expect("tiers")
            .bands
            .iter()
            .map(|b| (b.from.as_str(), b.percent.as_str()))
            .collect();
        assert_eq!(
            bands,
            [("0", "10"), ("100", "5")],
            "the blank band is dropped"
        );
        assert_eq!((f.minimum.as_deref(), f.enabled), (Some("29"), None));
        assert_eq!(
            Draft::from_file(&f).to_file(),
            f,
            "the file reads back into the same form"
        );
    }

    #[test]
    fn a_disabled_markup_and_its_description() {
        let d = Draft::from_form(&form(&[
            ("name", "M"),
            ("kind", "markup"),
            ("percent", "10"),
            ("tiers.bands[0].from", "0"),
        ]));
        let f = d.to_file();
        assert_eq!((f.enabled, f.tiers.is_none()), (Some(false), true));
        assert_eq!(describe(&f), "+10 % on each row");
    }

    #[test]
    fn band_buttons() {
        let mut d = Draft::new("upcharge", "2026-10");
        assert!(d.act("add:tiers.bands"));
        assert_eq!(d.bands.len(), 2);
        assert!(d.act("del:tiers.bands[0]"));
        assert_eq!(d.bands.len(), 1);
        assert!(d.act("add:when"));
        assert_eq!(d.sets.len(), 1);
        assert!(!d.act("del:tiers.bands[9]"));
    }
}
