//! The documents crate's one error enum: a stable code and a remedy for each variant.

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The issuer's logo is not base64 of a PNG, JPEG or SVG image.
    #[error("the issuer's logo cannot be used: {0}")]
    LogoInvalid(String),
    /// Typst could not lay the document out: a bug in the template or a value it cannot show.
    #[error("the PDF could not be rendered: {0}")]
    Render(String),
    /// Writing the CSV failed.
    #[error("the CSV could not be written")]
    Csv(#[source] csv::Error),
}

impl DocumentError {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::LogoInvalid(_) => "logo_invalid",
            Self::Render(_) => "document_render_failed",
            Self::Csv(_) => "document_csv_failed",
        }
    }

    /// What a person can do about it.
    pub fn remedy(&self) -> &'static str {
        match self {
            Self::LogoInvalid(_) => {
                "Upload the logo again as a PNG, JPEG or SVG file in the invoice template."
            }
            Self::Render(_) | Self::Csv(_) => {
                "Try again; if it repeats, report it with the invoice's number."
            }
        }
    }
}
