//! Every input kind and every error, on files the tests write themselves.

// Helpers in test files unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use lopdf::content::{Content, Operation};
use lopdf::{Document as Pdf, Object, Stream, dictionary};
use minions_ingest::{
    DocumentKind, IngestError, IngestOptions, from_bytes, load, load_path, load_reader,
};
use minions_testkit::{FakeServer, Reply};

/// A fresh directory under the target directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("minions-ingest-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn write(&self, relative: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A PDF with one page per entry; an empty entry makes a page without text.
fn pdf(pages: &[&str]) -> Vec<u8> {
    let mut doc = Pdf::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc
        .add_object(dictionary! {"Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Courier"});
    let resources_id = doc.add_object(dictionary! {"Font" => dictionary! {"F1" => font_id}});
    let mut kids = Vec::new();
    for text in pages {
        let operations = if text.is_empty() {
            Vec::new()
        } else {
            vec![
                Operation::new("BT", vec![]),
                Operation::new("Tf", vec!["F1".into(), 12.into()]),
                Operation::new("Td", vec![72.into(), 720.into()]),
                Operation::new("Tj", vec![Object::string_literal(*text)]),
                Operation::new("ET", vec![]),
            ]
        };
        let content_id = doc.add_object(Stream::new(
            dictionary! {},
            Content { operations }.encode().unwrap(),
        ));
        let page_id = doc.add_object(
            dictionary! {"Type" => "Page", "Parent" => pages_id, "Contents" => content_id},
        );
        kids.push(page_id.into());
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => kids, "Count" => count, "Resources" => resources_id,
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        }),
    );
    let catalog_id = doc.add_object(dictionary! {"Type" => "Catalog", "Pages" => pages_id});
    doc.trailer.set("Root", catalog_id);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    bytes
}

