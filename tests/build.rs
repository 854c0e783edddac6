//! `pactum build` end to end: the real binary on the shipped samples and on
//! fixture record folders under tests/cases/, checked with outside tools.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use support::{
    hidden_entries, pactum, pactum_in, pdf_count, pdf_text, repo, squeeze, tempdir, tool,
};

/// Builds samples/ once for all tests that only read the output.
fn samples_out() -> &'static Path {
    static OUT: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, out) = OUT.get_or_init(|| {
        let dir = tempdir();
        let out = dir.path().join("out");
        let reg = dir.path().join("register.sqlite");
        let run = pactum(&[
            "build",
            "samples",
            "--out",
            out.to_str().unwrap(),
            "--register",
            reg.to_str().unwrap(),
        ]);
        assert_eq!(run.code, 0, "build samples failed:\n{}", run.stderr);
        (dir, out)
    });
    out
}

/// Contract records in samples/, by id (read through the library's loader).
fn sample_contracts() -> BTreeMap<String, serde_json::Value> {
    let loaded = pactum::store::load_dir(&repo().join("samples")).unwrap();
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    loaded
        .records
        .into_iter()
        .filter(|r| r.kind == pactum::record::RecordKind::Contract)
        .map(|r| (r.id, r.value))
        .collect()
}

fn sample_parties() -> BTreeMap<String, serde_json::Value> {
    let loaded = pactum::store::load_dir(&repo().join("samples")).unwrap();
    loaded
        .records
        .into_iter()
        .filter(|r| r.kind == pactum::record::RecordKind::Party)
        .map(|r| (r.id, r.value))
        .collect()
}

#[test]
fn samples_give_one_pdf_per_contract_and_sha256sums_that_sha256sum_accepts() {
    let out = samples_out();
    let contracts = sample_contracts();
    assert!(contracts.len() >= 12, "samples need at least 12 contracts");
    for id in contracts.keys() {
        let pdf = out.join(format!("{id}.pdf"));
        let bytes = std::fs::read(&pdf).unwrap_or_else(|_| panic!("{id}.pdf missing"));
        assert!(bytes.starts_with(b"%PDF-"), "{id}.pdf is not a PDF");
    }
    // Every output is listed: the PDFs, manifest.json and register.csv.
    let sums = std::fs::read_to_string(out.join("SHA256SUMS")).unwrap();
    assert_eq!(sums.lines().count(), contracts.len() + 2);
    assert!(sums.contains("  manifest.json\n") && sums.contains("  register.csv\n"));
    let checked = tool("sha256sum", &["-c", "SHA256SUMS"], out);
    assert_eq!(
        checked.matches(": OK").count(),
        contracts.len() + 2,
        "{checked}"
    );
    // No staging folder or temporary file is left behind.
    let stray: Vec<_> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| {
            !n.ends_with(".pdf")
                && !["SHA256SUMS", "manifest.json", "register.csv"].contains(&n.as_str())
        })
        .collect();
    assert!(stray.is_empty(), "unexpected files: {stray:?}");
}

#[test]
fn service_contract_text_shows_parties_amounts_in_figures_and_capitals_and_dates() {
    let out = samples_out();
    let parties = sample_parties();
    let mut seen = 0;
    for (id, c) in sample_contracts() {
        if c["template"] != "service-zh" {
            continue;
        }
        seen += 1;
        let text = pdf_text(&out.join(format!("{id}.pdf")));
        for field in ["party_a", "party_b"] {
            let party = &parties[c[field].as_str().unwrap()];
            let name = squeeze(party["name"].as_str().unwrap());
            assert!(text.contains(&name), "{id}: {field} name {name} missing");
            if let Some(uscc) = party["uscc"].as_str() {
                assert!(text.contains(uscc), "{id}: 统一社会信用代码 {uscc} missing");
            }
        }
        let amount = pactum::money::Money::parse(c["amount"].as_str().unwrap()).unwrap();
        let figures = pactum::money::format_grouped(amount, "¥");
        let capitals = pactum::money::cny_upper(amount);
        assert!(text.contains(&figures), "{id}: {figures} missing");
        assert!(
            text.contains(&format!("人民币{capitals}")),
            "{id}: {capitals} missing"
        );
        let date = pactum::cndate::parse_iso_date(c["signing_date"].as_str().unwrap()).unwrap();
        assert!(
            text.contains(&pactum::cndate::date_cn(date)),
            "{id}: signing date missing"
        );
        for mark in [
            "第1页共",
            "目录",
            "第一条",
            "受控状态：受控",
            "修改次第：00",
            "合同编号：FW-",
        ] {
            assert!(text.contains(mark), "{id}: `{mark}` missing");
        }
    }
    assert!(seen >= 4, "expected several service contracts in samples");
}

