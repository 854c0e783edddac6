//! Revisions that mean a change, and the issuing workflow around them:
//! a template change a document cannot see leaves it untouched, a register
//! upgrade moves no revision, part of a batch can be issued, records can be
//! held back, voided records are skipped, and stray PDFs are named and pruned.
//! Each test works on its own copy of the shipped workspace.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use support::{edit, pactum_in, pdf_text, workspace_copy};

/// `pactum build <records…> --out <out> --format json` in `ws`; the parsed outcome.
fn build_json(ws: &Path, args: &[&str]) -> (i32, serde_json::Value, String) {
    let mut all = vec!["build"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let run = pactum_in(ws, &all);
    let v = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("no JSON outcome ({e}): {}\n{}", run.stdout, run.stderr));
    (run.code, v, run.stderr)
}

/// Each built document's id → its `change` (new, revised, unchanged).
fn changes(outcome: &serde_json::Value) -> BTreeMap<String, String> {
    outcome["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["id"].as_str().unwrap().to_owned(),
                d["change"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The register as JSON rows.
fn export(ws: &Path) -> Vec<serde_json::Value> {
    let run = pactum_in(ws, &["register", "export", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap()
}

/// Record id → (number, revision) in the register.
fn revisions(ws: &Path) -> BTreeMap<String, (String, u64)> {
    export(ws)
        .iter()
        .map(|r| {
            (
                r["record_id"].as_str().unwrap().to_owned(),
                (
                    r["number"].as_str().unwrap().to_owned(),
                    r["revision"]["revision"].as_u64().unwrap(),
                ),
            )
        })
        .collect()
}

/// The sample contracts' ids with their template names.
fn templates_of(ws: &Path) -> BTreeMap<String, String> {
    let loaded = pactum::store::load_dir(&ws.join("samples")).unwrap();
    loaded
        .records
        .iter()
        .filter(|r| r.kind == pactum::record::RecordKind::Contract)
        .map(|r| (r.id.clone(), r.str_at("/template").unwrap().to_owned()))
        .collect()
}

fn same_file(a: &Path, b: &Path) -> bool {
    std::fs::read(a).unwrap() == std::fs::read(b).unwrap()
}

#[test]
fn a_zh_clause_change_revises_exactly_the_documents_that_include_it_and_a_comment_revises_none() {
    let ws = workspace_copy();
    let ws = ws.path();
    let (code, first, err) = build_json(ws, &["samples", "--out", "o1"]);
    assert_eq!(code, 0, "{err}");
    assert!(changes(&first).values().all(|c| c == "new"), "{first}");
    let before = revisions(ws);

    // A visible change to the 违约责任 clause, which only service-zh and nda-zh include.
    let clause = "clauses/zh/breach.typ.tera";
    let including: Vec<String> = std::fs::read_dir(ws.join("templates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|d| {
            std::fs::read_to_string(d.join("main.typ.tera")).is_ok_and(|t| t.contains(clause))
        })
        .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        including.contains(&"service-zh".to_owned()) && !including.contains(&"msa-en".to_owned())
    );
    edit(
        &ws.join("templates").join(clause),
        "还应当赔偿不足部分。",
        "还应当赔偿不足部分，守约方有权书面催告。",
    );
    let (code, second, err) = build_json(ws, &["samples", "--out", "o2"]);
    assert_eq!(code, 0, "{err}");
    let after = revisions(ws);
    let templates = templates_of(ws);
    let change = changes(&second);
    let mut revised = 0;
    for (id, template) in &templates {
        let pdf = format!("{id}.pdf");
        let (number, revision) = &after[id];
        assert_eq!(number, &before[id].0, "{id} changed its number");
        if including.contains(template) {
            revised += 1;
            assert_eq!(
                *revision, 1,
                "{id} includes the clause but kept its revision"
            );
            assert_eq!(change[id], "revised", "{second}");
            assert!(!same_file(
                &ws.join("o1").join(&pdf),
                &ws.join("o2").join(&pdf)
            ));
            assert!(pdf_text(&ws.join("o2").join(&pdf)).contains("修改次第：01"));
        } else {
            assert_eq!(
                *revision, 0,
                "{id} ({template}) cannot include the clause but was revised"
            );
            assert_eq!(change[id], "unchanged", "{second}");
            assert!(
                same_file(&ws.join("o1").join(&pdf), &ws.join("o2").join(&pdf)),
                "{pdf} changed although its template does not include {clause}"
            );
        }
    }
    assert!(
        revised >= 2 && revised < templates.len(),
        "{revised} of {}",
        templates.len()
    );
    // The build says why, and so does the register.
    let doc = second["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["change"] == "revised")
        .unwrap();
    assert_eq!(
        doc["why"]["template_files"],
        serde_json::json!([clause]),
        "{doc}"
    );
    assert_eq!(doc["why"]["record_fields"], serde_json::json!([]), "{doc}");
    let show = pactum_in(ws, &["register", "show", doc["number"].as_str().unwrap()]);
    assert_eq!(show.code, 0, "{}", show.stderr);
    assert!(
        show.stdout.contains("why      first issue")
            && show.stdout.contains(&format!(
                "why      template files changed: templates/{clause}"
            )),
        "{}",
        show.stdout
    );
    assert!(
        show.stdout.contains(&format!("templates/{clause}  ")),
        "{}",
        show.stdout
    );

    // A comment that renders nothing, in the typst library every document reads.
    let lib = ws.join("templates/_lib/contract.typ");
    let text = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, format!("// 注释：不影响排版\n{text}")).unwrap();
    let (code, third, err) = build_json(ws, &["samples", "--out", "o3"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        changes(&third).values().all(|c| c == "unchanged"),
        "{third}"
    );
    assert_eq!(revisions(ws), after);
    for id in templates.keys() {
        let pdf = format!("{id}.pdf");
        assert!(
            same_file(&ws.join("o2").join(&pdf), &ws.join("o3").join(&pdf)),
            "{pdf}"
        );
    }
    // The human summary names each group.
    let run = pactum_in(ws, &["build", "samples", "--out", "o4"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("unchanged ({}):", templates.len())),
        "{}",
        run.stderr
    );
}

#[test]
fn upgrading_a_version_1_register_gives_no_document_a_new_revision() {
    let ws = workspace_copy();
    let ws = ws.path();
    let run = pactum_in(ws, &["build", "samples", "--out", "o1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let before = revisions(ws);
    // Turn the register back into what pactum wrote before schema version 2:
    // no recorded files, no pactum version, the old whole-folder template digest.
    {
        let conn = rusqlite::Connection::open(ws.join(".pactum/register.sqlite")).unwrap();
        conn.execute_batch(
            "DROP TABLE revision_files;
             DROP TABLE reservations;
             ALTER TABLE revisions DROP COLUMN pactum_version;
             UPDATE revisions SET template_sha256 = 'digest-of-all-template-files';
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let (code, outcome, err) = build_json(ws, &["samples", "--out", "o2"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        changes(&outcome).values().all(|c| c == "unchanged"),
        "{outcome}"
    );
    assert_eq!(revisions(ws), before);
    for e in std::fs::read_dir(ws.join("o1")).unwrap() {
        let name = e.unwrap().file_name();
        if name.to_string_lossy().ends_with(".pdf") {
            assert!(
                same_file(&ws.join("o1").join(&name), &ws.join("o2").join(&name)),
                "{name:?}"
            );
        }
    }
    let conn = rusqlite::Connection::open(ws.join(".pactum/register.sqlite")).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, pactum::register::SCHEMA_VERSION);
    // The register says what it does not know.
    let number = &before["fw-2026-001"].0;
    let show = pactum_in(ws, &["register", "show", number]);
    assert!(
        show.stdout.contains("template files not recorded"),
        "{}",
        show.stdout
    );
}

#[test]
fn a_file_or_only_issues_part_of_a_batch_with_parties_from_the_whole_records_folder() {
    let ws = workspace_copy();
    let ws = ws.path();
    // One contract file: its parties are in samples/parties.
    let (code, outcome, err) =
        build_json(ws, &["samples/contracts/fw-2026-003.yaml", "--out", "o1"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        changes(&outcome).keys().collect::<Vec<_>>(),
        ["fw-2026-003"]
    );
    assert_eq!(revisions(ws).len(), 1);
    let sums = std::fs::read_to_string(ws.join("o1/SHA256SUMS")).unwrap();
    assert!(
        sums.contains("fw-2026-003.pdf") && !sums.contains("fw-2026-001.pdf"),
        "{sums}"
    );

    // --only with a glob, over the whole folder.
    let (code, outcome, err) = build_json(ws, &["samples", "--only", "bm-*", "--out", "o2"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        changes(&outcome).keys().collect::<Vec<_>>(),
        ["bm-2026-001", "bm-2026-002"]
    );
    assert_eq!(revisions(ws).len(), 3);

    // A pattern that matches nothing: exit 2, nothing written, no number.
    let run = pactum_in(
        ws,
        &["build", "samples", "--only", "fw-2099-*", "--out", "o3"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("--only `fw-2099-*` matches no contract"),
        "{}",
        run.stderr
    );
    assert!(!ws.join("o3").exists());
    assert_eq!(revisions(ws).len(), 3);
}

#[test]
fn a_record_with_status_draft_is_validated_but_never_numbered() {
    let ws = workspace_copy();
    let ws = ws.path();
    let f = ws.join("samples/contracts/fw-2026-004.yaml");
    edit(&f, "\ntitle: ", "\nstatus: draft\ntitle: ");
    let (code, outcome, err) = build_json(ws, &["samples", "--out", "o1"]);
    assert_eq!(code, 0, "{err}");
    assert!(!changes(&outcome).contains_key("fw-2026-004"));
    assert_eq!(outcome["held_back"][0]["id"], "fw-2026-004", "{outcome}");
    assert!(!revisions(ws).contains_key("fw-2026-004"));
    assert!(!ws.join("o1/fw-2026-004.pdf").exists());
    let notes: Vec<&serde_json::Value> = outcome["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "N503")
        .collect();
    assert_eq!(notes.len(), 1, "{outcome}");
    assert_eq!(notes[0]["severity"], "note");
    // Validated all the same: a bad value in a held-back record is an error.
    edit(&f, "status: draft", "status: drafty");
    let run = pactum_in(ws, &["build", "samples", "--out", "o2"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("fw-2026-004.yaml:"), "{}", run.stderr);
    edit(&f, "status: drafty", "status: draft");
    // A draft build typesets it.
    let run = pactum_in(ws, &["build", "samples", "--draft", "--out", "d"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(pdf_text(&ws.join("d/fw-2026-004.pdf")).contains("草稿"));
    // Approved: it is numbered next.
    edit(&f, "status: draft", "status: approved");
    let (code, outcome, err) = build_json(ws, &["samples", "--out", "o1"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(changes(&outcome)["fw-2026-004"], "new");
}

#[test]
fn a_voided_record_is_skipped_with_a_note_and_its_pdf_is_named_then_pruned() {
    let ws = workspace_copy();
    let ws = ws.path();
    let run = pactum_in(ws, &["build", "samples", "--out", "out"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let number = revisions(ws)["fw-2026-002"].0.clone();
    let run = pactum_in(
        ws,
        &[
            "register",
            "void",
            &number,
            "--reason",
            "签约主体变更，作废重签",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let before = export(ws);
    let run = pactum_in(ws, &["build", "samples", "--out", "out"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("[N501]")
            && run.stderr.contains(&format!("skipped: contract {number} (record `fw-2026-002`) was voided: 签约主体变更，作废重签")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("[N504]") && run.stderr.contains("fw-2026-002.pdf"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("skipped, void (1):"), "{}", run.stderr);
    assert_eq!(
        export(ws),
        before,
        "a skipped void record changed the register"
    );
    let sums = std::fs::read_to_string(ws.join("out/SHA256SUMS")).unwrap();
    let manifest = std::fs::read_to_string(ws.join("out/manifest.json")).unwrap();
    assert!(!sums.contains("fw-2026-002.pdf") && !manifest.contains("\"fw-2026-002.pdf\""));
    assert!(sums.contains("fw-2026-001.pdf"));
    assert!(
        ws.join("out/fw-2026-002.pdf").exists(),
        "kept without --prune"
    );
    let (code, outcome, err) = build_json(ws, &["samples", "--out", "out", "--prune"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(outcome["stray"], serde_json::json!(["fw-2026-002.pdf"]));
    assert_eq!(outcome["pruned"], true);
    assert_eq!(outcome["void"][0]["number"], number.as_str());
    assert!(!ws.join("out/fw-2026-002.pdf").exists());
    // `sha256sum -c` agrees with the folder as it now is.
    support::tool(
        "sha256sum",
        &["-c", "--quiet", "SHA256SUMS"],
        &ws.join("out"),
    );
}
