//! The table of diagnostic codes: what each check looks at, why, and its default severity.
//!
//! Every `Diagnostic` carries one of these codes; `pactum explain CODE`
//! prints the entry. Codes are stable: a code is never reused for another
//! check. R1xx are about reading records, S2xx about schemas and references,
//! T4xx about templates, typesetting and `check`, N5xx about numbering, P0xxx about the compliance policy
//! (`schemas/policy.yaml`). This module is data only; the checks live in
//! `record`, `validate`, `workspace`, `build` and `policy`.

use crate::diagnostic::Severity;

/// One diagnostic code and what it means.
#[derive(Debug, Clone, Copy)]
pub struct Code {
    /// The code, e.g. `P0301`.
    pub code: &'static str,
    /// Severity when nothing overrides it (policy rules can be re-graded in policy.yaml).
    pub severity: Severity,
    /// Whether a contract may waive it with a written reason (`waivers:`); policy rules only.
    pub waivable: bool,
    /// One line: what is wrong.
    pub title: &'static str,
    /// What the check looks at, why it exists and how to fix it.
    pub explanation: &'static str,
}

const fn code(code: &'static str, title: &'static str, explanation: &'static str) -> Code {
    Code {
        code,
        severity: Severity::Error,
        waivable: false,
        title,
        explanation,
    }
}

const fn warning(code: &'static str, title: &'static str, explanation: &'static str) -> Code {
    Code {
        code,
        severity: Severity::Warning,
        waivable: false,
        title,
        explanation,
    }
}

const fn waivable(code: &'static str, title: &'static str, explanation: &'static str) -> Code {
    Code {
        code,
        severity: Severity::Error,
        waivable: true,
        title,
        explanation,
    }
}