#[test]
fn english_msa_has_page_x_of_y_and_amount_in_words() {
    let out = samples_out();
    let mut seen = 0;
    for (id, c) in sample_contracts() {
        if c["template"] != "msa-en" {
            continue;
        }
        seen += 1;
        let text = pdf_text(&out.join(format!("{id}.pdf")));
        let amount = pactum::money::Money::parse(c["amount"].as_str().unwrap()).unwrap();
        let words = squeeze(&pactum::money::en_words(amount));
        assert!(text.contains(&words), "{id}: `{words}` missing");
        assert!(text.contains("Page1of"), "{id}: page footer missing");
        let date = pactum::cndate::parse_iso_date(c["signing_date"].as_str().unwrap()).unwrap();
        assert!(
            text.contains(&squeeze(&pactum::cndate::date_en(date))),
            "{id}: date missing"
        );
    }
    assert!(seen >= 1);
}

#[test]
fn every_font_in_every_pdf_is_embedded() {
    let out = samples_out();
    for id in sample_contracts().keys() {
        let list = tool("pdffonts", &[&format!("{id}.pdf")], out);
        let rows: Vec<&str> = list.lines().skip(2).collect();
        assert!(!rows.is_empty(), "{id}: no fonts listed");
        for row in rows {
            // Columns: name type encoding emb sub uni object ID; `emb` must be yes.
            let cols: Vec<&str> = row.split_whitespace().collect();
            let emb = cols[cols.len() - 5];
            assert_eq!(emb, "yes", "{id}: font not embedded: {row}");
        }
        assert!(
            list.contains("NotoSerifSC"),
            "{id}: CJK serif not used:\n{list}"
        );
    }
}

