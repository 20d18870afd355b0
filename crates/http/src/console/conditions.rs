//! The condition editor shared by rules and allocation entries (engine.md 2.2): condition sets
//! joined by OR, each a list of conditions joined by AND, as repeating rows. Rows are added and
//! removed by buttons that send the form back (`act=add:when[0]`), so it works without
//! JavaScript; blank rows are dropped when the form is read, and the form is shown again from what
//! was read, so the app's paths (`when[0][1].value`) name the rows on the page.

use std::collections::BTreeMap;

use be_domain::pricing::file::ConditionFile;

use super::view::{Errors, FormData, Input};

/// Every operator, with the words the form shows.
pub(crate) const OPERATORS: [(&str, &str); 9] = [
    ("equals", "equals"),
    ("not_equals", "does not equal"),
    ("in", "is one of"),
    ("not_in", "is none of"),
    ("starts_with", "starts with"),
    ("contains", "contains"),
    ("matches", "matches (regular expression)"),
    ("exists", "exists"),
    ("not_exists", "does not exist"),
];

/// One condition as typed: `on` is `dimension` or `tag`; `value` holds one value per line for
/// `in` and `not_in`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CondDraft {
    pub on: String,
    pub name: String,
    pub op: String,
    pub value: String,
}

impl CondDraft {
    fn blank() -> Self {
        CondDraft {
            on: "dimension".into(),
            name: String::new(),
            op: "equals".into(),
            value: String::new(),
        }
    }

    fn is_blank(&self) -> bool {
        self.name.trim().is_empty() && self.value.trim().is_empty()
    }
}

pub(crate) type Sets = Vec<Vec<CondDraft>>;

pub(crate) fn from_file(when: &[Vec<ConditionFile>]) -> Sets {
    when.iter()
        .map(|set| {
            set.iter()
                .map(|c| CondDraft {
                    on: if c.tag.is_some() {
                        "tag".into()
                    } else {
                        "dimension".into()
                    },
                    name: c
                        .tag
                        .clone()
                        .or_else(|| c.dimension.clone())
                        .unwrap_or_default(),
                    op: c.op.clone(),
                    value: c
                        .values
                        .as_ref()
                        .map(|v| v.join("\n"))
                        .or_else(|| c.value.clone())
                        .unwrap_or_default(),
                })
                .collect()
        })
        .collect()
}

pub(crate) fn to_file(sets: &Sets) -> Vec<Vec<ConditionFile>> {
    sets.iter()
        .map(|set| set.iter().map(condition_file).collect())
        .collect()
}

fn condition_file(c: &CondDraft) -> ConditionFile {
    let name = c.name.trim().to_string();
    let (dimension, tag) = if c.on == "tag" {
        (None, Some(name))
    } else {
        (Some(name), None)
    };
    let lines: Vec<String> = c
        .value
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    let single = Some(c.value.trim().to_string()).filter(|v| !v.is_empty());
    let (value, values) = match c.op.as_str() {
        "in" | "not_in" => (None, Some(lines).filter(|l| !l.is_empty())),
        "exists" | "not_exists" => (None, None),
        _ => (single, None),
    };
    ConditionFile {
        dimension,
        tag,
        op: c.op.clone(),
        value,
        values,
    }
}

/// `head[1][2].rest` read as `([1, 2], "rest")`; `None` when `key` does not start with `head[`.
pub(crate) fn indices<'a>(key: &'a str, head: &str) -> Option<(Vec<usize>, &'a str)> {
    let mut rest = key.strip_prefix(head)?;
    let mut out = vec![];
    while let Some(after) = rest.strip_prefix('[') {
        let close = after.find(']')?;
        out.push(after[..close].parse().ok()?);
        rest = &after[close + 1..];
    }
    if out.is_empty() {
        return None;
    }
    Some((out, rest.strip_prefix('.').unwrap_or(rest)))
}

