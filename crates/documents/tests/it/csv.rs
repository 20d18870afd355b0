use crate::contoso;

fn rows(bytes: &[u8]) -> Vec<Vec<String>> {
    ::csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes)
        .records()
        .map(|r| r.expect("record").iter().map(String::from).collect())
        .collect()
}

#[test]
fn the_csv_has_the_pdfs_lines_with_exact_and_rounded_amounts() {
    let bytes = be_documents::render_csv(&contoso()).expect("csv");
    let rows = rows(&bytes);
    let want: Vec<Vec<&str>> = vec![
        vec!["document", "kind", "Sub-account", "Service", "rule", "amount", "exact_amount", "currency"],
        vec!["INV-000042", "line", "Contoso Web", "Virtual Machines", "", "110.00", "110", "EUR"],
        vec!["INV-000042", "line", "Contoso Web", "Storage", "", "52.25", "52.25", "EUR"],
        vec!["INV-000042", "line", "Contoso Batch", "Virtual Machines", "", "77.00", "77", "EUR"],
        vec!["INV-000042", "line", "Support fee", "", "Support fee", "16.96", "16.9625", "EUR"],
        vec!["INV-000042", "subtotal", "Subtotal", "", "", "256.21", "256.2125", "EUR"],
        vec!["INV-000042", "formula", "VAT 20%", "", "BilledCost * 0.2", "51.24", "", "EUR"],
        vec!["INV-000042", "information", "Profit", "", "BilledCost - ProviderCost", "-253.79", "", "EUR"],
        vec!["INV-000042", "total", "Total", "", "", "307.45", "", "EUR"],
    ];
    assert_eq!(rows, want);
}

#[test]
fn a_drafts_csv_says_draft_and_user_text_is_quoted() {
    let mut doc = contoso();
    doc.number = None;
    doc.lines[0].values[0] = "Web, \"prod\"\nline two".into();
    let rows = rows(&be_documents::render_csv(&doc).expect("csv"));
    assert_eq!(rows[1][0], "DRAFT");
    assert_eq!(rows[1][2], "Web, \"prod\"\nline two");
    assert_eq!(rows.len(), 9);
}

#[test]
fn the_same_document_gives_the_same_csv() {
    let doc = contoso();
    assert_eq!(
        be_documents::render_csv(&doc).expect("one"),
        be_documents::render_csv(&doc).expect("two")
    );
}
