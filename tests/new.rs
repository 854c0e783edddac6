//! `pactum new TEMPLATE`: record skeletons, their `<fill in>` diagnostics
//! (S207), and what `new` refuses.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use support::{edit, hidden_entries, pactum, pactum_in, tempdir, workspace_copy};

/// The shipped templates (every folder under templates/ with a template.toml).
fn templates() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(support::repo().join("templates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("template.toml").is_file())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A valid value for the field at `pointer` (indices dropped) of a `template`
/// record whose parties (and, for the 补充协议, parent) are fw-2026-001's.
fn value(template: &str, pointer: &str) -> &'static str {
    let field: Vec<&str> = pointer
        .split('/')
        .skip(1)
        .filter(|t| t.parse::<usize>().is_err())
        .collect();
    let en = template.ends_with("-en");
    match (field.join(".").as_str(), en) {
        ("title", _) => "测试协议",
        ("party_a", _) => "yunxiu-data",
        ("party_b", _) => "lanchuan-it",
        ("signing_date" | "effective_date", _) => "2026-05-10",
        ("expiry_date", _) => "2027-05-09",
        ("signing_place", false) => "北京市海淀区",
        ("signing_place", true) => "Beijing",
        ("confidentiality", _) => "二级",
        // 重大 by the board satisfies every tier, whatever the amount.
        ("approvals.tier", _) => "重大",
        ("approvals.approver" | "approvals.role", _) => "董事会",
        ("approvals.date", _) => "2026-05-06",
        ("amount" | "payment_schedule.amount", _) => "\"100000.00\"",
        ("payment_schedule.milestone", _) => "合同生效",
        ("payment_schedule.due", _) => "2026-06-01",
        ("currency", _) => "CNY",
        ("services.item" | "services.description" | "services.deliverable", _) => "运维服务",
        ("acceptance.period_days", _) => "15",
        ("acceptance.method", _) => "书面验收",
        ("confidentiality_years", _) => "3",
        ("ip", false) => "甲方所有",
        ("ip", true) => "Customer",
        ("liquidated_damages_rate", _) => "\"0.05%\"",
        ("governing_law", _) => "the laws of the People's Republic of China",
        ("dispute.method", _) => "arbitration",
        ("dispute.body", false) => "北京仲裁委员会",
        ("dispute.body", true) => "Beijing Arbitration Commission",
        ("dispute.seat", _) => "Beijing",
        ("purpose", _) => "评估合作可能性",
        ("mutual", _) => "true",
        ("parent", _) => "fw-2026-001",
        ("reason", _) => "服务范围调整",
        ("changes.clause", _) => "第四条",
        ("changes.before" | "changes.after", _) => "（无）",
        (other, _) => panic!("the test has no value for `{other}` of {template}"),
    }
}

/// `pactum check RECORDS --format json` in `ws`: exit code and diagnostics.
fn check_json(ws: &Path, records: &str, extra: &[&str]) -> (i32, Vec<serde_json::Value>) {
    let mut args = vec!["check", records, "--format", "json", "-q"];
    args.extend(extra);
    let run = pactum_in(ws, &args);
    let json: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("check printed no JSON ({e}): {}", run.stderr));
    let diags = json["diagnostics"].as_array().cloned().unwrap_or_default();
    (run.code, diags)
}

/// Replaces the placeholder each S207 diagnostic points at (by its line) with a valid value.
fn fill(ws: &Path, diags: &[serde_json::Value]) {
    let mut by_file: BTreeMap<String, Vec<(usize, String)>> = BTreeMap::new();
    for d in diags {
        assert_eq!(d["code"], "S207", "{d}");
        let file = d["file"].as_str().unwrap().to_owned();
        let line = d["pos"]["line"].as_u64().unwrap() as usize;
        by_file
            .entry(file)
            .or_default()
            .push((line, d["pointer"].as_str().unwrap().to_owned()));
    }
    for (file, holes) in by_file {
        let path = ws.join(&file);
        let template = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        for (line, pointer) in holes {
            let l = &mut lines[line - 1];
            assert!(l.contains("<fill in>"), "{file}:{line} is `{l}`");
            *l = l.replacen("<fill in>", value(&template, &pointer), 1);
        }
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    }
}

