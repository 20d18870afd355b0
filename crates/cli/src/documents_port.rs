//! The app's document port, implemented with `be-documents` (Typst PDF, CSV). Errors keep their
//! code, message and remedy across the port.

use be_app::invoicing::DocumentPort;
use be_app::{Port, PortError, PortErrorKind};
use be_documents::DocumentError;
use be_domain::invoicing::InvoiceDocument;

/// Renders invoices in-process; holds nothing (fonts and the layout are compiled in).
pub struct DocumentsPort;

fn document_error(e: DocumentError) -> PortError {
    let kind = match &e {
        DocumentError::LogoInvalid(_) => PortErrorKind::Invalid,
        DocumentError::Render(_) | DocumentError::Csv(_) => PortErrorKind::Failed,
    };
    if kind == PortErrorKind::Failed {
        tracing::error!(code = e.code(), error = %chain(&e), "invoice rendering failure");
    }
    PortError {
        code: e.code(),
        message: e.to_string(),
        remedy: e.remedy().to_string(),
        kind,
        port: Port::Documents,
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

impl DocumentPort for DocumentsPort {
    fn render_pdf(&self, doc: &InvoiceDocument) -> Result<Vec<u8>, PortError> {
        be_documents::render_pdf(doc).map_err(document_error)
    }

    fn render_csv(&self, doc: &InvoiceDocument) -> Result<Vec<u8>, PortError> {
        be_documents::render_csv(doc).map_err(document_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A finalized invoice as the store keeps it (JSON).
    const DOCUMENT: &str = r#"{
        "kind": "invoice", "number": "INV-000001",
        "issue_date": "2026-11-05", "due_date": "2026-12-05",
        "period_from": "2026-10", "period_to": "2026-10", "currency": "EUR",
        "issuer": {"name": "Northwind", "address": ["1 Main St"]},
        "customer": {"key": "Contoso", "billing_name": "Contoso Ltd"},
        "header_fields": [], "line_headings": ["Sub-account", "Service"],
        "lines": [{"values": ["Contoso Web", "Storage"], "rule": null,
                   "amount": "52.25", "exact": "52.25"}],
        "subtotal": "52.25", "formulas": [], "total": "52.25", "exact_total": "52.25",
        "footer": "", "paper": "a4", "corrects": null, "sources": {"periods": []}
    }"#;

    #[test]
    fn a_bad_logo_crosses_the_port_with_its_code_and_remedy() {
        let mut doc: InvoiceDocument = serde_json::from_str(DOCUMENT).expect("a stored document");
        let csv = DocumentsPort.render_csv(&doc).expect("csv");
        assert!(String::from_utf8(csv).expect("utf-8").contains("Contoso Web"));
        doc.issuer.logo_base64 = Some("bm90IGFuIGltYWdl".into());
        let e = DocumentsPort.render_pdf(&doc).expect_err("not an image");
        assert_eq!(e.code, "logo_invalid");
        assert_eq!(e.kind, PortErrorKind::Invalid);
        assert_eq!(e.port, Port::Documents);
        assert!(e.remedy.contains("PNG"), "{}", e.remedy);
    }
}
