//! What changes between two configurations, in words a person reviews before applying an import
//! (the dry run of rules as code). Entities are matched by name, as the file names them.

use serde_json::Value;

use super::file::ConfigFile;

/// One line per difference, prefixed `+` (added), `-` (removed) or `~` (changed).
pub fn diff(old: &ConfigFile, new: &ConfigFile) -> Vec<String> {
    let mut out = Vec::new();
    named(
        &mut out,
        "strategy set from",
        &old.strategies,
        &new.strategies,
        |s| s.from.clone(),
    );
    named(&mut out, "family", &old.families, &new.families, |f| {
        f.name.clone()
    });
    named(
        &mut out,
        "allocation",
        &old.allocations,
        &new.allocations,
        |a| a.key.clone(),
    );
    let old_keys: Vec<String> = old.allocations.iter().map(|a| a.key.clone()).collect();
    let new_keys: Vec<String> = new
        .allocations
        .iter()
        .map(|a| a.key.clone())
        .filter(|k| old_keys.contains(k))
        .collect();
    if old_keys
        .iter()
        .filter(|k| new_keys.contains(k))
        .cloned()
        .collect::<Vec<_>>()
        != new_keys
    {
        out.push("~ allocations: new order".into());
    }
    for p in &new.plans {
        match old
            .plans
            .iter()
            .find(|o| o.name.eq_ignore_ascii_case(&p.name))
        {
            None => out.push(format!("+ plan {:?} ({} rules)", p.name, p.rules.len())),
            Some(o) => {
                if json(&o.assigned_to) != json(&p.assigned_to) {
                    out.push(format!(
                        "~ plan {:?}: assignments {} -> {}",
                        p.name,
                        json(&o.assigned_to),
                        json(&p.assigned_to)
                    ));
                }
                let scope = format!("plan {:?}: rule", p.name);
                named(&mut out, &scope, &o.rules, &p.rules, |r| r.name.clone());
                let names = |rs: &[super::file::RuleFile]| {
                    rs.iter().map(|r| r.name.to_lowercase()).collect::<Vec<_>>()
                };
                let (before, after) = (names(&o.rules), names(&p.rules));
                let kept_before: Vec<&String> =
                    before.iter().filter(|n| after.contains(n)).collect();
                let kept_after: Vec<&String> =
                    after.iter().filter(|n| before.contains(n)).collect();
                if kept_before != kept_after {
                    out.push(format!("~ plan {:?}: rules in a new order", p.name));
                }
            }
        }
    }
    for o in old.plans.iter().filter(|o| {
        !new.plans
            .iter()
            .any(|p| p.name.eq_ignore_ascii_case(&o.name))
    }) {
        out.push(format!("- plan {:?}", o.name));
    }
    out
}

fn json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Added, removed and changed entities of one kind, matched by name (ignoring case).
fn named<T: serde::Serialize>(
    out: &mut Vec<String>,
    what: &str,
    old: &[T],
    new: &[T],
    name: impl Fn(&T) -> String,
) {
    for n in new {
        match old.iter().find(|o| name(o).eq_ignore_ascii_case(&name(n))) {
            None => out.push(format!("+ {what} {:?}: {}", name(n), json(n))),
            Some(o) if json(o) != json(n) => out.push(format!(
                "~ {what} {:?}: {} -> {}",
                name(n),
                json(o),
                json(n)
            )),
            Some(_) => {}
        }
    }
    for o in old
        .iter()
        .filter(|o| !new.iter().any(|n| name(n).eq_ignore_ascii_case(&name(o))))
    {
        out.push(format!("- {what} {:?}", name(o)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(json: &str) -> ConfigFile {
        serde_json::from_str(json).expect("file")
    }

    #[test]
    fn the_same_file_has_no_difference_and_changes_are_named() {
        let a = file(
            r#"{"version":1,"families":[{"name":"A","members":[]}],"plans":[{"name":"P","rules":[{"name":"m","kind":"markup","percent":"10"}]}]}"#,
        );
        assert!(diff(&a, &a).is_empty());
        let b = file(
            r#"{"version":1,"families":[{"name":"B","members":[]}],"plans":[{"name":"P","rules":[{"name":"m","kind":"markup","percent":"12"}]}]}"#,
        );
        let d = diff(&a, &b);
        assert!(d.iter().any(|l| l.starts_with("+ family \"B\"")), "{d:?}");
        assert!(d.iter().any(|l| l == "- family \"A\""), "{d:?}");
        assert!(
            d.iter()
                .any(|l| l.starts_with("~ plan \"P\": rule \"m\"") && l.contains("\"12\"")),
            "{d:?}"
        );
    }
}