/// The condition sets of a form under `prefix` (`""` for a rule, `entries[0].` for an entry).
pub(crate) fn from_form(form: &FormData, prefix: &str) -> Sets {
    let head = format!("{prefix}when");
    let mut rows: BTreeMap<(usize, usize), CondDraft> = BTreeMap::new();
    for (key, value) in &form.0 {
        let Some((ix, field)) = indices(key, &head) else {
            continue;
        };
        let [i, j] = ix[..] else { continue };
        let row = rows.entry((i, j)).or_insert_with(CondDraft::blank);
        match field {
            "on" => row.on = value.clone(),
            "name" => row.name = value.clone(),
            "op" => row.op = value.clone(),
            "value" => row.value = value.clone(),
            _ => {}
        }
    }
    let mut sets: BTreeMap<usize, Vec<CondDraft>> = BTreeMap::new();
    for ((i, _), row) in rows.into_iter().filter(|(_, r)| !r.is_blank()) {
        sets.entry(i).or_default().push(row);
    }
    sets.into_values().collect()
}

/// Apply a row button (`add:when`, `add:when[0]`, `del:when[0][1]`) relative to this editor;
/// `false` when the action is not about conditions.
pub(crate) fn act(sets: &mut Sets, action: &str) -> bool {
    match action.split_once(':') {
        Some(("add", "when")) => sets.push(vec![CondDraft::blank()]),
        Some(("add", path)) => match indices(path, "when").map(|(ix, _)| ix) {
            Some(ix) if ix.len() == 1 && ix[0] < sets.len() => sets[ix[0]].push(CondDraft::blank()),
            _ => return false,
        },
        Some(("del", path)) => match indices(path, "when").map(|(ix, _)| ix) {
            Some(ix) if ix.len() == 2 && ix[0] < sets.len() && ix[1] < sets[ix[0]].len() => {
                sets[ix[0]].remove(ix[1]);
                if sets[ix[0]].is_empty() {
                    sets.remove(ix[0]);
                }
            }
            _ => return false,
        },
        _ => return false,
    }
    true
}

pub(crate) struct CondRowView {
    pub on: Input,
    pub name: Input,
    pub op: Input,
    pub value: Input,
    pub error: Option<String>,
    pub remove: String,
}

pub(crate) struct SetView {
    pub number: usize,
    pub add: String,
    pub error: Option<String>,
    pub rows: Vec<CondRowView>,
}

pub(crate) struct ConditionsView {
    /// `when` under the form's prefix (the button that adds a set).
    pub add_set: String,
    pub sets: Vec<SetView>,
    pub error: Option<String>,
}

/// The editor as rendered, each message beside its row or field.
pub(crate) fn view(sets: &Sets, prefix: &str, errors: &Errors) -> ConditionsView {
    let sets = sets
        .iter()
        .enumerate()
        .map(|(i, set)| SetView {
            number: i + 1,
            add: format!("add:{prefix}when[{i}]"),
            error: errors.take(&format!("{prefix}when[{i}]")),
            rows: set
                .iter()
                .enumerate()
                .map(|(j, c)| {
                    let p = format!("{prefix}when[{i}][{j}]");
                    let mut name = errors.input(&format!("{p}.name"), c.name.clone());
                    let dimension = [
                        errors.take(&format!("{p}.dimension")),
                        errors.take(&format!("{p}.tag")),
                    ]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>();
                    if !dimension.is_empty() {
                        name.error = Some(dimension.join(" "));
                    }
                    let mut value = errors.input(&format!("{p}.value"), c.value.clone());
                    if let Some(e) = errors.take(&format!("{p}.values")) {
                        value.error = Some(e);
                    }
                    CondRowView {
                        on: errors.input(&format!("{p}.on"), c.on.clone()),
                        op: errors.input(&format!("{p}.op"), c.op.clone()),
                        name,
                        value,
                        error: errors.take(&p),
                        remove: format!("del:{p}"),
                    }
                })
                .collect(),
        })
        .collect();
    ConditionsView {
        add_set: format!("add:{prefix}when"),
        sets,
        error: errors.take(&format!("{prefix}when")),
    }
}

