//! The engine's two scalar functions. They take only columns and literals (no hidden state), so a
//! plan that uses them stays serializable for a distributed DataFusion.
//!
//! - `be_mul_ratio(money, num, den)`: `money × num / den` rounded half-even at 24 places, exactly
//!   (an `i256` intermediate). DataFusion's own decimal multiply would widen the scale past 38
//!   digits, and its `round` rounds half away from zero.
//! - `be_tag(tags, key)`: the value of one tag from a FOCUS `Tags` JSON object (null when absent).

use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{ArrayRef, AsArray, Decimal128Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Decimal128Type};
use datafusion::common::{DataFusionError, Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility, lit,
};

use crate::money::{self, PRECISION, SCALE};

/// The stored money type.
pub fn money_type() -> DataType {
    DataType::Decimal128(PRECISION, SCALE as i8)
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct MulRatio {
    signature: Signature,
}

fn scalar_i64(v: &ColumnarValue, what: &str) -> Result<i128> {
    match v {
        ColumnarValue::Scalar(ScalarValue::Int64(Some(n))) => Ok(i128::from(*n)),
        _ => exec_err!("be_mul_ratio: the {what} must be an Int64 literal"),
    }
}

impl ScalarUDFImpl for MulRatio {
    fn name(&self) -> &str {
        "be_mul_ratio"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(money_type())
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (num, den) = (
            scalar_i64(&args.args[1], "numerator")?,
            scalar_i64(&args.args[2], "denominator")?,
        );
        if den <= 0 {
            return exec_err!("be_mul_ratio: the denominator must be positive");
        }
        let values = args.args[0].to_array(args.number_rows)?;
        let values = values.as_primitive::<Decimal128Type>();
        let overflow = std::cell::Cell::new(false);
        let out: Decimal128Array = values.unary_opt(|x| {
            let r = money::mul_ratio(x, num, den);
            if r.is_none() {
                overflow.set(true);
            }
            r
        });
        if overflow.get() {
            return Err(DataFusionError::Execution(
                "rating_overflow: a product does not fit Decimal128(38, 24)".into(),
            ));
        }
        Ok(ColumnarValue::Array(Arc::new(
            out.with_precision_and_scale(PRECISION, SCALE as i8)?,
        )))
    }
}

fn mul_ratio_udf() -> Arc<ScalarUDF> {
    static UDF: OnceLock<Arc<ScalarUDF>> = OnceLock::new();
    UDF.get_or_init(|| {
        Arc::new(ScalarUDF::from(MulRatio {
            signature: Signature::exact(
                vec![money_type(), DataType::Int64, DataType::Int64],
                Volatility::Immutable,
            ),
        }))
    })
    .clone()
}

/// `money × num / den`, half-even at 24 places.
pub fn mul_ratio(money: Expr, num: i128, den: i128) -> Expr {
    let (num, den) = (
        i64::try_from(num).expect("percent numerators fit i64"),
        i64::try_from(den).expect("denominators fit i64"),
    );
    mul_ratio_udf().call(vec![money, lit(num), lit(den)])
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Tag {
    signature: Signature,
}

/// The tag's value: a string as is, any other JSON value as its JSON text, empty as absent.
fn tag_value(tags: &str, key: &str, needle: &str) -> Option<String> {
    if !tags.contains(needle) {
        return None;
    }
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(tags).ok()?;
    match map.get(key)? {
        serde_json::Value::String(s) if s.is_empty() => None,
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

impl ScalarUDFImpl for Tag {
    fn name(&self) -> &str {
        "be_tag"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let key = match &args.args[1] {
            ColumnarValue::Scalar(ScalarValue::Utf8(Some(k))) => k.clone(),
            _ => return exec_err!("be_tag: the key must be a Utf8 literal"),
        };
        // A key appears in the JSON text as a quoted string; rows without it are not parsed.
        let needle =
            serde_json::to_string(&key).map_err(|e| DataFusionError::External(Box::new(e)))?;
        let tags = args.args[0].to_array(args.number_rows)?;
        let tags = tags.as_string::<i32>();
        let out: StringArray = tags
            .iter()
            .map(|t| t.and_then(|t| tag_value(t, &key, &needle)))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out) as ArrayRef))
    }
}

fn tag_udf() -> Arc<ScalarUDF> {
    static UDF: OnceLock<Arc<ScalarUDF>> = OnceLock::new();
    UDF.get_or_init(|| {
        Arc::new(ScalarUDF::from(Tag {
            signature: Signature::exact(
                vec![DataType::Utf8, DataType::Utf8],
                Volatility::Immutable,
            ),
        }))
    })
    .clone()
}

/// The value of tag `key` in a `Tags` column.
pub fn tag(tags: Expr, key: &str) -> Expr {
    tag_udf().call(vec![tags, lit(key.to_string())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_by_key() {
        let n = |k: &str| serde_json::to_string(k).expect("json");
        assert_eq!(
            tag_value(r#"{"team":"data","env":"prod"}"#, "team", &n("team")).as_deref(),
            Some("data")
        );
        assert_eq!(
            tag_value(r#"{"team":""}"#, "team", &n("team")),
            None,
            "empty is absent"
        );
        assert_eq!(
            tag_value(r#"{"size":3}"#, "size", &n("size")).as_deref(),
            Some("3")
        );
        assert_eq!(
            tag_value(r#"{"other":"team"}"#, "team", &n("team")),
            None,
            "a value is not a key"
        );
        assert_eq!(tag_value("not json \"team\"", "team", &n("team")), None);
        assert_eq!(
            tag_value(r#"{"a\"b":"x"}"#, "a\"b", &n("a\"b")).as_deref(),
            Some("x")
        );
    }
}
