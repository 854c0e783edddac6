//! `pactum check` end to end: the real binary on copies of the shipped
//! workspace, its outputs read by the consumers CI users rely on (a JUnit
//! XSD through python's xmlschema, GitHub's workflow-command syntax, headless
//! Chromium for the report).

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use support::{edit, pactum, pactum_in, repo, tempdir, tool, workspace_copy};

/// Contract ids in `samples/` whose template is one of `templates`.
fn contracts_using(samples: &Path, templates: &[&str]) -> BTreeSet<String> {
    let loaded = pactum::store::load_dir(samples).unwrap();
    loaded
        .records
        .into_iter()
        .filter(|r| r.kind == pactum::record::RecordKind::Contract)
        .filter(|r| templates.contains(&r.str_at("/template").unwrap_or_default()))
        .map(|r| r.id)
        .collect()
}

fn json(run: &support::Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\n{}", run.stdout, run.stderr))
}

fn ids_with_status(v: &serde_json::Value, status: &str) -> BTreeSet<String> {
    v["documents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] == status)
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The clause sentence the tests change one word in: printed by every
/// service-zh and nda-zh document (zh/breach is included by both), outside any
/// `{% if %}`, and by no other template.
const CLAUSE: &str = "templates/clauses/zh/breach.typ.tera";
const WORD_BEFORE: &str = "因违约所受的直接损失";
const WORD_AFTER: &str = "因违约所受的实际损失";

#[test]
fn the_committed_lock_matches_the_samples() {
    let run = pactum(&["check", "samples", "--no-cache"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let total = contracts_using(
        &repo().join("samples"),
        &["service-zh", "nda-zh", "msa-en", "supplement-zh"],
    )
    .len();
    assert!(
        run.stderr.contains(&format!(
            "check: {total} document(s): 0 changed, 0 added, 0 removed, {total} unchanged; {total} typeset, 0 from cache"
        )),
        "{}",
        run.stderr
    );
}

/// Regression: input hashes once included the template folder's path when the
/// workspace was the current folder, so they changed with the working directory.
#[test]
fn input_hashes_do_not_depend_on_how_the_records_folder_is_named() {
    let abs = repo().join("samples");
    for (dir, records) in [
        (repo(), "samples".to_owned()),
        (repo().join("samples"), ".".to_owned()),
        (std::env::temp_dir(), abs.to_str().unwrap().to_owned()),
    ] {
        let run = pactum_in(&dir, &["check", &records, "--format", "json"]);
        assert_eq!(run.code, 0, "{records}: {}", run.stderr);
        let v = json(&run);
        for d in v["documents"].as_array().unwrap() {
            assert_eq!(d["inputs_changed"], false, "{records}: {}", d["id"]);
        }
    }
}

#[test]
fn one_word_in_a_clause_fails_check_names_exactly_its_documents_and_update_accepts_it() {
    let ws = workspace_copy();
    let dir = ws.path();
    // Unchanged copy: passes, and warms the cache.
    let run = pactum_in(dir, &["check", "samples"]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    edit(&dir.join(CLAUSE), WORD_BEFORE, WORD_AFTER);
    let expected = contracts_using(&dir.join("samples"), &["service-zh", "nda-zh"]);
    let all = contracts_using(
        &dir.join("samples"),
        &["service-zh", "nda-zh", "msa-en", "supplement-zh"],
    );
    assert!(expected.len() >= 4 && expected.len() < all.len());

    let run = pactum_in(dir, &["check", "samples", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let v = json(&run);
    assert_eq!(ids_with_status(&v, "changed"), expected);
    assert_eq!(
        ids_with_status(&v, "unchanged").len(),
        all.len() - expected.len()
    );
    // Only the documents whose templates include the clause were typeset again.
    assert_eq!(v["stats"]["typeset"], expected.len(), "{}", v["stats"]);
    assert_eq!(v["stats"]["cached"], all.len() - expected.len());
    for d in v["documents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] == "changed")
    {
        assert_eq!(d["inputs_changed"], true);
        let diff = d["diff"].as_str().unwrap();
        assert!(
            diff.lines()
                .any(|l| l.starts_with('-') && l.contains("直接损失")),
            "{diff}"
        );
        assert!(
            diff.lines()
                .any(|l| l.starts_with('+') && l.contains("实际损失")),
            "{diff}"
        );
    }

    // Human output: each changed document named once, with the word diff.
    let run = pactum_in(dir, &["check", "samples"]);
    assert_eq!(run.code, 1);
    let named: BTreeSet<String> = run
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("changed "))
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect();
    assert_eq!(named, expected, "{}", run.stderr);
    assert!(run.stderr.contains("[-直接-]{+实际+}"), "{}", run.stderr);
    assert!(run.stderr.contains("--update"), "the hint names the fix");

    // --update accepts the change; then the tree passes.
    let run = pactum_in(dir, &["check", "samples", "--update"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("lock updated: samples/pactum.lock"));
    let run = pactum_in(dir, &["check", "samples"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains(&format!(
        "0 changed, 0 added, 0 removed, {} unchanged",
        all.len()
    )));
    let id = expected.iter().next().unwrap();
    let golden = std::fs::read_to_string(dir.join(format!("samples/golden/{id}.txt"))).unwrap();
    assert!(golden.contains("实际损失") && !golden.contains("直接损失"));
}

#[test]
fn added_and_removed_documents_are_reported() {
    let ws = workspace_copy();
    let dir = ws.path();
    edit(
        &dir.join("samples/contracts/fw-2026-005.yaml"),
        "id: fw-2026-005",
        "id: fw-2026-055",
    );
    let run = pactum_in(dir, &["check", "samples", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let v = json(&run);
    assert_eq!(
        ids_with_status(&v, "added"),
        BTreeSet::from(["fw-2026-055".to_owned()])
    );
    assert_eq!(
        ids_with_status(&v, "removed"),
        BTreeSet::from(["fw-2026-005".to_owned()])
    );
    let run = pactum_in(dir, &["check", "samples", "--update"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!dir.join("samples/golden/fw-2026-005.txt").exists());
    assert!(dir.join("samples/golden/fw-2026-055.txt").exists());
}

/// `line:column` of `needle` in a file (1-based, column in characters).
fn position(file: &Path, needle: &str) -> (usize, usize) {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines()
        .enumerate()
        .find_map(|(n, l)| l.find(needle).map(|i| (n + 1, l[..i].chars().count() + 1)))
        .unwrap_or_else(|| panic!("`{needle}` not in {}", file.display()))
}

#[test]
fn a_template_variable_the_schema_lacks_is_a_located_lint_error() {
    let ws = workspace_copy();
    let dir = ws.path();
    let main = dir.join("templates/service-zh/main.typ.tera");
    edit(
        &main,
        "本合同服务期限自",
        "本合同服务期限自{{ c.renewal_terms }}",
    );
    let (line, col) = position(&main, "c.renewal_terms");
    let run = pactum_in(dir, &["check", "samples"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let place = format!("--> templates/service-zh/main.typ.tera:{line}:{col}");
    let diag = run
        .stderr
        .split("\nerror[")
        .find(|d| d.starts_with("T421]"))
        .unwrap_or_else(|| panic!("no T421 in:\n{}", run.stderr));
    assert!(
        diag.contains("`c.renewal_terms` is not declared in"),
        "{diag}"
    );
    assert!(diag.contains("service-zh.schema.json"), "{diag}");
    assert!(diag.contains(&place), "{diag}");
    // A lint error refuses --update.
    let run = pactum_in(dir, &["check", "samples", "--update"]);
    assert_eq!(run.code, 1);
    assert!(!run.stderr.contains("lock updated"));
}

#[test]
fn a_schema_field_no_template_prints_is_a_located_warning() {
    let ws = workspace_copy();
    let dir = ws.path();
    let schema = dir.join("schemas/service-zh.schema.json");
    edit(
        &schema,
        "\"tax_rate\": {",
        "\"renewal_note\": { \"type\": \"string\" },\n    \"tax_rate\": {",
    );
    let (line, col) = position(&schema, "\"renewal_note\"");
    let run = pactum_in(dir, &["check", "samples"]);
    // A warning: check still passes.
    assert_eq!(run.code, 0, "{}", run.stderr);
    let diag = run
        .stderr
        .split("warning[")
        .find(|d| d.starts_with("T430]"))
        .unwrap_or_else(|| panic!("no T430 in:\n{}", run.stderr));
    assert!(
        diag.contains("schema field `renewal_note` is not printed by template `service-zh`"),
        "{diag}"
    );
    assert!(
        diag.contains(&format!("--> schemas/service-zh.schema.json:{line}:{col}")),
        "{diag}"
    );
    // The register's columns (here `currency`) are read by pactum itself.
    assert!(!run.stderr.contains("`currency`"), "{}", run.stderr);
}

#[test]
fn an_optional_field_printed_without_a_guard_is_a_lint_error_and_a_guard_fixes_it() {
    let ws = workspace_copy();
    let dir = ws.path();
    let main = dir.join("templates/service-zh/main.typ.tera");
    edit(
        &main,
        "本合同服务期限自",
        "本合同服务期限自{{ c.signing_place }}",
    );
    let run = pactum_in(dir, &["check", "samples", "--format", "json"]);
    let v = json(&run);
    let d = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "T422")
        .unwrap_or_else(|| panic!("no T422: {}", run.stdout));
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("`c.signing_place` is optional")
    );
    edit(
        &main,
        "本合同服务期限自{{ c.signing_place }}",
        "本合同服务期限自{% if c.signing_place %}{{ c.signing_place }}{% endif %}",
    );
    let run = pactum_in(dir, &["check", "samples", "--format", "json"]);
    let v = json(&run);
    assert!(
        !v["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["code"] == "T422"),
        "{}",
        run.stdout
    );
}

#[test]
fn unknown_and_escaping_includes_and_safe_on_record_data_are_errors() {
    let ws = workspace_copy();
    let dir = ws.path();
    let main = dir.join("templates/nda-zh/main.typ.tera");
    edit(
        &main,
        "{% include \"clauses/zh/breach.typ.tera\" %}",
        "{% include \"clauses/zh/breech.typ.tera\" %}",
    );
    edit(
        &main,
        "= 定义",
        "{% include \"../../../etc/passwd\" %}{{ c.purpose | safe }}\n= 定义",
    );
    let run = pactum_in(dir, &["check", "samples"]);
    assert_eq!(run.code, 1);
    for (code, text) in [
        ("T424", "unknown include `clauses/zh/breech.typ.tera`"),
        (
            "T425",
            "include `../../../etc/passwd` leaves the templates folder",
        ),
        ("T423", "`| safe` prints `c.purpose` without escaping"),
    ] {
        assert!(
            run.stderr.contains(&format!("error[{code}]: {text}")),
            "{code} missing:\n{}",
            run.stderr
        );
    }
    assert!(
        run.stderr
            .contains("did you mean \"clauses/zh/breach.typ.tera\"?")
    );
}

#[test]
fn typst_warnings_are_errors_in_check_but_not_in_build() {
    let ws = workspace_copy();
    let dir = ws.path();
    let main = dir.join("templates/nda-zh/main.typ.tera");
    edit(
        &main,
        "= 定义",
        "#text(font: \"NoSuchFontFamily\")[x]\n\n= 定义",
    );
    let run = pactum_in(dir, &["check", "samples"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("error[T432]: typst warning"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nosuchfontfamily"), "{}", run.stderr);
    let out = tempdir();
    let run = pactum_in(
        dir,
        &[
            "build",
            "samples",
            "--draft",
            "--out",
            out.path().to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn check_writes_no_document_and_never_opens_the_register() {
    let ws = workspace_copy();
    let dir = ws.path();
    let run = pactum_in(dir, &["check", "samples", "--update"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut pdfs = Vec::new();
    for e in walk(dir) {
        if e.extension().is_some_and(|x| x == "pdf" || x == "sqlite") {
            pdfs.push(e);
        }
    }
    assert!(pdfs.is_empty(), "check wrote {pdfs:?}");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// A workspace copy with one changed clause word and one lint error that
/// does not stop rendering (a guarded field the schema does not declare).
fn broken_copy() -> tempfile::TempDir {
    let ws = workspace_copy();
    edit(&ws.path().join(CLAUSE), WORD_BEFORE, WORD_AFTER);
    edit(
        &ws.path().join("templates/service-zh/main.typ.tera"),
        "本合同服务期限自",
        "本合同服务期限自{% if c.renewal_terms %}{{ c.renewal_terms }}{% endif %}",
    );
    ws
}

#[test]
fn junit_output_is_valid_against_the_junit_xsd_and_names_the_failures() {
    let ws = broken_copy();
    let dir = ws.path();
    let run = pactum_in(dir, &["check", "samples", "--format", "junit"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let xml = dir.join("junit.xml");
    std::fs::write(&xml, &run.stdout).unwrap();
    let xsd = repo().join("tests/junit.xsd");
    // Validate with a real XML Schema processor, then list the failed cases.
    let script = "import sys, xmlschema, xml.etree.ElementTree as ET\n\
                  xmlschema.XMLSchema(sys.argv[1]).validate(sys.argv[2])\n\
                  for case in ET.parse(sys.argv[2]).getroot().iter('testcase'):\n\
                  \x20   f = case.find('failure')\n\
                  \x20   if f is not None: print(case.get('classname'), case.get('name'), f.get('type'))\n";
    let failed = tool(
        "python3",
        &["-c", script, xsd.to_str().unwrap(), xml.to_str().unwrap()],
        dir,
    );
    let expected = contracts_using(&dir.join("samples"), &["service-zh", "nda-zh"]);
    for id in &expected {
        assert!(
            failed.contains(&format!("pactum.documents {id} T440")),
            "{id} not failed:\n{failed}"
        );
    }
    assert!(
        failed.contains("pactum.files templates/service-zh/main.typ.tera T421"),
        "{failed}"
    );
    assert_eq!(failed.lines().count(), expected.len() + 1, "{failed}");
}

/// Checks one GitHub workflow-command line against the documented syntax:
/// `::name key=value,key=value::message`, values with `%`, CR, LF, `:` and
/// `,` escaped, messages with `%`, CR and LF escaped. Returns (name, properties, message).
fn parse_command(line: &str) -> (String, Vec<(String, String)>, String) {
    let rest = line
        .strip_prefix("::")
        .unwrap_or_else(|| panic!("not a command: {line}"));
    let end = rest
        .find("::")
        .unwrap_or_else(|| panic!("no `::` after the name: {line}"));
    let (head, message) = (&rest[..end], &rest[end + 2..]);
    let (name, props) = head.split_once(' ').unwrap_or((head, ""));
    let escaped_ok = |s: &str, allowed: &[&str]| {
        s.match_indices('%')
            .all(|(i, _)| allowed.iter().any(|a| s[i + 1..].starts_with(a)))
    };
    assert!(
        escaped_ok(message, &["25", "0D", "0A"]),
        "bad escape in message: {line}"
    );
    let mut out = Vec::new();
    for p in props.split(',').filter(|p| !p.is_empty()) {
        let (k, v) = p
            .split_once('=')
            .unwrap_or_else(|| panic!("property without `=`: {line}"));
        assert!(
            ["file", "line", "endLine", "col", "endColumn", "title"].contains(&k),
            "unknown property {k}: {line}"
        );
        assert!(
            !v.contains(':') && !v.contains(','),
            "unescaped value: {line}"
        );
        assert!(
            escaped_ok(v, &["25", "0D", "0A", "3A", "2C"]),
            "bad escape: {line}"
        );
        if ["line", "endLine", "col", "endColumn"].contains(&k) {
            assert!(v.parse::<u32>().is_ok(), "{k} is not a number: {line}");
        }
        out.push((k.to_owned(), v.to_owned()));
    }
    let unescape = |s: &str| {
        s.replace("%0A", "\n")
            .replace("%0D", "\r")
            .replace("%3A", ":")
            .replace("%2C", ",")
            .replace("%25", "%")
    };
    (
        name.to_owned(),
        out.into_iter().map(|(k, v)| (k, unescape(&v))).collect(),
        unescape(message),
    )
}

#[test]
fn github_annotations_follow_the_workflow_command_syntax_and_point_at_the_right_lines() {
    let ws = broken_copy();
    let dir = ws.path();
    let run = pactum_in(dir, &["check", "samples", "--format", "github"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let mut annotations = Vec::new();
    let mut stopped: Option<String> = None;
    for line in run.stdout.lines() {
        if let Some(token) = &stopped {
            if line == format!("::{token}::") {
                stopped = None;
            }
            continue; // document text, not commands
        }
        if !line.starts_with("::") {
            assert!(line.starts_with("check: "), "stray output line: {line}");
            continue;
        }
        let (name, props, message) = parse_command(line);
        match name.as_str() {
            "error" | "warning" | "notice" => annotations.push((name, props, message)),
            "group" | "endgroup" => {}
            "stop-commands" => stopped = Some(message),
            other => panic!("unexpected command {other}: {line}"),
        }
    }
    assert!(stopped.is_none(), "stop-commands never resumed");
    let prop = |props: &[(String, String)], k: &str| {
        props
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    // The lint error, at its file:line:col.
    let main = dir.join("templates/service-zh/main.typ.tera");
    let (line, col) = position(&main, "c.renewal_terms");
    let lint = annotations
        .iter()
        .find(|(_, p, _)| prop(p, "title").as_deref() == Some("pactum T421"))
        .expect("T421 annotation");
    assert_eq!(lint.0, "error");
    assert_eq!(
        prop(&lint.1, "file").as_deref(),
        Some("templates/service-zh/main.typ.tera")
    );
    assert_eq!(prop(&lint.1, "line"), Some(line.to_string()));
    assert_eq!(prop(&lint.1, "col"), Some(col.to_string()));
    assert!(lint.2.contains("`c.renewal_terms` is not declared"));
    // One annotation per changed document, on its entry in the lock, with the word diff.
    let lock = std::fs::read_to_string(dir.join("samples/pactum.lock")).unwrap();
    let expected = contracts_using(&dir.join("samples"), &["service-zh", "nda-zh"]);
    for id in &expected {
        let a = annotations
            .iter()
            .find(|(_, _, m)| m.starts_with(&format!("{id} (")))
            .unwrap_or_else(|| panic!("no annotation for {id}"));
        assert_eq!(prop(&a.1, "file").as_deref(), Some("samples/pactum.lock"));
        let n: usize = prop(&a.1, "line").unwrap().parse().unwrap();
        assert_eq!(
            lock.lines().nth(n - 1),
            Some(format!("id = \"{id}\"").as_str())
        );
        assert!(a.2.contains("[-直接-]{+实际+}"), "{}", a.2);
    }
}

#[test]
fn the_html_report_shows_before_and_after_pages_in_headless_chromium() {
    let ws = workspace_copy();
    let dir = ws.path();
    edit(&dir.join(CLAUSE), WORD_BEFORE, WORD_AFTER);
    let out = tempdir();
    let report = out.path().join("report");
    // The baseline is the unchanged shipped tree (in CI: a `git worktree` of the base revision).
    let run = pactum_in(
        dir,
        &[
            "check",
            "samples",
            "--report",
            report.to_str().unwrap(),
            "--baseline",
            repo().to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let page = report.join("index.html");
    let html = std::fs::read_to_string(&page).unwrap();
    let expected = contracts_using(&dir.join("samples"), &["service-zh", "nda-zh"]);
    for id in &expected {
        assert!(
            html.contains(&format!("<section id=\"{id}\">")),
            "{id} not in the report"
        );
    }
    assert!(html.contains("alt=\"before, page") && html.contains("alt=\"after, page"));
    assert!(
        !html.contains("src=\"http") && !html.contains("src=\"file"),
        "not self-contained"
    );

    let shot = out.path().join("shot.png");
    let profile = out.path().join("chromium-profile");
    tool(
        "chromium",
        &[
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.display()),
            &format!("--screenshot={}", shot.display()),
            "--window-size=1200,2000",
            &format!("file://{}", page.display()),
        ],
        out.path(),
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&shot).expect("no screenshot"),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (1200, 2000));
    let channels = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(channels).collect();
    // Not blank: plenty of dark (text) pixels...
    let dark = pixels
        .iter()
        .filter(|p| p[0] < 100 && p[1] < 100 && p[2] < 100)
        .count();
    assert!(
        dark > pixels.len() / 200,
        "screenshot looks blank ({dark} dark pixels)"
    );
    // ...and the magenta outlines of changed regions, drawn only inside the page pictures:
    // the before/after images really rendered.
    let magenta = pixels
        .iter()
        .filter(|p| p[0] > 200 && p[1] < 80 && p[2] > 200)
        .count();
    assert!(
        magenta > 100,
        "no highlighted region visible ({magenta} magenta pixels)"
    );
}

/// The cache forgets what no run used for 30 days (entries of older binaries
/// and changed inputs) and keeps what a run just used.
#[test]
fn check_prunes_cache_entries_no_run_used_for_thirty_days() {
    let ws = workspace_copy();
    let dir = ws.path();
    let run = pactum_in(dir, &["check", "samples"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let cache = dir.join(".pactum/check-cache");
    let entries = || -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(&cache)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    };
    let used = entries();
    assert_eq!(used.len(), 13, "{used:?}");
    // An entry of an older binary, last used 31 days ago; and every entry
    // of this run backdated by as much: the next run uses those again.
    let old = cache.join(format!("{}.json", "0".repeat(64)));
    std::fs::write(&old, "{}").unwrap();
    let month_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(31 * 24 * 3600);
    for p in used.iter().chain([&old]) {
        let f = std::fs::File::options().append(true).open(p).unwrap();
        f.set_modified(month_ago).unwrap();
    }
    let run = pactum_in(dir, &["check", "samples"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("13 from cache"), "{}", run.stderr);
    assert_eq!(entries(), used);
}

#[test]
fn a_folder_under_the_reserved_name_chunks_is_an_error_in_check_and_build() {
    let ws = workspace_copy();
    let dir = ws.path();
    let reserved = dir.join("templates/_chunks");
    std::fs::create_dir(&reserved).unwrap();
    std::fs::write(reserved.join("notes.typ"), "= Notes\n").unwrap();
    let run = pactum_in(dir, &["check", "samples"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("error[T433]"), "{}", run.stderr);
    assert!(run.stderr.contains("templates/_chunks"), "{}", run.stderr);
    let out = dir.join("out");
    let run = pactum_in(dir, &["build", "samples", "--draft", "--out", "out"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("error[T433]"), "{}", run.stderr);
    assert!(!out.exists(), "a failed build leaves no output folder");
    // Renamed, the workspace checks clean again.
    std::fs::rename(&reserved, dir.join("templates/_notes")).unwrap();
    let run = pactum_in(dir, &["check", "samples"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}
