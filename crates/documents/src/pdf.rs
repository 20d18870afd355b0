//! The PDF: Typst as a library. The layout (`invoice.typ`) is fixed; the document's values reach it
//! as a JSON file it reads, so no user text is ever parsed as markup. Fonts are embedded in the
//! binary (DejaVu Sans), the PDF's date is the issue date: the same document gives the same bytes.

use std::sync::LazyLock;

use base64::Engine as _;
use be_domain::invoicing::InvoiceDocument;
use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration, Smart};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;

use crate::DocumentError;
use crate::view::{self, View};

const TEMPLATE: &str = include_str!("invoice.typ");
const LOGO_PATH: &str = "/logo";

/// What every rendering shares: the standard library and the embedded fonts.
struct Shared {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

static SHARED: LazyLock<Shared> = LazyLock::new(|| {
    let fonts: Vec<Font> = [
        dejavu::sans::regular(),
        dejavu::sans::bold(),
        dejavu::sans::oblique(),
        dejavu::sans::bold_oblique(),
    ]
    .into_iter()
    .flat_map(|data| Font::iter(Bytes::new(data)))
    .collect();
    Shared {
        library: LazyHash::new(Library::default()),
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
    }
});

fn file_id(path: &str) -> FileId {
    let vpath = VirtualPath::new(path).expect("a fixed, valid virtual path");
    FileId::new(RootedPath::new(VirtualRoot::Project, vpath))
}

/// One document's files: the template, its data and its logo.
struct InvoiceWorld {
    main: Source,
    data: Bytes,
    logo: Option<Bytes>,
}

impl World for InvoiceWorld {
    fn library(&self) -> &LazyHash<Library> {
        &SHARED.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &SHARED.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(not_found(id))
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == file_id("/data.json") {
            Ok(self.data.clone())
        } else if id == file_id(LOGO_PATH) {
            self.logo.clone().ok_or_else(|| not_found(id))
        } else if id == self.main.id() {
            Ok(Bytes::from_string(self.main.text().to_string()))
        } else {
            Err(not_found(id))
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        SHARED.fonts.get(index).cloned()
    }

    /// No "today": a document shows only its own dates.
    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}

fn not_found(id: FileId) -> FileError {
    FileError::NotFound(id.vpath().get_without_slash().into())
}

/// The issuer's logo, decoded and checked to be an image Typst can place.
fn logo(doc: &InvoiceDocument) -> Result<Option<Bytes>, DocumentError> {
    let Some(text) = doc.issuer.logo_base64.as_deref() else {
        return Ok(None);
    };
    let text: String = text.split_whitespace().collect();
    let text = text.strip_prefix("data:").map_or(text.as_str(), |rest| {
        rest.split_once(',').map_or(rest, |(_, data)| data)
    });
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| DocumentError::LogoInvalid(format!("it is not base64 ({e})")))?;
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_lowercase();
    let known = bytes.starts_with(b"\x89PNG\r\n\x1a\n")
        || bytes.starts_with(b"\xff\xd8\xff")
        || head.contains("<svg");
    if !known {
        return Err(DocumentError::LogoInvalid(
            "it is neither a PNG, a JPEG nor an SVG image".into(),
        ));
    }
    Ok(Some(Bytes::new(bytes)))
}

pub(crate) fn render(doc: &InvoiceDocument) -> Result<Vec<u8>, DocumentError> {
    let logo = logo(doc)?;
    let data: View = view::view(doc, logo.as_ref().map(|_| LOGO_PATH));
    let data = serde_json::to_vec(&data)
        .map_err(|e| DocumentError::Render(format!("the document's data: {e}")))?;
    let world = InvoiceWorld {
        main: Source::new(file_id("/invoice.typ"), TEMPLATE.to_string()),
        data: Bytes::new(data),
        logo,
    };
    let compiled = typst::compile::<PagedDocument>(&world).output;
    // Typst memoizes across calls; a server renders many documents, so keep only recent entries.
    typst::comemo::evict(10);
    let document = compiled.map_err(|errors| diagnostics(&world, &errors))?;
    let date = Datetime::from_ymd(
        doc.issue_date.year(),
        u8::from(doc.issue_date.month()),
        doc.issue_date.day(),
    );
    let options = typst_pdf::PdfOptions {
        ident: Smart::Custom(view::number_or_draft(doc)),
        creator: Smart::Custom(Some("Billing Engine".into())),
        timestamp: date.map(typst_pdf::Timestamp::new_utc),
        ..typst_pdf::PdfOptions::default()
    };
    typst_pdf::pdf(&document, &options).map_err(|errors| diagnostics(&world, &errors))
}

/// Typst's errors as one message (they point into the fixed template, so they are bugs).
fn diagnostics(world: &InvoiceWorld, errors: &[SourceDiagnostic]) -> DocumentError {
    use typst::WorldExt as _;
    let text = errors
        .iter()
        .map(|e| {
            let at = world
                .range(e.span)
                .map(|r| format!(" at byte {}", r.start))
                .unwrap_or_default();
            format!("{}{at}", e.message)
        })
        .collect::<Vec<_>>()
        .join("; ");
    DocumentError::Render(text)
}