/// Every code pactum reports: R, S, T, N, then P, each in code order.
pub const CODES: &[Code] = &[
    code(
        "R101",
        "file is not UTF-8",
        "Record files and schemas/policy.yaml must be UTF-8 (a leading byte order mark is accepted and ignored). The diagnostic points at the first byte that is not UTF-8; when the bytes look like GBK/GB18030, which older Windows editors write for Chinese text, the hint says so. Convert the file, e.g. `iconv -f GB18030 -t UTF-8 in.yaml > out.yaml`, or save it as UTF-8 from the editor.",
    ),
    code(
        "R102",
        "malformed YAML",
        "The YAML parser stopped here. Usual causes: a tab used for indentation, an unclosed `[`, `{` or quote, a value that starts with `:` or `#`, a list item that is not aligned. The whole file is skipped (other files are still checked); the position is where the parser noticed the problem, which may be a line after the real mistake.",
    ),
    code(
        "R103",
        "record is not a mapping",
        "Each YAML document (separated by `---`) is one record and must be a mapping of `key: value` lines. A document that is a list or a single value is not a record.",
    ),
    code(
        "R104",
        "record has no id",
        "Every record needs `id:`, a stable identifier that contracts use to refer to parties and that the contract number is kept under. Add `id: some-stable-id`.",
    ),
    code(
        "R105",
        "invalid id",
        "Ids start with a lowercase letter or digit and use only a-z, 0-9, `.`, `_` and `-`, at most 128 characters, because they become file names (`<id>.pdf`). Anything else could escape the output folder or clash on case-insensitive disks.",
    ),
    code(
        "R106",
        "missing or unknown record kind",
        "Every record says what it is: `kind: party` or `kind: contract`. The kind selects the schema the record is checked against.",
    ),
    code(
        "R107",
        "duplicate id",
        "Two records use the same id. Ids are unique across all record files, because numbers, file names and references are keyed by them. The message names the first place; the later record is not checked further.",
    ),
    code(
        "R108",
        "duplicate key",
        "A mapping has the same key twice. YAML would silently keep only one of the two values; pactum keeps the first and reports the second so no value is lost unnoticed.",
    ),
    warning(
        "R109",
        "file holds no records",
        "A record file is empty or holds only comments. Nothing is wrong with the other records; delete the file or add the record that was meant to be there. With `--deny-warnings` this fails the run.",
    ),
    code(
        "R110",
        "document too large",
        "A YAML document nests values more than 64 levels deep or holds more than 100 000 values once aliases (`*name`) are expanded. Real records are far smaller; the limits keep a malicious or broken file (an alias bomb) from exhausting memory or stack.",
    ),
    code(
        "R111",
        "record file changed during the run",
        "A build reads each record file at the start and reads contract files again at later stages rather than holding every contract in memory. A file that no longer has the content it had at the start (edited, replaced or deleted while pactum ran) is not read: the run fails with nothing committed (no PDF moved into place, no number consumed) instead of mixing two versions of a record. Run the build again once the records are saved.",
    ),
    code(
        "S200",
        "schema file is broken",
        "A schema file under schemas/ cannot be read, is not JSON, or is not a valid JSON Schema (draft 2020-12). The records that use it cannot be checked (S201). This is a workspace problem: fix the schema file.",
    ),
    code(
        "S201",
        "record cannot be checked",
        "The schema this record needs has errors (reported as S200 on the schema file), so the record is not checked and not built. Fix the schema first.",
    ),
    code(
        "S202",
        "party has errors",
        "A contract names a party whose record has errors (schema or policy). The contract is not built until the party record is fixed; the party's own diagnostics say what to change.",
    ),
    code(
        "S203",
        "unknown or missing template",
        "A contract must say which document type it is with `template: NAME`, where NAME is a folder under templates/ with a template.toml. The hint lists the templates of the workspace.",
    ),
    code(
        "S204",
        "party reference does not resolve",
        "`party_a` and `party_b` hold the id of a party record (`kind: party`). The id is not known, or it belongs to a contract. The hint suggests the closest existing party id.",
    ),
    code(
        "S205",
        "parent contract missing",
        "A supplementary agreement names the contract it changes in `parent:`. No contract record has that id.",
    ),
    code(
        "S206",
        "character cannot be printed",
        "No font embedded in pactum has a glyph for a character in this value, so the PDF would show an empty box. Use a standard character (rare CJK Extension B+ characters and emoji are not covered), or add a font to templates/fonts.",
    ),
    code(
        "S207",
        "placeholder to fill in",
        "`pactum new TEMPLATE` writes a record skeleton with `<fill in>` where a value must be chosen (required fields, and fields the policy requires). Each placeholder left is reported once, with the schema's description of the field and its allowed values in the hint; nothing else is reported about that value (no type, date or reference error), and a record with placeholders is not checked against the policy until all are filled in. Replace `<fill in>` with the value; an optional field that is not needed can be deleted.",
    ),
    code(
        "S210",
        "missing required field",
        "The record's schema requires this field. Add it; the schema file under schemas/ describes what it holds.",
    ),
    code(
        "S211",
        "unknown field",
        "The schema does not allow this field; most often it is a misspelling of a field that exists (`signing_data` for `signing_date`). Unknown fields are refused so that a typo never silently drops a term from a contract.",
    ),
    code(
        "S212",
        "value has the wrong type",
        "The value is of the wrong kind, e.g. a number where text is expected. Money amounts are quoted decimal strings (\"1280000.00\"), never YAML numbers, so that no amount passes through floating point.",
    ),
    code(
        "S213",
        "value is not one of the allowed values",
        "The field only takes the values listed in the hint (an enumeration in the schema), e.g. `confidentiality: 一级 | 二级 | 三级`.",
    ),
    code(
        "S214",
        "value must be a fixed constant",
        "The schema fixes this value, e.g. `kind: contract` or a template's own name in `template:`.",
    ),
    code(
        "S215",
        "value does not have the required form",
        "The value does not match the pattern the schema gives (shown in the hint), e.g. an id with capital letters or a clause reference that is not 第…条.",
    ),
    code(
        "S219",
        "other schema violation",
        "A schema rule not covered by a more specific code (length limits, minimum and maximum, `not` clauses). The message is the schema engine's.",
    ),
    code(
        "S220",
        "invalid 统一社会信用代码",
        "The unified social credit code is checked by GB 32100-2015: 18 characters from 0-9 and A-Z without I, O, Z, S, V, and a check character computed from the first 17. The message gives the expected check character. Copy the code again from the business licence. Some codes really issued fail the check; for those, `uscc_override: <reason>` on the party turns the error into a warning.",
    ),
    code(
        "S221",
        "invalid 公民身份号码",
        "The resident identity number is checked by GB 11643-1999: 18 characters, a real birth date in positions 7-14, and the ISO 7064 MOD 11-2 check character (0-9 or X).",
    ),
    code(
        "S222",
        "invalid money amount",
        "Amounts are quoted decimal strings with at most two decimals and no separators or signs, up to 999999999999.99 (the largest amount 人民币大写 can write): \"1280000.00\", \"86500.5\".",
    ),
    code(
        "S223",
        "invalid date",
        "Dates are written YYYY-MM-DD, zero-padded, and must exist in the calendar (2026-02-30 does not).",
    ),
    code(
        "S229",
        "value does not have the required format",
        "The value fails a format check the schema names (e.g. `email`).",
    ),
    code(
        "T401",
        "template.toml is invalid",
        "A template's template.toml cannot be read: TOML syntax, an unknown key, or a missing one (title, kind, schema, language, number). The template is unusable until fixed.",
    ),
    code(
        "T402",
        "invalid number pattern",
        "The `number` pattern of a template must look like `FW-{year}-{seq:04}`: literal text, `{year}` and exactly one `{seq}` with an optional zero-padded width.",
    ),
    code(
        "T403",
        "template has no main.typ.tera",
        "Every template folder needs main.typ.tera, the tera file that produces the document's typst markup.",
    ),
    code(
        "T404",
        "template's schema file is missing",
        "template.toml names a schema file under schemas/ that does not exist.",
    ),
    code(
        "T405",
        "templates cannot be loaded",
        "The tera templates under templates/ could not be parsed (syntax error in a .tera file, an include of a missing file). No document can be rendered.",
    ),
    code(
        "T406",
        "template failed to render",
        "tera stopped while rendering this contract: usually a template uses a field the record does not have, or a filter got a value it cannot format. Unless the message names a field of the record, this is a template problem.",
    ),
    code(
        "T407",
        "typst error",
        "typst could not typeset the generated markup. The diagnostic points into the template file when typst knows the place, otherwise it quotes the generated line. Record values are escaped, so this is a template problem.",
    ),
    code(
        "T408",
        "cannot form a contract number or find a related record",
        "The contract number is formed from the template's pattern and the signing year; the signing date, a party or the parent contract could not be found when the document was produced.",
    ),
    code(
        "T409",
        "a typeset document could not be written",
        "The PDF was typeset but writing it into the build's staging folder (inside --out) failed, e.g. the disk is full. Nothing is moved into place and no number is issued; free space or choose another --out.",
    ),
    code(
        "T420",
        "undefined template variable",
        "`pactum check` lint: a template reads a variable that is not defined at that point. Templates see `doc`, `c` (the contract), `a` and `b` (the parties), `parent` and `parent_number` (supplementary agreements), and what `set` and `for` define. Check the spelling.",
    ),
    code(
        "T421",
        "field not declared in the schema",
        "`pactum check` lint: a template reads a record field its schema does not declare (`c.*` against the template's schema, `a.*`/`b.*` against the party schema). Such a field can never be present in a valid record, so the text would be missing; declare it in the schema or fix the name.",
    ),
    code(
        "T422",
        "optional field used without a guard",
        "`pactum check` lint: a template prints or compares a field the schema does not require, outside an enclosing `{% if field %}`. A valid record without that field would fail to render. Guard it, or make the field required.",
    ),
    code(
        "T423",
        "`| safe` on record data",
        "`pactum check` lint: `| safe` (or `{% filter safe %}`) turns off escaping, so record data could become typst markup or code. Record values must always be escaped; raw markup belongs in template files.",
    ),
    code(
        "T424",
        "unknown include",
        "`pactum check` lint: `{% include %}` names a template file that does not exist under templates/. The hint names the closest existing partial.",
    ),
    code(
        "T425",
        "include or file outside templates/",
        "`pactum check` lint: an include or a typst file reference leaves the templates folder. Templates may only use files under templates/, which is also all typst can read.",
    ),
    code(
        "T426",
        "template folder without template.toml",
        "`pactum check` lint: a folder under templates/ holds a main.typ.tera but no template.toml, so it is not a document type. Add the file (title, kind, schema, language, number) or move the folder.",
    ),
    code(
        "T427",
        "impure function in a template",
        "`pactum check` lint: `now()`, `get_random()` or `get_env()` would make the same record give different documents. Take dates from the record.",
    ),
    code(
        "T428",
        "typst package import",
        "`pactum check` lint: typst packages are not available (nothing is downloaded); put the code under templates/_lib instead.",
    ),
    warning(
        "T429",
        "partial that nothing includes",
        "`pactum check` lint: a `.typ.tera` partial under templates/ is not included by any template. Delete it or include it.",
    ),
    warning(
        "T430",
        "schema field that no template prints",
        "`pactum check` lint: a field declared in a template's schema is never read by that template. Either the template forgot it or the schema asks for data nobody uses.",
    ),
    code(
        "T431",
        "unclosed template tag",
        "`pactum check` lint: a `{{`, `{%` or `{#` has no closing tag.",
    ),
    code(
        "T432",
        "typst warning",
        "typst warned while typesetting. `check` treats typst warnings as errors so that layout problems (e.g. an unknown font family) are fixed before anything is issued.",
    ),
    code(
        "T433",
        "reserved folder name under templates/",
        "`templates/_chunks` is reserved: while typesetting, pactum serves the plain paragraphs of each generated document from memory under that name (so typst reuses their layout across contracts), and typst would never read a real folder there. Rename the folder; shared typst code belongs in templates/_lib.",
    ),
    code(
        "T440",
        "document changed",
        "`pactum check`: the document's PDF or text differs from the golden lock (samples/pactum.lock). Read the diff; if the change is intended, run `pactum check RECORDS --update` and commit the lock and golden texts.",
    ),
    code(
        "T441",
        "document added",
        "`pactum check`: a document is not in the golden lock. Run `--update` to add it once it looks right.",
    ),
    code(
        "T442",
        "document removed",
        "`pactum check`: the golden lock lists a document that no longer exists. Run `--update` if the removal is intended.",
    ),
    code(
        "T445",
        "unreadable golden lock",
        "`pactum check`: the lock file is not valid TOML of the expected form. Restore it from version control or rewrite it with `--update`.",
    ),
    code(
        "N501",
        "voided number: record skipped",
        "A note, not an error: the register holds this record id under a number that was voided (作废), so the build skips the record and names the number and the reason recorded with `pactum register void`. A voided number is never issued again; to issue the contract anew, give the record a new id (it gets a new number), or remove the record.",
    ),
    code(
        "N502",
        "parent contract without an issued number",
        "A supplementary agreement (补充协议) prints its parent's contract number. The parent has none: it was never issued and is not issued in this build (e.g. it has errors), or it was voided. Issue the parent first.",
    ),
    code(
        "N503",
        "held back from issuing",
        "A note: the record has `status: draft`, so an issue build validates it but gives it no number and writes no PDF. Set `status: approved` (or remove the field) when it is approved; `pactum build --draft` typesets it meanwhile.",
    ),
    code(
        "N504",
        "file in the output folder not written by this build",
        "A warning: the output folder holds `<id>.pdf` of a contract that this build did not write (voided, held back, or no longer among the records). It is not listed in SHA256SUMS or manifest.json, so a bundle of the folder would refuse it. Delete it, or build with `--prune`, which removes such files (and says so with a note of the same code).",
    ),
    code(
        "P0001",
        "policy file is broken",
        "schemas/policy.yaml is missing or does not have the expected form (the message names the key and the hint the fix). Without a valid policy no contract is built, because nothing may get a number without passing the organisation's rules. README \"Compliance policy\" documents the file.",
    ),
    code(
        "P0002",
        "waiver without a reason",
        "A contract waives a policy rule (`waivers: [{rule: P0301, reason: …}]`) but the reason is empty. A waiver is an exception the organisation must be able to justify later: say why the rule does not apply, who decided and when.",
    ),
    code(
        "P0003",
        "waiver of an unknown or non-waivable rule",
        "A waiver names a code that is not a policy rule, or a rule that cannot be waived because breaking it makes the document wrong rather than merely unusual (a payment schedule that does not add up, an amount in words that reads differently, a party without identity). `pactum explain` lists which rules can be waived.",
    ),
    warning(
        "P0004",
        "waiver not needed",
        "A contract waives a rule it does not break. Remove the waiver: a stale waiver would silently accept a real problem introduced later.",
    ),
    waivable(
        "P0101",
        "approval tier not satisfied",
        "The source rules (DOMAIN.md §1) grade contracts 普通, 重要 and 重大 and name who approves each: 部门负责人, 总经理, 董事会. The policy sets the amount thresholds (default: below ¥500,000.00 普通, below ¥5,000,000.00 重要, above that 重大) and the roles. A contract's `approvals` must include an approval at its tier or a higher one, given by a role the policy accepts for that tier. The amount is `amount`; for a supplementary agreement `amount_change` or else the parent contract's amount; a contract without an amount is in the lowest tier. Add the missing approval, or correct the amount.",
    ),
    waivable(
        "P0102",
        "approver's role does not fit the tier",
        "An approval claims a tier (`tier: 重要`) but its `role` is not one the policy accepts for that tier (approval.tiers[].roles, `*` matching any text), or the tier is not one of the policy's. An approval by the wrong person does not count towards P0101.",
    ),
    waivable(
        "P0103",
        "approval dated after signing",
        "Approval must come before the contract is signed. An approval dated after `signing_date` is a ratification after the fact; correct the date, or waive the rule with a reason that records the ratification.",
    ),
    code(
        "P0201",
        "confidentiality level missing",
        "Every contract carries a 保密等级 (source 004: 一级 core information, senior management only; 二级 sensitive, middle management and related departments; 三级 general, not for outside parties). It is printed on the cover and decides who may see the contract. The levels are listed in policy.yaml (confidentiality.levels).",
    ),
    waivable(
        "P0202",
        "required clause missing",
        "policy.yaml lists, per template, the clauses a contract must have (required_clauses). A clause is present in a record when every record field the clause lists is there and not empty (clauses.<name>.fields), e.g. 签订地点 needs `signing_place`. The law lists the usual contents of a contract (民法典 第470条); the organisation decides which are mandatory.",
    ),
    code(
        "P0203",
        "template lacks a required clause",
        "A required clause can also name the clause file a template must include (clauses.<name>.partial, e.g. `dispute` means templates/clauses/<language>/dispute.typ.tera). A template whose main.typ.tera does not include it would print contracts without that clause, so none of its contracts is built. Fix the template, or the policy.",
    ),
    waivable(
        "P0301",
        "定金 above the legal limit",
        "民法典 第586条: 定金 may not exceed 20% of the value of the main contract; the excess has no effect as 定金. `deposit` is compared with `amount` in exact decimal arithmetic (policy: deposit.max_percent). Lower the deposit, or waive with a reason if the excess is knowingly agreed as an advance payment.",
    ),
    code(
        "P0302",
        "payment schedule does not add up",
        "The instalments of `payment_schedule` must add up exactly, to the fen, to the contract `amount` (decimal arithmetic, never floating point): the document prints the amount as the schedule's total. Correct an instalment or the amount.",
    ),
    code(
        "P0303",
        "amount in words does not match the figure",
        "Wherever a record writes an amount both in figures and in 人民币大写 (`¥1,280,000.00（大写：人民币壹佰贰拾捌万元整）` in any text, or a field `X_words` next to a field `X`), the words are read back to a number (every PBOC-legal form is accepted, DOMAIN.md §3) and compared with the figure. In a dispute the words usually prevail, so a mismatch is a real defect. The hint gives the correct words.",
    ),
    code(
        "P0401",
        "arbitration does not name exactly one commission",
        "An arbitration agreement must name the chosen arbitration commission (仲裁法 第16条); if the choice is unclear and not supplemented the agreement is void (第18条). The check reads `dispute.body` and every clause text of the record: 「仲裁委员会」 or 「仲裁机构」 without a name before it (提交仲裁委员会, 当地仲裁委员会, 甲方所在地仲裁委员会), or two named commissions in one clause, fail.",
    ),
    code(
        "P0402",
        "arbitration offered as an alternative to a court",
        "法释〔2006〕7号 第7条: an agreement that disputes may go to arbitration or to a court is void as an arbitration agreement. The check looks for 仲裁 and 诉讼 / 起诉 / 人民法院 joined by 或 / 或者 / 也可 in one clause (and `arbitration … or … court` in English). Choose one forum.",
    ),
    code(
        "P0403",
        "chosen court not named",
        "A jurisdiction agreement must name one court at a place connected with the dispute (民事诉讼法 第35条): 被告住所地, 合同履行地, 合同签订地, 原告住所地 or 标的物所在地. 「有管辖权的人民法院」 or 「甲方所在地人民法院」 names no court. Write the court's full name, e.g. 北京市海淀区人民法院.",
    ),
    waivable(
        "P0501",
        "dates out of order",
        "A contract is signed, then takes effect, then expires: signing_date ≤ effective_date ≤ expiry_date. A supplementary agreement is signed no earlier than its parent contract. Backdated effect (倒签, 追溯生效) is sometimes agreed on purpose: waive the rule with the reason.",
    ),
    waivable(
        "P0502",
        "payment due outside the term",
        "Each `payment_schedule` due date must fall inside the contract term: not before `effective_date`, and not later than `expiry_date` plus the grace the policy allows for final payments after acceptance (payment.due_grace_days, default 60 days).",
    ),
    waivable(
        "P0503",
        "lease term longer than allowed",
        "民法典 第705条: a lease term may not exceed 二十年; the excess is void. The term is read from templates the policy marks as leases (lease.templates: effective_date to expiry_date) and from clause text such as 「租赁期限为二十五年」 or 「租期自2026年1月1日起至2050年12月31日止」. Limit: lease.max_years.",
    ),
    code(
        "P0601",
        "party identity incomplete",
        "A contract states each party's name and 住所 (民法典 第470条 (一)) and identifies it: an organisation by its 统一社会信用代码 (`uscc`), a person by the 公民身份号码 (`resident_id`). Blank values and placeholders left from a form (`____`, `XXX`, 某某, 待定; policy: parties.placeholders) fail. The identifier's check character is checked by the schema (S220, S221).",
    ),
    code(
        "P0602",
        "organisation without a signatory",
        "An organisation signs through its 法定代表人 (or an authorised representative); the party block prints `legal_representative`, and the contract is formed when it is signed or sealed (民法典 第490条). Add the name.",
    ),
    waivable(
        "P0603",
        "supplementary agreement's parties differ from the parent's",
        "A supplementary agreement changes a contract between the same parties: its 甲方 and 乙方 must be the parent contract's 甲方 and 乙方, in the same roles. A change of party (债权转让, 概括承受) is a different instrument; if it is really meant, waive with the reason.",
    ),
    code(
        "P0604",
        "the same party on both sides",
        "甲方 and 乙方 are the same party record; a contract needs two different parties.",
    ),
];

