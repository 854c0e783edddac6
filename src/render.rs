//! Rendering: a validated contract + its parties → typst markup, through tera.
//!
//! The only module that knows tera. Every value printed with `{{ … }}` is
//! escaped for typst markup by default, so record data can never become
//! markup or code; raw markup comes only from template files. The legal
//! filters (人民币大写, dates, money) live here as tera filters over the
//! pure functions in `money` and `cndate`.

use std::collections::HashMap;
use std::error::Error as _;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;
use tera::{Context, Tera};

use crate::cndate;
use crate::money::{self, Money};
use crate::workspace::{DocKind, Language, Template};

/// Escapes text for typst markup: a backslash before every ASCII punctuation
/// character makes typst print it literally (`#`, `[`, `$`, `*`, `_`, `<`, `@`,
/// `/`, `\`, …), so nothing in the text is read as markup, code or math.
pub fn escape_typst(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
            out.push(c);
        } else if c == '\r' {
            // CR would be a line break in markup; CRLF sources are normalised to LF.
        } else {
            out.push(c);
        }
    }
    out
}

/// Template loading problems (they are the template author's input errors).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    /// The message with tera's cause chain.
    pub message: String,
}

/// Everything a template sees about the document besides the records.
#[derive(Debug, Serialize)]
pub struct DocInfo<'a> {
    /// Document type title (template.toml `title`).
    pub title: &'a str,
    /// contract | agreement.
    pub kind: DocKind,
    /// zh | en.
    pub language: Language,
    /// The contract number to print (a draft number in draft mode).
    pub number: &'a str,
    /// 修改次第 as printed ("00", "01", …; "—" for drafts).
    pub revision: &'a str,
    /// Whether this is a draft (watermark, no register).
    pub draft: bool,
    /// Template name.
    pub template: &'a str,
}

/// The records one document is made from.
pub struct Inputs<'a> {
    /// The contract record.
    pub contract: &'a Value,
    /// 甲方.
    pub party_a: &'a Value,
    /// 乙方.
    pub party_b: &'a Value,
    /// For supplementary agreements: the parent contract and its number.
    pub parent: Option<(&'a Value, &'a str)>,
}

/// All templates of a workspace, parsed once.
pub struct Renderer {
    tera: Tera,
}

impl Renderer {
    /// Loads every `*.tera` file under `templates_dir`, named by its path relative to it.
    pub fn new(templates_dir: &Path) -> Result<Renderer, TemplateError> {
        let mut tera = Tera::default();
        let mut files = Vec::new();
        for entry in walkdir::WalkDir::new(templates_dir).sort_by_file_name() {
            let entry = entry.map_err(|e| TemplateError {
                message: format!("failed to read templates ({e})"),
            })?;
            let path = entry.path();
            if entry.file_type().is_file() && path.extension().is_some_and(|e| e == "tera") {
                let name = path
                    .strip_prefix(templates_dir)
                    .unwrap_or(path)
                    .to_string_lossy()
                    .replace('\\', "/");
                files.push((path.to_path_buf(), Some(name)));
            }
        }
        tera.add_template_files(files)
            .map_err(|e| TemplateError { message: chain(&e) })?;
        tera.autoescape_on(vec![".typ.tera"]);
        tera.set_escape_fn(escape_typst);
        register_filters(&mut tera);
        Ok(Renderer { tera })
    }

    /// Renders any template under `templates/` (e.g. `_handover/main.typ.tera`)
    /// with the top-level keys of `data` as its variables, escaped like every other value.
    pub fn render_value(&self, name: &str, data: &Value) -> Result<String, TemplateError> {
        let ctx =
            Context::from_value(data.clone()).map_err(|e| TemplateError { message: chain(&e) })?;
        self.tera
            .render(name, &ctx)
            .map_err(|e| TemplateError { message: chain(&e) })
    }

    /// Renders `template`'s main.typ.tera for one document.
    pub fn render(
        &self,
        template: &Template,
        doc: &DocInfo,
        inputs: &Inputs,
    ) -> Result<String, TemplateError> {
        let mut ctx = Context::new();
        ctx.insert("doc", doc);
        ctx.insert("c", inputs.contract);
        ctx.insert("a", inputs.party_a);
        ctx.insert("b", inputs.party_b);
        if let Some((parent, number)) = inputs.parent {
            ctx.insert("parent", parent);
            ctx.insert("parent_number", number);
        }
        let name = format!("{}/main.typ.tera", template.name);
        self.tera
            .render(&name, &ctx)
            .map_err(|e| TemplateError { message: chain(&e) })
    }
}

/// tera's error with its causes, most specific last.
fn chain(e: &tera::Error) -> String {
    let mut msg = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        msg.push_str(": ");
        msg.push_str(&c.to_string());
        cur = c.source();
    }
    msg
}

fn register_filters(tera: &mut Tera) {
    tera.register_filter("cny_upper", |v: &Value, _: &HashMap<String, Value>| {
        let m = money_arg("cny_upper", v)?;
        Ok(Value::String(money::cny_upper_with_prefix(m)))
    });
    tera.register_filter("money", |v: &Value, args: &HashMap<String, Value>| {
        let m = money_arg("money", v)?;
        let symbol = args.get("symbol").and_then(Value::as_str).unwrap_or("¥");
        Ok(Value::String(money::format_grouped(m, symbol)))
    });
    tera.register_filter("en_words", |v: &Value, _: &HashMap<String, Value>| {
        Ok(Value::String(money::en_words(money_arg("en_words", v)?)))
    });
    tera.register_filter("date_cn", |v: &Value, _: &HashMap<String, Value>| {
        Ok(Value::String(cndate::date_cn(date_arg("date_cn", v)?)))
    });
    tera.register_filter("date_cn_upper", |v: &Value, _: &HashMap<String, Value>| {
        Ok(Value::String(cndate::date_cn_upper(date_arg(
            "date_cn_upper",
            v,
        )?)))
    });
    tera.register_filter("date_en", |v: &Value, _: &HashMap<String, Value>| {
        Ok(Value::String(cndate::date_en(date_arg("date_en", v)?)))
    });
}

fn money_arg(filter: &str, v: &Value) -> tera::Result<Money> {
    let s = v.as_str().ok_or_else(|| {
        tera::Error::msg(format!("filter `{filter}` needs a money string, got {v}"))
    })?;
    Money::parse(s)
        .map_err(|e| tera::Error::msg(format!("filter `{filter}`: invalid amount `{s}` ({e})")))
}

fn date_arg(filter: &str, v: &Value) -> tera::Result<chrono::NaiveDate> {
    let s = v.as_str().ok_or_else(|| {
        tera::Error::msg(format!("filter `{filter}` needs a date string, got {v}"))
    })?;
    cndate::parse_iso_date(s).ok_or_else(|| {
        tera::Error::msg(format!(
            "filter `{filter}`: invalid date `{s}` (expected YYYY-MM-DD)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_backslashes_every_ascii_punctuation_and_keeps_cjk() {
        assert_eq!(escape_typst("#panic(\"x\")"), "\\#panic\\(\\\"x\\\"\\)");
        assert_eq!(escape_typst("a_b*c"), "a\\_b\\*c");
        assert_eq!(escape_typst("甲方：张喆"), "甲方：张喆");
        assert_eq!(escape_typst("\\"), "\\\\");
    }
}