#[test]
fn text_markdown_and_code_in_any_common_encoding() {
    let scratch = Scratch::new("encodings");
    let utf8 = load_path(
        &scratch.write(
            "notes.txt",
            "blood pressure 160/100 \u{2013} high".as_bytes(),
        ),
        &IngestOptions::default(),
    )
    .unwrap();
    assert_eq!(
        (utf8.kind, utf8.text.as_str()),
        (DocumentKind::Text, "blood pressure 160/100 \u{2013} high")
    );
    assert_eq!(utf8.name, "notes.txt");
    assert_eq!(utf8.chars(), 29);
    assert!(utf8.estimated_tokens() > 0);

    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain("r\u{e9}sum\u{e9}".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let doc = load_path(&scratch.write("cv.txt", &utf16), &IngestOptions::default()).unwrap();
    assert_eq!(doc.text, "r\u{e9}sum\u{e9}");

    let doc = load_path(
        &scratch.write("old.txt", b"na\xefve caf\xe9"),
        &IngestOptions::default(),
    )
    .unwrap();
    assert_eq!(doc.text, "na\u{ef}ve caf\u{e9}");
    assert!(doc.notes[0].contains("Latin-1"), "{:?}", doc.notes);

    let md = load_path(
        &scratch.write("README.md", b"# Title\n\nBody"),
        &IngestOptions::default(),
    )
    .unwrap();
    assert_eq!(md.kind, DocumentKind::Markdown);
    let code = load_path(
        &scratch.write("main.rs", b"fn main() {}\n"),
        &IngestOptions::default(),
    )
    .unwrap();
    assert_eq!(code.kind, DocumentKind::Code);
}

#[test]
fn directories_honour_gitignore_and_skip_binaries_and_giants() {
    let scratch = Scratch::new("dir");
    scratch.write(".gitignore", b"target/\n*.log\n");
    scratch.write("src/lib.rs", b"pub fn answer() -> u32 { 42 }\n");
    scratch.write("src/nested/deep.py", b"def f():\n    return 1\n");
    scratch.write("README.md", b"# Project\n");
    scratch.write("target/debug/junk.txt", b"ignored by .gitignore");
    scratch.write("run.log", b"ignored too");
    scratch.write("logo.png", b"\x89PNG\r\n\x1a\nrest");
    scratch.write("empty.txt", b"   \n");
    scratch.write("huge.txt", &[b'a'; 2000]);
    scratch.write(".secret/env", b"hidden");
    let options = IngestOptions {
        max_file_bytes: 1000,
        ..IngestOptions::default()
    };
    let doc = load_path(scratch.path(), &options).unwrap();
    assert_eq!(doc.kind, DocumentKind::Directory);
    let text = &doc.text;
    assert!(text.contains("===== BEGIN FILE: src/lib.rs =====\npub fn answer() -> u32 { 42 }\n===== END FILE: src/lib.rs ====="), "{text}");
    assert!(text.contains("BEGIN FILE: src/nested/deep.py"));
    assert!(
        text.find("README.md").unwrap() < text.find("src/lib.rs").unwrap(),
        "files in path order"
    );
    for absent in ["junk.txt", "run.log", "logo.png", "hidden", "huge.txt"] {
        assert!(
            !text.contains(&format!("BEGIN FILE: {absent}")) && !text.contains("ignored"),
            "{absent} in {text}"
        );
    }
    let notes = doc.notes.join("\n");
    assert!(notes.contains("logo.png: binary (PNG image)"), "{notes}");
    assert!(
        notes.contains("huge.txt: 2000 bytes is over the 1000-byte file limit"),
        "{notes}"
    );
    assert!(notes.contains("empty.txt: empty"), "{notes}");

    let capped = IngestOptions {
        max_bytes: 100,
        max_file_bytes: 1000,
        ..IngestOptions::default()
    };
    assert!(matches!(
        load_path(scratch.path(), &capped),
        Err(IngestError::TooLarge { .. })
    ));

    let empty = Scratch::new("empty-dir");
    empty.write("a.bin", b"\0\0\0");
    let error = load_path(empty.path(), &IngestOptions::default()).unwrap_err();
    assert!(
        error.to_string().contains("no readable text files") && error.to_string().contains("a.bin"),
        "{error}"
    );
}

#[test]
fn pdfs_keep_their_pages_and_scanned_ones_are_explained() {
    let doc = from_bytes(
        "report.pdf",
        &pdf(&["Blood pressure 160/100", "LDL cholesterol 170"]),
        Some(DocumentKind::Pdf),
    )
    .unwrap();
    assert_eq!(doc.pages, Some(2));
    let pages: Vec<&str> = doc.text.split('\x0c').map(str::trim).collect();
    assert_eq!(pages, ["Blood pressure 160/100", "LDL cholesterol 170"]);

    let sniffed = from_bytes("no-extension", &pdf(&["Sniffed"]), None).unwrap();
    assert_eq!(sniffed.kind, DocumentKind::Pdf);

    let error = from_bytes("scan.pdf", &pdf(&["", ""]), Some(DocumentKind::Pdf)).unwrap_err();
    assert!(
        matches!(error, IngestError::ScannedPdf { pages: 2, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("probably scanned"));

    let error = from_bytes(
        "broken.pdf",
        b"%PDF-1.4\nthis is not a pdf",
        Some(DocumentKind::Pdf),
    )
    .unwrap_err();
    assert!(matches!(error, IngestError::BadPdf { .. }), "{error:?}");
}

#[test]
fn html_becomes_readable_text() {
    let html = b"<!DOCTYPE html><html><head><title>T</title><style>p{color:red}</style><script>alert(1)</script></head>\
        <body><h1>Report</h1><p>Blood pressure <b>160/100</b>.</p><ul><li>LDL 170</li></ul></body></html>";
    let doc = from_bytes("page.html", html, Some(DocumentKind::Html)).unwrap();
    assert!(
        doc.text.contains("Report")
            && doc.text.contains("Blood pressure")
            && doc.text.contains("LDL 170"),
        "{}",
        doc.text
    );
    assert!(
        !doc.text.contains("<p>")
            && !doc.text.contains("alert(1)")
            && !doc.text.contains("color:red"),
        "{}",
        doc.text
    );
}

#[test]
fn stdin_and_its_cap() {
    let doc = load_reader(
        "stdin",
        std::io::Cursor::new(b"piped text".to_vec()),
        &IngestOptions::default(),
    )
    .unwrap();
    assert_eq!(
        (doc.name.as_str(), doc.text.as_str()),
        ("stdin", "piped text")
    );
    let small = IngestOptions {
        max_bytes: 4,
        ..IngestOptions::default()
    };
    let error =
        load_reader("stdin", std::io::Cursor::new(b"too long".to_vec()), &small).unwrap_err();
    assert!(matches!(error, IngestError::TooLarge { limit: 4, .. }));
}

#[test]
fn clear_errors_for_bad_inputs() {
    let scratch = Scratch::new("errors");
    let options = IngestOptions::default();
    let error = load_path(&scratch.path().join("missing.txt"), &options).unwrap_err();
    assert!(error.to_string().contains("no such file"), "{error}");
    let error = load_path(&scratch.write("empty.md", b""), &options).unwrap_err();
    assert!(error.to_string().contains("is empty"), "{error}");
    let error = load_path(&scratch.write("blank.txt", b"\n\n  \t"), &options).unwrap_err();
    assert!(matches!(error, IngestError::Empty { .. }));
    let error = load_path(
        &scratch.write("program", b"\x7fELF\x02\x01\x01\0\0\0"),
        &options,
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("binary") && error.to_string().contains("executable"),
        "{error}"
    );
    let big = scratch.write("big.txt", &[b'x'; 100]);
    let error = load_path(
        &big,
        &IngestOptions {
            max_bytes: 10,
            ..options.clone()
        },
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("over the 10-byte limit"),
        "{error}"
    );
    let error = from_bytes("scan.pdf", &pdf(&[""]), None).unwrap_err();
    assert!(matches!(error, IngestError::ScannedPdf { .. }));
}

#[tokio::test]
async fn urls_are_read_by_content_type() {
    let server = FakeServer::start().await;
    server
        .push(Reply::Raw {
            status: 200,
            content_type: "text/html; charset=utf-8".into(),
            body: b"<p>Hello <i>web</i></p>".to_vec(),
        })
        .push(Reply::Raw {
            status: 200,
            content_type: "application/pdf".into(),
            body: pdf(&["From the web"]),
        })
        .push(Reply::Raw {
            status: 200,
            content_type: "text/plain".into(),
            body: b"plain words".to_vec(),
        })
        .push(Reply::status(404, "gone"))
        .push(Reply::Raw {
            status: 200,
            content_type: "text/plain".into(),
            body: vec![b'z'; 50],
        });
    let options = IngestOptions::default();
    let html = load(&format!("{}/page?token=SECRET", server.url()), &options)
        .await
        .unwrap();
    assert_eq!(html.kind, DocumentKind::Html);
    assert!(html.text.contains("Hello") && !html.text.contains("<p>"));
    assert!(
        !html.source.contains("SECRET"),
        "query strings are not kept: {}",
        html.source
    );
    let pdf_doc = load(&format!("{}/file", server.url()), &options)
        .await
        .unwrap();
    assert_eq!(pdf_doc.pages, Some(1));
    let plain = load(&format!("{}/notes", server.url()), &options)
        .await
        .unwrap();
    assert_eq!(plain.text, "plain words");
    let error = load(&format!("{}/missing", server.url()), &options)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("404"), "{error}");
    let small = IngestOptions {
        max_bytes: 10,
        ..options
    };
    let error = load(&format!("{}/big", server.url()), &small)
        .await
        .unwrap_err();
    assert!(matches!(error, IngestError::TooLarge { .. }), "{error:?}");
}

#[tokio::test]
async fn load_dispatches_paths() {
    let scratch = Scratch::new("dispatch");
    let path = scratch.write("a.txt", b"hello");
    let doc = load(path.to_str().unwrap(), &IngestOptions::default())
        .await
        .unwrap();
    assert_eq!(doc.text, "hello");
    assert_eq!(doc.source, path.display().to_string());
}
