//! AdditionalInfo: a flat JSON object read in place.
//!
//! The mapping needs three things from it: whether it is a JSON object, two values
//! (`VMCapacityReservationId`, `RINormalizationRatio`), and `SkuPriceDetails`, the object with `x_`
//! before every property name, written the way `serde_json` writes a map (properties sorted by
//! name, no spaces, each value re-serialized). [`AdditionalInfo::read`] gets all three in one pass
//! over the text, without building a map, when the object is flat and its values are already
//! written the way `serde_json` writes them (true of real files); anything else (nested values,
//! duplicate names, other escapes) goes through `serde_json` exactly as before, so the output is
//! the same either way.

use crate::decimal::Dec;

/// A property of a flat object: name and value as written (the value with its quotes).
#[derive(Clone, Copy)]
struct Prop {
    name: (u32, u32),
    value: (u32, u32),
}

/// Reusable state for reading AdditionalInfo values (no allocation per row once warm).
#[derive(Default)]
pub struct AdditionalInfo {
    props: Vec<Prop>,
    number: Vec<u8>,
    /// `SkuPriceDetails` of the last [`Self::read`].
    pub details: String,
    /// `VMCapacityReservationId` (a non-empty string value).
    pub capacity_reservation: Option<String>,
    /// `RINormalizationRatio` (a number).
    pub ri_ratio: Option<Dec>,
    /// The text was a JSON object.
    pub is_object: bool,
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// The end of a string token starting at the quote `b[i]`, if every escape in it is one that
/// `serde_json` writes back unchanged. `has_escape` tells whether it had any.
fn string_end(b: &[u8], i: usize, has_escape: &mut bool) -> Option<usize> {
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'"' => return Some(j + 1),
            b'\\' => {
                if !matches!(
                    b.get(j + 1),
                    Some(b'"' | b'\\' | b'n' | b't' | b'r' | b'b' | b'f')
                ) {
                    return None;
                }
                *has_escape = true;
                j += 2;
            }
            c if c < 0x20 => return None,
            _ => j += 1,
        }
    }
    None
}

impl AdditionalInfo {
    /// Read `info` (already trimmed). Afterwards the public fields describe it.
    pub fn read(&mut self, info: &str) {
        self.details.clear();
        self.capacity_reservation = None;
        self.ri_ratio = None;
        self.is_object = false;
        if !info.starts_with('{') {
            return;
        }
        if !self.read_flat(info) {
            self.read_with_serde(info);
        }
    }

