//! What the console's pages share: money for people (exact on hover), form inputs with the
//! app's message beside each, the raw pairs of a submitted form, and notices.

use std::cell::RefCell;
use std::collections::BTreeSet;

use be_app::AppError;
use be_domain::{BillingPeriod, Currency, Exact};

/// An amount as a person reads it (`USD 256.21`), with the exact value for the `title`.
pub(crate) struct Money {
    pub text: String,
    pub exact: String,
    pub negative: bool,
}

impl Money {
    pub(crate) fn of(v: Exact, currency: Option<&str>) -> Self {
        let currency = currency.and_then(|c| Currency::parse(c).ok());
        let exact = match currency {
            Some(c) => format!("{} {v}", c.code()),
            None => v.to_string(),
        };
        Money {
            text: v.display_in(currency),
            exact,
            negative: v.is_negative(),
        }
    }

    /// Exact decimal text as stored (a run's totals); shown as is when it does not parse.
    pub(crate) fn of_text(text: &str, currency: Option<&str>) -> Self {
        match Exact::parse(text) {
            Some(v) => Self::of(v, currency),
            None => Money {
                text: text.to_string(),
                exact: text.to_string(),
                negative: false,
            },
        }
    }
}

/// A text input as rendered: its name (the app's field path), an id safe for CSS and `for`, the
/// value entered, and the app's message about it.
pub(crate) struct Input {
    pub name: String,
    pub id: String,
    pub value: String,
    pub error: Option<String>,
}

/// An id for a field path: `tiers.bands[1].from` becomes `f-tiers-bands-1-from`.
pub(crate) fn id_of(name: &str) -> String {
    let mut id = String::from("f");
    for part in name
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|p| !p.is_empty())
    {
        id.push('-');
        id.push_str(part);
    }
    id
}

/// The app's field errors of one refused form, by local path. Each input built through
/// [`Errors::input`] claims its message; what no input claimed is listed above the form.
#[derive(Default)]
pub(crate) struct Errors {
    fields: Vec<(String, String)>,
    general: Option<String>,
    claimed: RefCell<BTreeSet<String>>,
}

impl Errors {
    /// `aliases` rename fields the form calls otherwise (`period` is the form's `from`).
    pub(crate) fn of(err: &AppError, aliases: &[(&str, &str)]) -> Self {
        let fields: Vec<(String, String)> = err
            .field_errors()
            .into_iter()
            .map(|f| {
                let local = local_path(&f.field);
                let name = aliases
                    .iter()
                    .find(|(from, _)| *from == local)
                    .map(|(_, to)| to.to_string())
                    .unwrap_or(local);
                (name, f.message)
            })
            .collect();
        let general = fields.is_empty().then(|| err.public_message());
        Errors {
            fields,
            general,
            claimed: RefCell::default(),
        }
    }

    pub(crate) fn none() -> Self {
        Self::default()
    }

    /// Paths the form names otherwise by their head: `filter[0][1].value` is `when[0][1].value`.
    pub(crate) fn renamed_head(mut self, from: &str, to: &str) -> Self {
        for (f, _) in &mut self.fields {
            if let Some(rest) = f.strip_prefix(from)
                && (rest.is_empty() || rest.starts_with(['[', '.']))
            {
                *f = format!("{to}{rest}");
            }
        }
        self
    }

    /// The messages about `head` and every path below it, claimed.
    pub(crate) fn take_under(&self, head: &str) -> Option<String> {
        let names: BTreeSet<String> = self
            .fields
            .iter()
            .filter(|(f, _)| {
                f == head
                    || f.starts_with(&format!("{head}."))
                    || f.starts_with(&format!("{head}["))
            })
            .map(|(f, _)| f.clone())
            .collect();
        let found: Vec<String> = names.iter().filter_map(|n| self.take(n)).collect();
        (!found.is_empty()).then(|| found.join(" "))
    }

    /// The message(s) about `name`, claimed.
    pub(crate) fn take(&self, name: &str) -> Option<String> {
        let found: Vec<&str> = self
            .fields
            .iter()
            .filter(|(f, _)| f == name)
            .map(|(_, m)| m.as_str())
            .collect();
        if found.is_empty() {
            return None;
        }
        self.claimed.borrow_mut().insert(name.to_string());
        Some(found.join(" "))
    }