#[test]
fn every_template_skeleton_fails_with_only_fill_in_diagnostics_and_passes_once_filled() {
    let ws = workspace_copy();
    let ws = ws.path();
    let records = ws.join("records");
    std::fs::create_dir_all(records.join("contracts")).unwrap();
    std::fs::create_dir_all(records.join("parties")).unwrap();
    for p in ["yunxiu-data", "lanchuan-it"] {
        std::fs::copy(
            ws.join(format!("samples/parties/{p}.yaml")),
            records.join(format!("parties/{p}.yaml")),
        )
        .unwrap();
    }
    // The 补充协议's parent: an existing contract of the workspace (draft mode
    // needs no issued number).
    std::fs::copy(
        ws.join("samples/contracts/fw-2026-001.yaml"),
        records.join("contracts/fw-2026-001.yaml"),
    )
    .unwrap();
    let (code, diags) = check_json(ws, "records", &["--update"]);
    assert_eq!((code, diags.len()), (0, 0), "{diags:?}");

    let templates = templates();
    assert_eq!(
        templates,
        ["msa-en", "nda-zh", "service-zh", "supplement-zh"]
    );
    for t in &templates {
        let out = format!("records/contracts/{t}.yaml");
        let run = pactum_in(ws, &["new", t, "--id", &format!("new-{t}"), "--out", &out]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let text = std::fs::read_to_string(ws.join(&out)).unwrap();
        assert!(
            text.starts_with(&format!(
                "# yaml-language-server: $schema=../../schemas/{t}.schema.json\n"
            )),
            "{text}"
        );
        assert!(text.contains(&format!("\ntemplate: {t}\n")), "{text}");
        assert!(text.contains("\nkind: contract\n"), "{text}");
    }
    // msa-en arbitration needs a seat: the skeleton names the condition on the
    // commented-out field, and the author uncomments it.
    let msa = ws.join("records/contracts/msa-en.yaml");
    assert!(
        std::fs::read_to_string(&msa)
            .unwrap()
            .contains("Required when `method` is `arbitration`.\n  # seat: <fill in>\n")
    );
    edit(&msa, "  # seat: <fill in>", "  seat: <fill in>");

    let (code, diags) = check_json(ws, "records", &[]);
    assert_eq!(code, 1);
    let other: Vec<_> = diags.iter().filter(|d| d["code"] != "S207").collect();
    assert!(other.is_empty(), "not only fill-in diagnostics: {other:#?}");
    for t in &templates {
        let of_t: Vec<_> = diags
            .iter()
            .filter(|d| d["record"] == format!("new-{t}"))
            .collect();
        assert!(of_t.len() >= 10, "{t}: {of_t:#?}");
        for d in &of_t {
            let field = d["pointer"].as_str().unwrap().rsplit('/').next().unwrap();
            assert!(
                d["message"].as_str().unwrap().starts_with("fill in `")
                    && d["message"].as_str().unwrap().contains(field),
                "{d}"
            );
            assert!(!d["hint"].as_str().unwrap_or("").is_empty(), "{d}");
        }
    }
    // The hints: the schema's description, the allowed values, the party ids.
    let hint = |record: &str, pointer: &str| {
        diags
            .iter()
            .find(|d| d["record"] == record && d["pointer"] == pointer)
            .unwrap_or_else(|| panic!("no S207 at {record} {pointer}"))["hint"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(hint("new-service-zh", "/ip").contains("one of: 甲方所有, 乙方所有, 共有"));
    assert!(hint("new-nda-zh", "/signing_date").contains("签订日期"));
    assert!(hint("new-msa-en", "/party_a").contains("lanchuan-it, yunxiu-data"));
    assert!(hint("new-supplement-zh", "/approvals/0/tier").contains("one of: 普通, 重要, 重大"));

    // Draft build: the same diagnostics, nothing written.
    let out = ws.join("out");
    let run = pactum_in(
        ws,
        &[
            "build", "records", "--draft", "--out", "out", "--format", "json",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let codes: Vec<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes.len(), diags.len());
    assert!(codes.iter().all(|c| *c == "S207"), "{codes:?}");
    assert_eq!(support::pdf_count(&out), 0);

    fill(ws, &diags);
    let (code, diags) = check_json(ws, "records", &[]);
    let not_added: Vec<_> = diags.iter().filter(|d| d["code"] != "T441").collect();
    assert!(not_added.is_empty(), "{not_added:#?}");
    assert_eq!(code, 1, "the new documents are not in the lock yet");
    let (code, diags) = check_json(ws, "records", &["--update"]);
    assert_eq!((code, diags.len()), (0, 0), "{diags:#?}");
    let run = pactum_in(ws, &["build", "records", "--draft", "--out", "out"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(support::pdf_count(&out), 5);
}

#[test]
fn without_an_id_the_id_is_a_placeholder_reported_alone() {
    let ws = workspace_copy();
    let run = pactum_in(
        ws.path(),
        &["new", "nda-zh", "--out", "samples/contracts/new.yaml"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (code, diags) = check_json(ws.path(), "samples", &[]);
    assert_eq!(code, 1);
    let new: Vec<_> = diags
        .iter()
        .filter(|d| d["file"].as_str().unwrap().ends_with("new.yaml"))
        .collect();
    assert_eq!(new.len(), 1, "{new:#?}");
    assert_eq!(new[0]["code"], "S207");
    assert_eq!(new[0]["message"], "fill in `id`");
    assert_eq!(new[0]["pointer"], "/id");
}

#[test]
fn new_writes_to_stdout_with_the_schema_line_relative_to_the_current_folder() {
    let run = pactum(&["new", "service-zh", "--id", "fw-2026-099"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "# yaml-language-server: $schema=schemas/service-zh.schema.json"
    );
    assert!(lines.contains(&"id: fw-2026-099"));
    assert!(lines.contains(&"template: service-zh"));
    // Optional in the schema, required by the policy (P0201, 签订地点).
    assert!(lines.contains(&"confidentiality: <fill in>"));
    assert!(lines.contains(&"signing_place: <fill in>"));
    // Optional fields are commented out, each under its description.
    let deposit = lines
        .iter()
        .position(|l| *l == "# deposit: <fill in>")
        .expect("deposit is not commented out");
    assert!(
        lines[deposit - 1].starts_with("# 定金"),
        "{}",
        lines[deposit - 1]
    );
    // A required list of objects gets one item with its required fields.
    let at = lines
        .iter()
        .position(|l| *l == "payment_schedule:")
        .unwrap();
    assert_eq!(lines[at + 2], "  - milestone: <fill in>");
    assert_eq!(lines[at + 4], "    amount: <fill in>");
    // Enumerations list their values.
    let ip = lines.iter().position(|l| *l == "ip: <fill in>").unwrap();
    assert!(lines[ip - 1].ends_with("One of: 甲方所有 | 乙方所有 | 共有."));
}

#[test]
fn unknown_templates_existing_files_and_bad_ids_are_refused_and_nothing_is_written() {
    let tmp = tempdir();
    let out = tmp.path().join("x.yaml");
    let out_s = out.to_str().unwrap();
    let run = pactum(&["new", "lease-zh", "--out", out_s]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unknown template `lease-zh`")
            && run
                .stderr
                .contains("msa-en, nda-zh, service-zh, supplement-zh"),
        "{}",
        run.stderr
    );
    assert!(!out.exists());

    let run = pactum(&["new", "nda-zh", "--id", "Bad Id", "--out", out_s]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("invalid id `Bad Id`"), "{}", run.stderr);
    assert!(!out.exists());

    std::fs::write(&out, "mine\n").unwrap();
    let run = pactum(&["new", "nda-zh", "--out", out_s]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "mine\n");
    assert!(hidden_entries(tmp.path()).is_empty());

    // Written whole, with the schema line relative to the file's folder.
    let out = tmp.path().join("a/b/n.yaml");
    let run = pactum(&["new", "nda-zh", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(&out).unwrap();
    let schema = support::repo().join("schemas/nda-zh.schema.json");
    let line = text.lines().next().unwrap();
    let rel = line
        .strip_prefix("# yaml-language-server: $schema=")
        .unwrap();
    assert_eq!(
        std::fs::canonicalize(out.parent().unwrap().join(rel)).unwrap(),
        std::fs::canonicalize(schema).unwrap()
    );
    assert!(hidden_entries(&tmp.path().join("a/b")).is_empty());
}
