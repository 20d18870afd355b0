//! Upload forms (`multipart/form-data`): a FOCUS file can be many gigabytes, so these forms are
//! not buffered by the CSRF guard. Their first field must be the `csrf` token (browsers send
//! fields in page order); the file is streamed to the uploads folder, never held in memory.

use axum::extract::Multipart;
use axum::extract::multipart::Field;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{csrf, pages};
use crate::AppState;
use crate::api::rating::{UploadGuard, store_upload};

/// The largest text field accepted (a rules-as-code file sent back for "apply" is one).
const TEXT_LIMIT: usize = crate::api::PRICING_FILE_BYTES;

/// A received upload form: its text fields and, if one was chosen, its file on disk.
pub(crate) struct UploadForm {
    pub fields: Vec<(String, String)>,
    pub file: Option<ReceivedFile>,
}

pub(crate) struct ReceivedFile {
    /// The name the browser gave (for messages: `bad.csv:2:26`).
    pub name: String,
    pub upload: UploadGuard,
}

impl UploadForm {
    pub(crate) fn text(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.trim().is_empty())
    }
}

fn bad_form(message: &str) -> Response {
    pages::message_page(
        StatusCode::BAD_REQUEST,
        "The upload did not arrive",
        message,
    )
}

/// Read the form; the answer to send instead when it is refused (no or a wrong token first, an
/// interrupted upload, a field too large, a full disk).
pub(crate) async fn read(
    s: &AppState,
    headers: &HeaderMap,
    mut multipart: Multipart,
    file_field: &str,
) -> Result<UploadForm, Response> {
    let interrupted = |_| {
        bad_form("The upload was interrupted or is not a form; choose the file and send it again.")
    };
    let mut form = UploadForm {
        fields: vec![],
        file: None,
    };
    let mut trusted = false;
    while let Some(field) = multipart.next_field().await.map_err(interrupted)? {
        let name = field.name().unwrap_or_default().to_string();
        if !trusted {
            let token = if name == "csrf" {
                read_text(field, 512).await.unwrap_or_default()
            } else {
                String::new()
            };
            if !csrf::valid(s, headers, &token, csrf::Binding::Session) {
                tracing::warn!("upload refused: the first field is not a valid CSRF token");
                return Err(csrf::refused());
            }
            trusted = true;
            continue;
        }
        if name == file_field && field.file_name().is_some_and(|n| !n.is_empty()) {
            let file_name = field
                .file_name()
                .unwrap_or("upload")
                .rsplit(['/', '\\'])
                .next()
                .unwrap_or("upload")
                .to_string();
            match store_upload(s, field).await {
                Ok(upload) => {
                    form.file = Some(ReceivedFile {
                        name: file_name,
                        upload,
                    })
                }
                // An empty file is the person's mistake, said beside the field; anything else is not.
                Err(e) if e.code == "import_empty_file" => {
                    form.fields.push(("file_error".into(), e.message))
                }
                Err(e) => {
                    return Err(pages::message_page(
                        e.status,
                        "The upload did not arrive",
                        &e.message,
                    ));
                }
            }
        } else if name != file_field {
            let text = read_text(field, TEXT_LIMIT).await.ok_or_else(|| {
                bad_form("A field of the form is larger than the server accepts.")
            })?;
            form.fields.push((name, text));
        }
    }
    if !trusted {
        return Err(csrf::refused());
    }
    Ok(form)
}

/// A text field of at most `limit` bytes, as UTF-8; `None` when larger or unreadable.
async fn read_text(mut field: Field<'_>, limit: usize) -> Option<String> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.ok()? {
        if bytes.len() + chunk.len() > limit {
            return None;
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).ok()
}
