//! The placeholder `<fill in>`: what `pactum new` writes where a value is
//! still to be chosen, how validation finds it, and what the schema says
//! about the field (its description and allowed values) for the hint.
//!
//! A placeholder is a value the author has not written yet, not a wrong
//! value: validation reports it once (S207) and drops every other finding
//! about that value (type, format, enum, references), and a record that still
//! has one is not checked against the policy. This module reads JSON Schema
//! documents as plain JSON (`properties`, `items`, local `$ref`); it does
//! not validate.

use serde_json::Value;

use crate::diagnostic::Diagnostic;
use crate::record::{Record, escape_pointer};

/// The placeholder, as a YAML string: `signing_date: <fill in>`.
pub const PLACEHOLDER: &str = "<fill in>";

/// The diagnostic code of an unfilled placeholder.
pub const CODE: &str = "S207";

/// Whether `v` is the placeholder (surrounding spaces are ignored).
pub fn is_placeholder(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.trim() == PLACEHOLDER)
}

/// JSON pointers of every placeholder in `v`, in document order.
pub fn find(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(v, String::new(), &mut out);
    out
}

fn walk(v: &Value, ptr: String, out: &mut Vec<String>) {
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, format!("{ptr}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                walk(item, format!("{ptr}/{}", escape_pointer(k)), out);
            }
        }
        _ if is_placeholder(v) => out.push(ptr),
        _ => {}
    }
}

/// Whether `pointer` is `hole` or lies inside it: a finding there is about the placeholder.
pub fn covers(hole: &str, pointer: &str) -> bool {
    pointer == hole
        || pointer
            .strip_prefix(hole)
            .is_some_and(|t| t.starts_with('/'))
}

/// `node` with local `$ref`s (`#/$defs/date`) followed, at most a few levels deep.
pub fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    let mut node = node;
    for _ in 0..8 {
        let Some(target) = node
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|p| root.pointer(p))
        else {
            break;
        };
        node = target;
    }
    node
}

/// The schema node that describes the value at `pointer` of a record checked
/// against `root`: object keys go through `properties`, list indices through
/// `items`.
pub fn node_at<'a>(root: &'a Value, pointer: &str) -> Option<&'a Value> {
    let mut node = root;
    for token in pointer.split('/').skip(1) {
        let here = resolve(root, node);
        node = if token.parse::<usize>().is_ok() && here.get("items").is_some() {
            here.get("items")?
        } else {
            let key = token.replace("~1", "/").replace("~0", "~");
            here.get("properties")?.get(key)?
        };
    }
    Some(node)
}

/// The field's description: its own, or else the one of the definition it refers to.
pub fn description<'a>(root: &'a Value, node: &'a Value) -> Option<&'a str> {
    node.get("description")
        .or_else(|| resolve(root, node).get("description"))
        .and_then(Value::as_str)
}

/// The values an `enum` allows, as written in YAML.
pub fn allowed(root: &Value, node: &Value) -> Vec<String> {
    resolve(root, node)
        .get("enum")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(plain).collect())
        .unwrap_or_default()
}

/// A JSON value as it reads in YAML (strings without quotes).
pub fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `approvals/0/tier` → `approvals[0].tier`: the field as an author names it.
pub fn field_name(pointer: &str) -> String {
    let mut out = String::new();
    for token in pointer.split('/').skip(1) {
        if token.parse::<usize>().is_ok() {
            out.push_str(&format!("[{token}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&token.replace("~1", "/").replace("~0", "~"));
        }
    }
    out
}

/// The hint for the field at `pointer`: the schema's description and the allowed values.
pub fn hint(schema: Option<&Value>, pointer: &str) -> String {
    let Some((root, node)) = schema.and_then(|s| Some((s, node_at(s, pointer)?))) else {
        return "replace the placeholder with the value".to_owned();
    };
    let mut parts = Vec::new();
    if let Some(d) = description(root, node) {
        parts.push(d.trim().to_owned());
    }
    let values = allowed(root, node);
    if !values.is_empty() {
        parts.push(format!("one of: {}", values.join(", ")));
    }
    if parts.is_empty() {
        "replace the placeholder with the value".to_owned()
    } else {
        parts.join("; ")
    }
}

/// The S207 diagnostic for the placeholder at `pointer` of `r`.
pub fn diagnostic(r: &Record, schema: Option<&Value>, pointer: &str) -> Diagnostic {
    r.diag(
        pointer,
        Diagnostic::error(CODE, format!("fill in `{}`", field_name(pointer))),
    )
    .hint(hint(schema, pointer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placeholders_are_found_at_any_depth_and_only_as_whole_values() {
        let v = json!({"a": "<fill in>", "b": [{"c": " <fill in> "}, "x <fill in>"], "d": 3});
        assert_eq!(find(&v), vec!["/a", "/b/0/c"]);
        assert!(covers("/b/0", "/b/0/c") && covers("/a", "/a") && !covers("/a", "/ab"));
    }

    #[test]
    fn nodes_are_found_through_refs_and_items_and_described() {
        let s = json!({
            "properties": {"approvals": {"type": "array", "items": {"$ref": "#/$defs/approval"}}},
            "$defs": {"approval": {"properties": {
                "tier": {"enum": ["普通", "重要"], "description": "审批等级"},
                "date": {"$ref": "#/$defs/date"}}},
                "date": {"type": "string", "description": "ISO date"}}
        });
        assert_eq!(
            hint(Some(&s), "/approvals/0/tier"),
            "审批等级; one of: 普通, 重要"
        );
        assert_eq!(hint(Some(&s), "/approvals/0/date"), "ISO date");
        assert_eq!(field_name("/approvals/0/tier"), "approvals[0].tier");
        assert!(node_at(&s, "/nope").is_none());
    }
}