    pub(crate) fn input(&self, name: &str, value: impl Into<String>) -> Input {
        Input {
            name: name.to_string(),
            id: id_of(name),
            value: value.into(),
            error: self.take(name),
        }
    }

    /// Messages no input showed (and an error that names no field at all).
    pub(crate) fn unclaimed(&self) -> Vec<String> {
        let claimed = self.claimed.borrow();
        self.general
            .iter()
            .cloned()
            .chain(
                self.fields
                    .iter()
                    .filter(|(f, _)| !claimed.contains(f))
                    .map(|(f, m)| {
                        if f.is_empty() {
                            m.clone()
                        } else {
                            format!("{m} ({f})")
                        }
                    }),
            )
            .collect()
    }
}

/// A field path relative to the part a form edits: whole-configuration checks name
/// `plans[0].rules[2].tiers.bands[1].from`; the rule's form calls it `tiers.bands[1].from`.
pub(crate) fn local_path(path: &str) -> String {
    if let Some(rest) = strip_indexed(path, "plans") {
        return strip_indexed(rest, "rules").unwrap_or(rest).to_string();
    }
    ["families", "allocations", "strategies"]
        .iter()
        .find_map(|head| strip_indexed(path, head))
        .unwrap_or(path)
        .to_string()
}

/// `name[12].rest` without `name[12].`; `None` when `path` does not start so.
fn strip_indexed<'a>(path: &'a str, name: &str) -> Option<&'a str> {
    let after = path.strip_prefix(name)?.strip_prefix('[')?;
    let close = after.find(']')?;
    if close == 0 || !after[..close].bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        after[close + 1..]
            .strip_prefix('.')
            .unwrap_or(&after[close + 1..]),
    )
}

/// The pairs of a submitted form, in order (repeated names and indexed paths included).
pub(crate) struct FormData(pub Vec<(String, String)>);

impl FormData {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value, or empty.
    pub(crate) fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_string()
    }

    /// The trimmed value, when not empty.
    pub(crate) fn opt(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    pub(crate) fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// The month forms start from: the latest month with data, else the current one (an analyst in
/// November prices October).
pub(crate) fn default_period(
    data_periods: impl IntoIterator<Item = String>,
    now: BillingPeriod,
) -> String {
    data_periods
        .into_iter()
        .filter_map(|p| BillingPeriod::parse(&p).ok())
        .max()
        .unwrap_or(now)
        .to_string()
}

/// A path segment for a redirect built from an ID the app issued (letters, digits, `-`, `_`).
pub(crate) fn safe_segment(id: &str) -> Option<&str> {
    (!id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then_some(id)
}

/// `application/x-www-form-urlencoded` text of one value.
pub(crate) fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_configuration_paths_become_the_forms_own() {
        assert_eq!(
            local_path("plans[0].rules[2].tiers.bands[1].from"),
            "tiers.bands[1].from"
        );
        assert_eq!(
            local_path("allocations[3].entries[0].values"),
            "entries[0].values"
        );
        assert_eq!(local_path("families[1].name"), "name");
        assert_eq!(local_path("strategies[0].from"), "from");
        assert_eq!(local_path("tiers.bands[1].from"), "tiers.bands[1].from");
        assert_eq!(
            local_path("rules[0].name"),
            "rules[0].name",
            "rules only below a plan"
        );
        assert_eq!(local_path("plans[x].name"), "plans[x].name");
    }

    #[test]
    fn ids_are_safe_for_selectors() {
        assert_eq!(id_of("tiers.bands[1].from"), "f-tiers-bands-1-from");
        assert_eq!(id_of("when[0][2].value"), "f-when-0-2-value");
    }

    #[test]
    fn money_is_rounded_for_people_and_exact_on_hover() {
        let m = Money::of(Exact::parse("256.2125").expect("exact"), Some("USD"));
        assert_eq!(
            (m.text.as_str(), m.exact.as_str(), m.negative),
            ("USD 256.21", "USD 256.2125", false)
        );
        assert!(Money::of(Exact::parse("-5").expect("exact"), Some("USD")).negative);
    }
}