#[test]
fn draft_builds_twice_give_byte_identical_outputs_and_never_touch_a_register() {
    let dir = tempdir();
    let reg = dir.path().join("must-not-exist.sqlite");
    let mut outs = Vec::new();
    for name in ["one", "two"] {
        let out = dir.path().join(name);
        let run = pactum(&[
            "build",
            "samples",
            "--draft",
            "--out",
            out.to_str().unwrap(),
            "--register",
            reg.to_str().unwrap(),
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        outs.push(out);
    }
    assert!(!reg.exists(), "draft mode opened the register");
    let names: Vec<_> = std::fs::read_dir(&outs[0])
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(names.len() > 13);
    for name in names {
        let a = std::fs::read(outs[0].join(&name)).unwrap();
        let b = std::fs::read(outs[1].join(&name)).unwrap();
        assert!(a == b, "{name:?} differs between two builds");
    }
    let text = pdf_text(&outs[0].join("fw-2026-001.pdf"));
    assert!(text.contains("FW-2026-DRAFT"), "draft number missing");
    assert!(
        text.contains("草稿") && text.contains("非受控"),
        "draft marks missing"
    );
}

/// `file:line:column` of the first line containing `needle` (column of the needle's value part).
fn locate(file: &str, needle: &str, value: &str) -> String {
    let text = std::fs::read_to_string(repo().join(file)).unwrap();
    let (n, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` not in {file}"));
    let col = line[..line.find(value).unwrap()].chars().count() + 1;
    format!("{file}:{}:{col}", n + 1)
}

#[test]
fn every_kind_of_bad_input_is_reported_with_its_place_in_one_run_and_nothing_is_written() {
    let dir = tempdir();
    let out = dir.path().join("out");
    let run = pactum(&[
        "build",
        "tests/cases/bad-input",
        "--workspace",
        ".",
        "--draft",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let c = "tests/cases/bad-input/contracts.yaml";
    let p = "tests/cases/bad-input/parties.yaml";
    let expected = [
        // wrong check character
        (
            locate(p, "Y4Z", "91350100M000100Y4Z"),
            "check character is Z, expected 3",
        ),
        // missing required field: points at the record
        (format!("{c}:1:1"), "missing required field `title`"),
        // wrong type
        (
            locate(c, "approvals: yes", "yes"),
            "expected an array, found \"yes\"",
        ),
        // dangling party reference
        (
            locate(c, "no-such-party", "no-such-party"),
            "no party with id `no-such-party`",
        ),
        // an amount written as a float
        (
            locate(c, "amount: 100000.5", "100000.5"),
            "expected a string, found the number 100000.5",
        ),
        // duplicate id, naming the first place (files load in path order: contracts.yaml first)
        (
            locate(p, "id: good-co", "good-co"),
            &format!(
                "duplicate id `good-co`: already used at {}",
                locate(c, "id: good-co", "good-co")
            ),
        ),
        // malformed YAML: the unclosed `[` swallows the next line, where the parser stops
        (
            "tests/cases/bad-input/broken.yaml:4:8".to_owned(),
            "malformed YAML",
        ),
    ];
    for (place, message) in &expected {
        let found = run
            .stderr
            .split("\nerror[")
            .any(|d| d.contains(message) && d.contains(&format!("--> {place}")));
        assert!(
            found,
            "no diagnostic `{message}` at {place} in:\n{}",
            run.stderr
        );
    }
    assert!(
        run.stderr.contains("write it in quotes, e.g. \"100000.5\""),
        "float hint missing"
    );
    assert!(
        !out.exists(),
        "a failed batch must not leave an output folder"
    );
}

#[test]
fn diagnostics_as_json_carry_file_line_column_and_pointer() {
    let dir = tempdir();
    let out = dir.path().join("out");
    let run = pactum(&[
        "build",
        "tests/cases/bad-input",
        "--workspace",
        ".",
        "--draft",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("stdout is JSON");
    let d = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["pointer"] == "/uscc")
        .expect("uscc diagnostic");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["record"], "bad-check");
    assert_eq!(d["pos"]["line"], 14);
    assert_eq!(d["pos"]["column"], 7);
    assert!(d["file"].as_str().unwrap().ends_with("parties.yaml"));
    assert_eq!(v["documents"].as_array().unwrap().len(), 0);
}

#[test]
fn markup_and_code_in_record_values_render_literally() {
    let dir = tempdir();
    let out = dir.path().join("out");
    let run = pactum(&[
        "build",
        "tests/cases/injection",
        "--workspace",
        ".",
        "--draft",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = pdf_text(&out.join("inject-001.pdf"));
    for literal in [
        r#"恶意#panic("x")公司]"#,
        r#"#read("/etc/passwd")[路]$x$*星*_下_"#,
        r#"<lbl>@ref\张喆"#,
        "//注释/*块",
        r#"注入]#panic("x")[测试$x$*b*_i_<lbl>@ref\//x/*y"#,
        r#"#panic("item")"#,
        // a table cell: pdftotext puts the wrapped second line after the next cell
        "*notbold*_notemph_`raw`=heading",
        "-list+enum/term:x",
        "$1+1$",
        "[milestone]#emph[x]",
        r#"#include"/etc/passwd""#,
        r#"#read("/etc/hostname")"#,
    ] {
        assert!(
            text.contains(&squeeze(literal)),
            "`{literal}` not printed literally"
        );
    }
    // Nothing of /etc/passwd leaked into the document.
    assert!(!text.contains("root:x:0:0"));
}

#[test]
fn a_character_no_font_can_draw_is_an_error_naming_record_field_and_character() {
    let dir = tempdir();
    let out = dir.path().join("out");
    let run = pactum(&[
        "build",
        "tests/cases/glyph",
        "--workspace",
        ".",
        "--draft",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let place = locate("tests/cases/glyph/records.yaml", "王\u{20000}", "王");
    assert!(
        run.stderr
            .contains("error[S206]: no embedded font can draw `\u{20000}` (U+20000)")
            && run.stderr.contains(&format!("--> {place}"))
            && run
                .stderr
                .contains("record `rare-co`, at /legal_representative"),
        "{}",
        run.stderr
    );
    // The contract using that party is not built; nothing was written (no --skip-invalid).
    assert!(run.stderr.contains("party `rare-co` has errors"));
    assert!(!out.exists());
}

#[test]
fn skip_invalid_builds_the_valid_records_and_still_exits_1() {
    let dir = tempdir();
    let out = dir.path().join("out");
    let run = pactum(&[
        "build",
        "tests/cases/glyph",
        "--workspace",
        ".",
        "--draft",
        "--skip-invalid",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(out.join("good-001.pdf").exists());
    assert!(!out.join("tofu-001.pdf").exists());
    let sums = std::fs::read_to_string(out.join("SHA256SUMS")).unwrap();
    assert!(sums.contains("good-001.pdf") && !sums.contains("tofu-001"));
    tool("sha256sum", &["-c", "SHA256SUMS"], &out);
}

#[test]
fn no_workspace_is_a_usage_error_with_exit_2() {
    let dir = tempdir();
    std::fs::write(dir.path().join("r.yaml"), "kind: party\nid: a\n").unwrap();
    let run = pactum(&[
        "build",
        dir.path().to_str().unwrap(),
        "--draft",
        "--out",
        dir.path().join("out").to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no workspace found"), "{}", run.stderr);
}

#[test]
fn emit_typst_writes_each_documents_source_and_the_template_files_it_read() {
    let dir = tempdir();
    let emit = dir.path().join("typst");
    let run = pactum(&[
        "build",
        "samples",
        "--draft",
        "--out",
        dir.path().join("out").to_str().unwrap(),
        "--emit-typst",
        emit.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let main = std::fs::read_to_string(emit.join("fw-2026-001/main.typ")).unwrap();
    assert!(main.contains("#import \"/_lib/contract.typ\""));
    assert!(
        main.contains("FW\\-2026\\-DRAFT"),
        "record values are escaped in the source"
    );
    let lib = std::fs::read(emit.join("fw-2026-001/_lib/contract.typ")).unwrap();
    assert_eq!(
        lib,
        std::fs::read(repo().join("templates/_lib/contract.typ")).unwrap()
    );
}

#[test]
fn synthetic_records_are_valid_and_distinct() {
    let dir = tempdir();
    // In a folder without samples/: the model record is built in.
    let records = dir.path().join("records");
    let run = pactum_in(dir.path(), &["synth", "--count", "12", "--out", "records"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The same records as from the repository's samples folder.
    let from_samples = dir.path().join("from-samples");
    let run = pactum(&[
        "synth",
        "--count",
        "12",
        "--samples",
        "samples",
        "--out",
        from_samples.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for f in [
        "contracts/synth-00011.yaml",
        "parties/synth-party-00003.yaml",
    ] {
        assert_eq!(
            std::fs::read(records.join(f)).unwrap(),
            std::fs::read(from_samples.join(f)).unwrap(),
            "{f}"
        );
    }
    // A samples folder without the model record is named in the error.
    let run = pactum_in(
        dir.path(),
        &["synth", "--samples", "nowhere", "--out", "more"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("nowhere/contracts/fw-2026-003.yaml"),
        "{}",
        run.stderr
    );
    assert!(!dir.path().join("more").exists());
    // A folder that holds records already is refused and left as it was.
    let run = pactum_in(dir.path(), &["synth", "--count", "3", "--out", "records"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_dir(records.join("contracts"))
            .unwrap()
            .count(),
        12
    );
    let hidden = hidden_entries(dir.path());
    assert!(hidden.is_empty(), "staging left behind: {hidden:?}");
    let out = dir.path().join("out");
    let run = pactum(&[
        "build",
        records.to_str().unwrap(),
        "--workspace",
        ".",
        "--draft",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let sums = std::fs::read_to_string(out.join("SHA256SUMS")).unwrap();
    let digests: std::collections::BTreeSet<&str> = sums
        .lines()
        .filter(|l| l.ends_with(".pdf"))
        .map(|l| &l[..64])
        .collect();
    assert_eq!(digests.len(), 12, "synthetic documents are not distinct");
}

#[test]
fn init_makes_a_workspace_that_builds_and_refuses_to_overwrite_one() {
    let tmp = tempdir();
    let ws = tmp.path().join("legal");
    let run = pactum_in(tmp.path(), &["init", "legal"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("next: cd legal && pactum build records --out out")
    );
    // Everything the pipeline needs, and nothing left over from the writing.
    for f in [
        "templates/service-zh/template.toml",
        "templates/_lib/contract.typ",
        "templates/fonts/NotoSansCJKsc-Regular.otf",
        "templates/fonts/OFL-NotoSansCJKsc.txt",
        "schemas/policy.yaml",
        "records/contracts/fw-2026-001.yaml",
    ] {
        assert!(ws.join(f).is_file(), "{f} missing");
    }
    let hidden = hidden_entries(tmp.path());
    assert!(hidden.is_empty(), "staging left behind: {hidden:?}");

    // The README's first command, in the new workspace.
    let run = pactum_in(&ws, &["build", "records", "--out", "out"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(pdf_count(&ws.join("out")), 13);
    let sums = tool("sha256sum", &["-c", "SHA256SUMS"], &ws.join("out"));
    // 13 PDFs, manifest.json and register.csv.
    assert_eq!(
        sums.lines().filter(|l| l.ends_with(": OK")).count(),
        15,
        "{sums}"
    );

    // A second init into the same folder changes nothing.
    std::fs::write(ws.join("schemas/policy.yaml"), b"# edited\n").unwrap();
    let run = pactum_in(tmp.path(), &["init", "legal"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("already exists and holds files"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(ws.join("schemas/policy.yaml")).unwrap(),
        b"# edited\n"
    );

    // A folder with only hidden entries (a fresh git repository), named `.`.
    let repo_dir = tmp.path().join("repo");
    std::fs::create_dir_all(repo_dir.join(".git")).unwrap();
    let run = pactum_in(&repo_dir, &["init", "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut names: Vec<String> = std::fs::read_dir(&repo_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [".git", ".gitignore", "records", "schemas", "templates"]
    );
    let run = pactum_in(&repo_dir, &["build", "records", "--draft", "--out", "out"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn init_writes_a_gitignore_that_keeps_the_register_and_appends_to_an_existing_one() {
    let tmp = tempdir();
    let run = pactum_in(tmp.path(), &["init", "legal"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("wrote .gitignore (/out/ ")
            && run.stderr.contains("register.sqlite is not ignored"),
        "{}",
        run.stderr
    );
    let ws = tmp.path().join("legal");
    let text = std::fs::read_to_string(ws.join(".gitignore")).unwrap();
    let rules: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        rules,
        [
            "/out/",
            "/.pactum/check-cache/",
            "/.pactum/*-journal",
            "/.pactum/*-wal",
            "/.pactum/*-shm",
            "/templates/fonts/"
        ]
    );
    // What git makes of it: outputs, caches and font copies ignored; the
    // register, the handover log, records and templates kept.
    tool("git", &["init", "-q"], &ws);
    for (path, ignored) in [
        ("out/fw-2026-001.pdf", true),
        (".pactum/check-cache/x", true),
        (".pactum/register.sqlite-journal", true),
        ("templates/fonts/NotoSerifSC-Regular.ttf", true),
        (".pactum/register.sqlite", false),
        (".pactum/handover.jsonl", false),
        ("records/contracts/fw-2026-001.yaml", false),
        ("templates/service-zh/main.typ.tera", false),
    ] {
        let out = std::process::Command::new("git")
            .args(["check-ignore", "-q", path])
            .current_dir(&ws)
            .status()
            .expect("git is missing");
        assert_eq!(out.success(), ignored, "{path}");
    }

    // An existing .gitignore (a repository with .git and its own rules) keeps
    // its lines and gets only the missing ones.
    let repo_dir = tmp.path().join("repo");
    std::fs::create_dir_all(repo_dir.join(".git")).unwrap();
    std::fs::write(repo_dir.join(".gitignore"), "*.log\n/out/").unwrap();
    let run = pactum_in(&repo_dir, &["init", "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("added 5 line(s) to .gitignore"),
        "{}",
        run.stderr
    );
    let text = std::fs::read_to_string(repo_dir.join(".gitignore")).unwrap();
    assert!(text.starts_with("*.log\n/out/\n\n# pactum:"), "{text}");
    assert_eq!(text.matches("/out/").count(), 1, "{text}");
    assert!(text.ends_with("/.pactum/check-cache/\n/.pactum/*-journal\n/.pactum/*-wal\n/.pactum/*-shm\n/templates/fonts/\n"), "{text}");
    let mut hidden = hidden_entries(&repo_dir);
    hidden.sort();
    assert_eq!(hidden, [".git", ".gitignore"], "staging left behind");
}