/// The entry for `code` (case-insensitive), if pactum knows it.
pub fn lookup(code: &str) -> Option<&'static Code> {
    CODES.iter().find(|c| c.code.eq_ignore_ascii_case(code))
}

/// Whether `code` is a policy rule a contract can break (P01xx and above), as
/// opposed to a problem with the policy machinery itself (P00xx).
pub fn is_policy_rule(code: &str) -> bool {
    code.starts_with('P') && !code.starts_with("P00")
}

/// `pactum explain CODE`: the code, its title, severity and whether it can be waived, then the explanation.
pub fn explain(c: &Code) -> String {
    let severity = match c.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    };
    let waiver = if c.waivable {
        "; a contract may waive it with a written reason"
    } else if is_policy_rule(c.code) {
        "; cannot be waived"
    } else {
        ""
    };
    let mut out = format!(
        "{}: {}\n(default severity: {severity}{waiver})\n\n",
        c.code, c.title
    );
    out.push_str(&wrap(c.explanation, 78));
    out.push('\n');
    out
}

/// `pactum explain` without a code: one line per code.
pub fn listing() -> String {
    let mut out = String::new();
    for c in CODES {
        let mark = if c.waivable { " (waivable)" } else { "" };
        out.push_str(&format!("{:<6} {}{mark}\n", c.code, c.title));
    }
    out.push_str("\nRun `pactum explain CODE` for what a check looks at and why.\n");
    out
}

