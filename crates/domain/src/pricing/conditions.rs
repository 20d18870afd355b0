//! Conditions over dimensions (engine.md 2.2): `dimension operator value`, AND within a set, OR
//! across sets. An empty or missing value (null, or an empty string) does not exist: it matches only
//! `not_equals`, `not_in` and `not_exists`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Dimension, FieldError};

/// Condition sets joined by OR; no set at all matches every row.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Filter(pub Vec<ConditionSet>);

/// Conditions joined by AND (never empty once validated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConditionSet(pub Vec<Condition>);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    pub dimension: Dimension,
    pub op: Operator,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", content = "value", rename_all = "snake_case")]
pub enum Operator {
    Equals(String),
    NotEquals(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    StartsWith(String),
    Contains(String),
    /// A regular expression (Rust `regex` syntax, the same DataFusion uses), matched anywhere in the
    /// value unless anchored.
    Matches(Pattern),
    Exists,
    NotExists,
}

impl Operator {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Equals(_) => "equals",
            Self::NotEquals(_) => "not_equals",
            Self::In(_) => "in",
            Self::NotIn(_) => "not_in",
            Self::StartsWith(_) => "starts_with",
            Self::Contains(_) => "contains",
            Self::Matches(_) => "matches",
            Self::Exists => "exists",
            Self::NotExists => "not_exists",
        }
    }

    /// The semantics for one value (`None`: null or empty).
    pub fn accepts(&self, value: Option<&str>, compiled: Option<&regex::Regex>) -> bool {
        let value = value.filter(|v| !v.is_empty());
        match (self, value) {
            (Self::NotEquals(_) | Self::NotIn(_) | Self::NotExists, None) => true,
            (_, None) => false,
            (Self::Equals(x), Some(v)) => v == x,
            (Self::NotEquals(x), Some(v)) => v != x,
            (Self::In(xs), Some(v)) => xs.iter().any(|x| x == v),
            (Self::NotIn(xs), Some(v)) => !xs.iter().any(|x| x == v),
            (Self::StartsWith(x), Some(v)) => v.starts_with(x.as_str()),
            (Self::Contains(x), Some(v)) => v.contains(x.as_str()),
            (Self::Matches(p), Some(v)) => match compiled {
                Some(re) => re.is_match(v),
                None => p.compile().is_match(v),
            },
            (Self::Exists, Some(_)) => true,
            (Self::NotExists, Some(_)) => false,
        }
    }
}

/// A regular expression that compiles (checked when parsed), at most 1,000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(String);

impl Pattern {
    pub const MAX_CHARS: usize = 1000;

    pub fn parse(raw: &str, field: &'static str) -> Result<Self, FieldError> {
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::new(
                field,
                "pattern_too_long",
                format!("A pattern is at most {} characters.", Self::MAX_CHARS),
            ));
        }
        regex::RegexBuilder::new(raw)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| {
                let detail = e
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or_default()
                    .trim()
                    .to_string();
                FieldError::new(
                    field,
                    "pattern_invalid",
                    format!("{raw:?} is not a valid regular expression: {detail}"),
                )
            })?;
        Ok(Self(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The compiled expression (valid by construction).
    pub fn compile(&self) -> regex::Regex {
        regex::Regex::new(&self.0).expect("a Pattern compiles: checked when parsed")
    }
}

impl Serialize for Pattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?, "value").map_err(serde::de::Error::custom)
    }
}

impl Filter {
    pub fn all() -> Self {
        Self(vec![])
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every dimension the filter reads.
    pub fn dimensions(&self) -> impl Iterator<Item = &Dimension> {
        self.0.iter().flat_map(|s| s.0.iter().map(|c| &c.dimension))
    }

    /// Whether a row matches, given the value of each dimension for that row.
    pub fn matches<'a>(&self, value_of: impl Fn(&Dimension) -> Option<&'a str>) -> bool {
        self.0.is_empty()
            || self.0.iter().any(|set| {
                set.0
                    .iter()
                    .all(|c| c.op.accepts(value_of(&c.dimension), None))
            })
    }
}
