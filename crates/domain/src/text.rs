//! The one rule for text people name things with (accounts, organizations, tokens, families,
//! plans, rules, templates, customers): nothing that could make a name look like another.

/// Characters that would let a name look like another: control characters, zero-width and
/// other invisible characters, and bidirectional controls (U+202E turns `evil.exe` around).
pub fn is_deceptive(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E007F}')
}

/// Whether `s` holds a character [`is_deceptive`] refuses.
pub fn has_deceptive(s: &str) -> bool {
    s.chars().any(is_deceptive)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_and_direction_characters_are_refused_ordinary_text_is_not() {
        for bad in [
            "a\u{200B}b",
            "\u{202E}exe.txt",
            "x\u{2066}y",
            "\u{FEFF}Contoso",
            "a\tb",
            "soft\u{00AD}hyphen",
        ] {
            assert!(has_deceptive(bad), "{bad:?}");
        }
        for good in [
            "Contoso Ltd.",
            "Société Générale",
            "東京支社",
            "שלום",
            "Müller & Söhne (EU)",
        ] {
            assert!(!has_deceptive(good), "{good:?}");
        }
    }
}