    /// The fast path; `false` when the text is not a flat object in `serde_json`'s own style.
    fn read_flat(&mut self, info: &str) -> bool {
        let b = info.as_bytes();
        self.props.clear();
        let mut i = skip_ws(b, 1);
        if b.get(i) == Some(&b'}') {
            i = skip_ws(b, i + 1);
        } else {
            loop {
                let mut esc = false;
                if b.get(i) != Some(&b'"') {
                    return false;
                }
                let Some(name_end) = string_end(b, i, &mut esc) else {
                    return false;
                };
                if esc {
                    return false;
                }
                let name = (i as u32 + 1, name_end as u32 - 1);
                i = skip_ws(b, name_end);
                if b.get(i) != Some(&b':') {
                    return false;
                }
                i = skip_ws(b, i + 1);
                let start = i;
                let end = match b.get(i) {
                    Some(b'"') => match string_end(b, i, &mut esc) {
                        Some(e) => e,
                        None => return false,
                    },
                    Some(b'-' | b'0'..=b'9') => {
                        let mut e = i + 1;
                        while e < b.len()
                            && matches!(b[e], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                        {
                            e += 1;
                        }
                        if !self.canonical_number(&info[i..e]) {
                            return false;
                        }
                        e
                    }
                    _ if b[i..].starts_with(b"true") => i + 4,
                    _ if b[i..].starts_with(b"false") => i + 5,
                    _ if b[i..].starts_with(b"null") => i + 4,
                    _ => return false,
                };
                self.props.push(Prop {
                    name,
                    value: (start as u32, end as u32),
                });
                i = skip_ws(b, end);
                match b.get(i) {
                    Some(b',') => i = skip_ws(b, i + 1),
                    Some(b'}') => {
                        i = skip_ws(b, i + 1);
                        break;
                    }
                    _ => return false,
                }
            }
        }
        if i != b.len() {
            return false;
        }
        let text = |r: (u32, u32)| &info[r.0 as usize..r.1 as usize];
        self.props
            .sort_unstable_by(|x, y| text(x.name).cmp(text(y.name)));
        if self
            .props
            .windows(2)
            .any(|w| text(w[0].name) == text(w[1].name))
        {
            return false;
        }
        self.is_object = true;
        self.details.push('{');
        for (n, p) in self.props.iter().enumerate() {
            if n > 0 {
                self.details.push(',');
            }
            self.details.push_str("\"x_");
            self.details.push_str(text(p.name));
            self.details.push_str("\":");
            self.details.push_str(text(p.value));
            let value = text(p.value);
            match text(p.name) {
                "VMCapacityReservationId" if value.starts_with('"') => {
                    let s: Option<String> = if value.contains('\\') {
                        serde_json::from_str(value).ok()
                    } else {
                        Some(value[1..value.len() - 1].to_string())
                    };
                    self.capacity_reservation = s.filter(|s| !s.is_empty());
                }
                "RINormalizationRatio" if !value.starts_with(['"', 't', 'f', 'n']) => {
                    self.ri_ratio = Dec::parse(value).ok()
                }
                _ => {}
            }
        }
        self.details.push('}');
        true
    }

    /// Whether `serde_json` reads this number and writes it back as the same text.
    fn canonical_number(&mut self, token: &str) -> bool {
        let Ok(n) = serde_json::from_str::<serde_json::Number>(token) else {
            return false;
        };
        self.number.clear();
        serde_json::to_writer(&mut self.number, &n).is_ok() && self.number == token.as_bytes()
    }

    /// The general path: parse into a `serde_json::Value` and write it back.
    fn read_with_serde(&mut self, info: &str) {
        let Ok(serde_json::Value::Object(obj)) = serde_json::from_str::<serde_json::Value>(info)
        else {
            return;
        };
        self.is_object = true;
        self.capacity_reservation = obj
            .get("VMCapacityReservationId")
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        self.ri_ratio = obj
            .get("RINormalizationRatio")
            .and_then(|v| Dec::parse(&v.to_string()).ok());
        let mut out = serde_json::Map::with_capacity(obj.len());
        for (k, v) in obj {
            out.insert(format!("x_{k}"), v);
        }
        if let Ok(s) = serde_json::to_string(&out) {
            self.details = s;
        } else {
            self.is_object = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the mapping did before the fast path: serde_json all the way.
    fn reference(info: &str) -> (Option<String>, Option<String>, Option<Dec>) {
        let parsed: Option<serde_json::Value> = if info.starts_with('{') {
            serde_json::from_str(info).ok()
        } else {
            None
        };
        let cap = parsed
            .as_ref()
            .and_then(|v| v.get("VMCapacityReservationId"))
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .filter(|s| !s.is_empty());
        let ri = parsed
            .as_ref()
            .and_then(|v| v.get("RINormalizationRatio"))
            .and_then(|v| Dec::parse(&v.to_string()).ok());
        let details = parsed.as_ref().and_then(|v| v.as_object()).map(|obj| {
            let mut out = serde_json::Map::new();
            for (k, v) in obj {
                out.insert(format!("x_{k}"), v.clone());
            }
            serde_json::to_string(&out).unwrap_or_default()
        });
        (details, cap, ri)
    }

    fn ours(info: &str) -> (Option<String>, Option<String>, Option<Dec>, bool) {
        let mut a = AdditionalInfo::default();
        let fast = info.starts_with('{') && a.read_flat(info);
        a.read(info);
        (
            a.is_object.then(|| a.details.clone()),
            a.capacity_reservation.clone(),
            a.ri_ratio,
            fast,
        )
    }

    #[test]
    fn same_as_serde_json_on_every_shape() {
        let cases = [
            (
                r#"{"UsageType":"ComputeHR","ImageType":"Canonical","VCPUs":2,"ConsumedQuantity":1.0,"RINormalizationRatio":2.0}"#,
                true,
            ),
            (
                r#"{"ServiceType":"Standard_D2s_v3","UsageType":"ComputeCR","VMCapacityReservationId":"f8b42087-c198-4ad8-8515-fce989cc5fff"}"#,
                true,
            ),
            (
                r#"{ "b" : 1 , "a" : "x\"y\\z\n", "c": true, "d": null, "e": false, "f": -3 }"#,
                true,
            ),
            (r#"{}"#, true),
            (r#"{"RINormalizationRatio":"2"}"#, true),
            (
                r#"{"RINormalizationRatio":0.5,"VMCapacityReservationId":""}"#,
                true,
            ),
            (r#"{"a":1e2}"#, false),
            (r#"{"a":1.50}"#, false),
            (r#"{"a":007}"#, false),
            (r#"{"a":{"nested":1}}"#, false),
            (r#"{"a":[1,2]}"#, false),
            (r#"{"a":1,"a":2}"#, false),
            (r#"{"a":"\u00e9\/"}"#, false),
            (r#"{"RINormalizationRatio":1E400}"#, false),
            (r#"{"a":1,}"#, false),
            (r#"{"a":1} trailing"#, false),
            (r#"{"a":"raw	tab"}"#, false),
            ("{\"k\u{e9}y\":\"v\u{e9}\"}", true),
            ("not json", false),
            ("", false),
        ];
        for (info, fast) in cases {
            let (d, c, r, was_fast) = ours(info);
            assert_eq!((d, c, r), reference(info), "{info}");
            assert_eq!(was_fast, fast, "fast path taken for {info}");
        }
    }
}