/// A hint for an unknown code: the codes with the same prefix, or the list.
pub fn suggest(code: &str) -> String {
    let upper = code.to_ascii_uppercase();
    let prefix: String = upper.chars().take(2).collect();
    let close: Vec<&str> = CODES
        .iter()
        .map(|c| c.code)
        .filter(|c| !prefix.is_empty() && c.starts_with(&prefix))
        .collect();
    if close.is_empty() || close.len() > 12 {
        "run `pactum explain` to list every code".to_owned()
    } else {
        format!(
            "codes starting with {prefix}: {}; run `pactum explain` to list every code",
            close.join(", ")
        )
    }
}

/// Word-wraps at spaces (CJK runs without spaces stay whole).
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split(' ') {
        let w = word.chars().count();
        if line > 0 && line + 1 + w > width {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += w;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_explained() {
        let unique: std::collections::BTreeSet<&str> = CODES.iter().map(|c| c.code).collect();
        assert_eq!(unique.len(), CODES.len(), "a code is listed twice");
        for c in CODES {
            assert!(
                !c.title.is_empty() && c.explanation.len() > 40,
                "{}",
                c.code
            );
            assert!(!c.waivable || is_policy_rule(c.code), "{}", c.code);
        }
        assert_eq!(lookup("p0301").map(|c| c.code), Some("P0301"));
        assert!(lookup("X1").is_none());
    }
}
