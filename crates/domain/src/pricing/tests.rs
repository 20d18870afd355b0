use super::file::ConfigFile;
use super::*;
use crate::{BillingPeriod, Dimension};

fn example_text() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/engine/example-config.json");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn period(s: &str) -> BillingPeriod {
    BillingPeriod::parse(s).expect("period")
}

fn read(json: &str) -> Result<PricingConfig, Vec<FieldError>> {
    let file: ConfigFile = serde_json::from_str(json).expect("file shape");
    file.into_config(&PricingConfig::default(), period("2026-11"))
}

fn example() -> PricingConfig {
    read(&example_text()).unwrap_or_else(|e| panic!("the example must import unchanged: {e:?}"))
}

#[test]
fn the_example_imports_and_exports_unchanged() {
    let config = example();
    let exported = serde_json::to_value(ConfigFile::from_config(&config)).expect("json");
    let original: serde_json::Value = serde_json::from_str(&example_text()).expect("json");
    assert_eq!(exported, original);
}

#[test]
fn importing_again_keeps_every_id() {
    let first = example();
    let file: ConfigFile = serde_json::from_str(&example_text()).expect("file");
    let second = file.into_config(&first, period("2026-11")).expect("valid");
    assert_eq!(first, second);
}

#[test]
fn the_example_for_october_2026() {
    let c = example().for_period(period("2026-10"));
    assert_eq!(c.strategy.credits, CreditsStrategy::Hide);
    assert_eq!(c.strategy.commitments, CommitmentStrategy::Unshared);
    let sub = |s: &str| SubAccountId::parse(s).expect("sub");
    let plan_name = |s: &str| {
        c.plan_of(&sub(s))
            .and_then(|id| c.plans.iter().find(|p| p.id == id))
            .map(|p| p.name.clone())
    };
    assert_eq!(plan_name("sub-A").as_deref(), Some("Standard"));
    assert_eq!(
        plan_name("sub-C").as_deref(),
        Some("Gold"),
        "the sub-account's own plan wins over its family's"
    );
    assert_eq!(plan_name("sub-D"), None);
    assert_eq!(
        c.family_of(&sub("sub-C")).map(|f| f.1.as_str()),
        Some("Fabrikam")
    );
    let gold = c.plans.iter().find(|p| p.name == "Gold").expect("gold");
    assert_eq!(
        gold.rules.len(),
        2,
        "the one-time fee applies in its period"
    );
    let november = example().for_period(period("2026-11"));
    let gold = november
        .plans
        .iter()
        .find(|p| p.name == "Gold")
        .expect("gold");
    assert_eq!(gold.rules.len(), 1, "and not in another");
}

fn problems_of(json: &str) -> Vec<(String, &'static str)> {
    read(json)
        .expect_err("invalid")
        .into_iter()
        .map(|e| (e.field.to_string(), e.code))
        .collect()
}

#[test]
fn a_split_that_does_not_sum_to_100_names_the_sum() {
    let json = r#"{"version":1,"allocations":[{"key":"CostCenter","entries":[{"when":[[{"dimension":"ServiceName","op":"exists"}]],
        "values":[{"value":"A","percent":"33.33"},{"value":"B","percent":"66.66"}]}]}]}"#;
    let errs = read(json).expect_err("99.99");
    assert_eq!(errs[0].code, "allocation_split_sum");
    assert_eq!(errs[0].field, "allocations[0].entries[0].values");
    assert!(errs[0].message.contains("99.99"), "{}", errs[0].message);
}