/// A filter in words: `ServiceName equals "Storage" or tag:team exists`; every row when empty.
pub(crate) fn describe(when: &[Vec<ConditionFile>]) -> String {
    if when.is_empty() {
        return "every row".into();
    }
    when.iter()
        .map(|set| {
            set.iter()
                .map(|c| {
                    let who = c
                        .tag
                        .as_ref()
                        .map(|t| format!("tag:{t}"))
                        .or_else(|| c.dimension.clone())
                        .unwrap_or_default();
                    let words = OPERATORS
                        .iter()
                        .find(|(code, _)| *code == c.op)
                        .map(|(_, w)| *w)
                        .unwrap_or(c.op.as_str());
                    let what = match (&c.value, &c.values) {
                        (Some(v), _) => format!(" \"{v}\""),
                        (None, Some(vs)) => format!(" [{}]", vs.join(", ")),
                        _ => String::new(),
                    };
                    format!("{who} {words}{what}")
                })
                .collect::<Vec<_>>()
                .join(" and ")
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Names a condition may use, offered as suggestions: the FOCUS text columns, the family and
/// the allocation keys.
pub(crate) fn dimension_suggestions(allocation_keys: &[String]) -> Vec<String> {
    let focus = be_domain::FOCUS_COLUMNS
        .iter()
        .filter(|(_, t)| *t == be_domain::FocusType::Text)
        .map(|(n, _)| n.to_string());
    std::iter::once(be_domain::FAMILY_DIMENSION.to_string())
        .chain(allocation_keys.iter().cloned())
        .chain(focus)
        .collect()
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
    fn blank_rows_are_dropped_and_the_rest_renumbered() {
        let f = form(&[
            ("when[0][0].on", "dimension"),
            ("when[0][0].name", "ServiceName"),
            ("when[0][0].op", "equals"),
            ("when[0][0].value", "Storage"),
            ("when[0][1].on", "dimension"),
            ("when[0][1].name", ""),
            ("when[0][1].op", "equals"),
            ("when[0][1].value", ""),
            ("when[2][0].on", "tag"),
            ("when[2][0].name", "team"),
            ("when[2][0].op", "in"),
            ("when[2][0].value", "data\n web \n"),
        ]);
        let sets = from_form(&f, "");
        assert_eq!(sets.len(), 2);
        let file = to_file(&sets);
        assert_eq!(file[0][0].dimension.as_deref(), Some("ServiceName"));
        assert_eq!(file[0][0].value.as_deref(), Some("Storage"));
        assert_eq!(file[1][0].tag.as_deref(), Some("team"));
        assert_eq!(
            file[1][0].values,
            Some(vec!["data".to_string(), "web".to_string()])
        );
        assert_eq!(
            to_file(&from_file(&file)),
            file,
            "the file reads back into the same rows"
        );
    }

    #[test]
    fn row_buttons_add_and_remove() {
        let mut sets: Sets = vec![];
        assert!(act(&mut sets, "add:when"));
        assert!(act(&mut sets, "add:when[0]"));
        assert_eq!(sets[0].len(), 2);
        assert!(act(&mut sets, "del:when[0][1]"));
        assert!(act(&mut sets, "del:when[0][0]"));
        assert!(sets.is_empty(), "a set without rows goes");
        assert!(!act(&mut sets, "add:bands"));
        assert!(!act(&mut sets, "del:when[5][0]"));
    }

    #[test]
    fn a_filter_reads_as_words() {
        let sets = vec![vec![CondDraft {
            on: "dimension".into(),
            name: "ServiceName".into(),
            op: "equals".into(),
            value: "Storage".into(),
        }]];
        assert_eq!(describe(&to_file(&sets)), "ServiceName equals \"Storage\"");
        assert_eq!(describe(&[]), "every row");
    }
}
