//! An invoice's documents: the PDF a finance team sends and the CSV of the same lines. Both are
//! functions of the [`InvoiceDocument`] alone, so rendering a finalized invoice again gives the
//! same bytes.

mod csv_out;
mod error;
mod pdf;
mod view;

use be_domain::invoicing::InvoiceDocument;

pub use error::DocumentError;

/// The document as a PDF (A4 or Letter as the document says), rendered in-process.
pub fn render_pdf(doc: &InvoiceDocument) -> Result<Vec<u8>, DocumentError> {
    pdf::render(doc)
}

/// The document's lines as CSV: a header row, one row per line with its rounded and exact
/// amounts, then the subtotal, the formula lines and the total.
pub fn render_csv(doc: &InvoiceDocument) -> Result<Vec<u8>, DocumentError> {
    csv_out::render(doc)
}