#[test]
fn every_kind_of_bad_input_is_named_with_its_path() {
    let json = r#"{"version":1,
      "families":[{"name":"A","members":[{"sub_account_id":"s1","from":"2026-01"}]},
                  {"name":"a","members":[{"sub_account_id":"s1","from":"2026-05"}]}],
      "plans":[{"name":"P","assigned_to":[{"family":"Nope"}],"rules":[
        {"name":"huge","kind":"markup","percent":"1000000000"},
        {"name":"tiers","kind":"upcharge","tiers":{"bands":[{"from":"0","percent":"10"},{"from":"100","percent":"5"},{"from":"50","percent":"1"}]}},
        {"name":"regex","kind":"markup","percent":"1","when":[[{"dimension":"ServiceName","op":"matches","value":"(unclosed"}]]},
        {"name":"dim","kind":"markup","percent":"1","when":[[{"dimension":"Servicename","op":"equals","value":"x"}]]},
        {"name":"fee","kind":"one_time_fee","amount":"15.5","currency":"JPY","period":"2026-10"},
        {"name":"kind","kind":"surcharge"}
      ]}]}"#;
    let got = problems_of(json);
    let expect = [
        ("plans[0].assigned_to[0].family", "family_not_found"),
        ("plans[0].rules[2].when[0][0].value", "pattern_invalid"),
        (
            "plans[0].rules[3].when[0][0].dimension",
            "dimension_unknown",
        ),
        ("plans[0].rules[5].kind", "rule_kind_unknown"),
    ];
    for (path, code) in expect {
        assert!(
            got.iter().any(|(p, c)| p == path && *c == code),
            "missing {path} {code} in {got:?}"
        );
    }
    // Values that parse are checked as a whole once the file reads.
    let json = r#"{"version":1,
      "families":[{"name":"A","members":[{"sub_account_id":"s1","from":"2026-01"}]},
                  {"name":"a","members":[{"sub_account_id":"s1","from":"2026-05"}]}],
      "plans":[{"name":"P","rules":[
        {"name":"huge","kind":"markup","percent":"1000000000"},
        {"name":"tiers","kind":"upcharge","tiers":{"bands":[{"from":"0","percent":"10"},{"from":"100","percent":"5"},{"from":"50","percent":"1"}]}},
        {"name":"fee","kind":"one_time_fee","amount":"15.5","currency":"JPY","period":"2026-10"},
        {"name":"Fee","kind":"one_time_fee","amount":"1","period":"2026-10"}
      ]}]}"#;
    let got = problems_of(json);
    let expect = [
        ("families[1].name", "family_name_taken"),
        (
            "families[1].members[0].sub_account_id",
            "sub_account_in_two_families",
        ),
        ("plans[0].rules[0].percent", "percent_out_of_range"),
        ("plans[0].rules[1].tiers.bands[2].from", "tiers_order"),
        ("plans[0].rules[2].amount", "amount_currency_precision"),
        ("plans[0].rules[3].name", "rule_name_taken"),
    ];
    for (path, code) in expect {
        assert!(
            got.iter().any(|(p, c)| p == path && *c == code),
            "missing {path} {code} in {got:?}"
        );
    }
}

#[test]
fn unknown_fields_are_refused_not_ignored() {
    let err =
        serde_json::from_str::<ConfigFile>(r#"{"version":1,"plans":[{"name":"P","rulez":[]}]}"#)
            .expect_err("typo");
    assert!(err.to_string().contains("rulez"), "{err}");
}

#[test]
fn conditions_treat_empty_as_missing() {
    let f = Filter(vec![ConditionSet(vec![Condition {
        dimension: Dimension::Tag("team".into()),
        op: Operator::NotEquals("data".into()),
    }])]);
    assert!(f.matches(|_| None));
    assert!(f.matches(|_| Some("")));
    assert!(!f.matches(|_| Some("data")));
    let exists = Operator::Exists;
    assert!(!exists.accepts(Some(""), None));
    let re = Operator::Matches(Pattern::parse("^web-", "value").expect("re"));
    assert!(re.accepts(Some("web-1"), None) && !re.accepts(Some("db-web-1"), None));
}

#[test]
fn stored_documents_round_trip() {
    let c = example();
    let text = serde_json::to_string(&c).expect("store");
    let back: PricingConfig = serde_json::from_str(&text).expect("load");
    assert_eq!(back, c);
}
