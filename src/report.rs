//! The review page `check --report` writes: one self-contained HTML file.
//!
//! For each document that changed: its pages before and after side by side
//! (PNG, embedded as data URLs), the regions whose pixels differ outlined and
//! tinted on both pictures, and the unified diff of its text. Pages come from
//! `typeset` as pixel buffers; this module compares pixels and writes HTML.
//! It knows nothing about typst, records or locks.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::build::{BuildError, io};
use crate::check::Status;
use crate::typeset::Raster;

/// Resolution of the page pictures: 1.5 px per point (108 dpi), legible and small.
pub const PIXELS_PER_PT: f32 = 1.5;

/// The highlight colour of changed regions (magenta: used nowhere else on the page).
const MARK: [u8; 3] = [255, 0, 255];
/// Side of the square cells pixels are compared in.
const CELL: u32 = 6;
/// A channel difference above this counts as a change (anti-aliasing noise stays below).
const THRESHOLD: u8 = 40;

/// One document on the review page.
pub struct ReportDoc {
    /// Record id.
    pub id: String,
    /// Template name.
    pub template: String,
    /// Changed, added or removed.
    pub status: Status,
    /// Pages before (from the baseline), if known.
    pub before: Option<Vec<Raster>>,
    /// Pages now.
    pub after: Option<Vec<Raster>>,
    /// Unified diff of the text.
    pub diff: String,
}

/// Writes `dir/index.html` and returns its path.
pub fn write(dir: &Path, docs: &[ReportDoc], note: &str) -> Result<PathBuf, BuildError> {
    std::fs::create_dir_all(dir).map_err(io("create", dir))?;
    let mut html = String::new();
    html.push_str(HEAD);
    let _ = write!(
        html,
        "<h1>pactum check: {} document(s) differ</h1>\n<p class=\"note\">{}</p>\n",
        docs.len(),
        esc(note)
    );
    if docs.is_empty() {
        html.push_str("<p>No document changed.</p>\n");
    } else {
        html.push_str("<ul class=\"toc\">\n");
        for d in docs {
            let _ = writeln!(
                html,
                "<li><a href=\"#{id}\">{id}</a> ({}) — {}</li>",
                esc(&d.template),
                status_word(d.status),
                id = esc(&d.id)
            );
        }
        html.push_str("</ul>\n");
    }
    for d in docs {
        document(&mut html, d)?;
    }
    html.push_str("</body>\n</html>\n");
    let path = dir.join("index.html");
    std::fs::write(&path, html).map_err(io("write", &path))?;
    Ok(path)
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Changed => "changed",
        Status::Added => "added",
        Status::Removed => "removed",
        Status::Unchanged => "unchanged",
        Status::Failed => "failed",
    }
}

fn document(html: &mut String, d: &ReportDoc) -> Result<(), BuildError> {
    let _ = writeln!(
        html,
        "<section id=\"{id}\">\n<h2>{id} <small>({}) — {}</small></h2>",
        esc(&d.template),
        status_word(d.status),
        id = esc(&d.id)
    );
    let empty = Vec::new();
    let before = d.before.as_ref().unwrap_or(&empty);
    let after = d.after.as_ref().unwrap_or(&empty);
    let pages = before.len().max(after.len());
    let mut same = Vec::new();
    html.push_str("<table class=\"pages\">\n<tr><th>before</th><th>after</th></tr>\n");
    for i in 0..pages {
        let (b, a) = (before.get(i), after.get(i));
        let (b_png, a_png, changed) = match (b, a) {
            (Some(b), Some(a)) => {
                let boxes = changed_regions(b, a);
                if boxes.is_empty() {
                    same.push(i + 1);
                    continue;
                }
                (
                    Some(marked_png(b, &boxes)?),
                    Some(marked_png(a, &boxes)?),
                    boxes.len(),
                )
            }
            (Some(b), None) => (Some(png(b)?), None, 0),
            (None, Some(a)) => (None, Some(png(a)?), 0),
            (None, None) => continue,
        };
        let _ = writeln!(
            html,
            "<tr><td colspan=\"2\" class=\"page\">page {}{}</td></tr>",
            i + 1,
            if changed > 0 {
                format!(" — {changed} changed region(s) outlined")
            } else {
                String::new()
            }
        );
        let cell = |png: Option<Vec<u8>>, side: &str| match png {
            Some(bytes) => format!(
                "<td><img alt=\"{side}, page {}\" src=\"data:image/png;base64,{}\"></td>",
                i + 1,
                base64(&bytes)
            ),
            None => format!(
                "<td class=\"missing\">{}</td>",
                if d.before.is_none() && side == "before" {
                    "no picture (no --baseline)"
                } else {
                    "no such page"
                }
            ),
        };
        let _ = writeln!(
            html,
            "<tr>{}{}</tr>",
            cell(b_png, "before"),
            cell(a_png, "after")
        );
    }
    html.push_str("</table>\n");
    if !same.is_empty() {
        let list: Vec<String> = same.iter().map(usize::to_string).collect();
        let _ = writeln!(
            html,
            "<p class=\"note\">pages without visible change: {}</p>",
            list.join(", ")
        );
    }
    html.push_str("<h3>text diff</h3>\n<pre class=\"diff\">");
    for line in d.diff.lines() {
        let class = match line.chars().next() {
            Some('+') if !line.starts_with("+++") => "add",
            Some('-') if !line.starts_with("---") => "del",
            Some('@') => "hunk",
            _ => "ctx",
        };
        let _ = writeln!(html, "<span class=\"{class}\">{}</span>", esc(line));
    }
    html.push_str("</pre>\n</section>\n");
    Ok(())
}

fn png(r: &Raster) -> Result<Vec<u8>, BuildError> {
    r.png().map_err(|e| BuildError::Io {
        action: "encode a page picture for",
        path: PathBuf::from("report"),
        source: std::io::Error::other(e),
    })
}

/// A rectangle in pixels: x0, y0, x1, y1 (exclusive).
type Rect = (u32, u32, u32, u32);

/// Regions where two pictures of a page differ, as rectangles around
/// connected groups of changed cells (neighbouring cells merged).
fn changed_regions(a: &Raster, b: &Raster) -> Vec<Rect> {
    let w = a.width().min(b.width());
    let h = a.height().min(b.height());
    let (cols, rows) = (w.div_ceil(CELL), h.div_ceil(CELL));
    let mut hot = vec![false; (cols * rows) as usize];
    let (pa, pb) = (a.rgba(), b.rgba());
    for y in 0..h {
        for x in 0..w {
            let ia = ((y * a.width() + x) * 4) as usize;
            let ib = ((y * b.width() + x) * 4) as usize;
            let differs = (0..3).any(|c| pa[ia + c].abs_diff(pb[ib + c]) > THRESHOLD);
            if differs {
                hot[((y / CELL) * cols + x / CELL) as usize] = true;
            }
        }
    }
    if a.width() != b.width() || a.height() != b.height() {
        return vec![(0, 0, a.width().max(b.width()), a.height().max(b.height()))];
    }
    // Flood-fill groups of hot cells; cells up to 2 apart belong together.
    let mut seen = vec![false; hot.len()];
    let mut rects = Vec::new();
    for start in 0..hot.len() {
        if !hot[start] || seen[start] {
            continue;
        }
        let mut stack = vec![start];
        seen[start] = true;
        let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
        while let Some(i) = stack.pop() {
            let (cx, cy) = (i as u32 % cols, i as u32 / cols);
            x0 = x0.min(cx);
            y0 = y0.min(cy);
            x1 = x1.max(cx);
            y1 = y1.max(cy);
            for dy in -2i64..=2 {
                for dx in -2i64..=2 {
                    let (nx, ny) = (cx as i64 + dx, cy as i64 + dy);
                    if nx < 0 || ny < 0 || nx >= cols as i64 || ny >= rows as i64 {
                        continue;
                    }
                    let j = (ny as u32 * cols + nx as u32) as usize;
                    if hot[j] && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        let pad = 4;
        rects.push((
            (x0 * CELL).saturating_sub(pad),
            (y0 * CELL).saturating_sub(pad),
            ((x1 + 1) * CELL + pad).min(w),
            ((y1 + 1) * CELL + pad).min(h),
        ));
    }
    rects
}

/// The picture as PNG with the regions tinted and outlined.
fn marked_png(r: &Raster, rects: &[Rect]) -> Result<Vec<u8>, BuildError> {
    let mut copy = r.clone();
    let width = copy.width();
    let height = copy.height();
    let px = copy.rgba_mut();
    for &(x0, y0, x1, y1) in rects {
        for y in y0..y1.min(height) {
            for x in x0..x1.min(width) {
                let i = ((y * width + x) * 4) as usize;
                let border = x < x0 + 3 || x + 3 >= x1 || y < y0 + 3 || y + 3 >= y1;
                for c in 0..3 {
                    px[i + c] = if border {
                        MARK[c]
                    } else {
                        // 20 % tint, keeps the text readable.
                        ((u16::from(px[i + c]) * 4 + u16::from(MARK[c])) / 5) as u8
                    };
                }
                px[i + 3] = 255;
            }
        }
    }
    png(&copy)
}

/// Standard base64 (RFC 4648) for data URLs.
fn base64(data: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(ABC[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const HEAD: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>pactum check report</title>
<style>
body { font-family: system-ui, sans-serif; margin: 16px; color: #222; background: #f4f4f4; }
h1 { font-size: 20px; } h2 { font-size: 17px; margin-top: 28px; } h3 { font-size: 14px; }
small { color: #666; font-weight: normal; }
.note { color: #555; font-size: 13px; }
table.pages { border-collapse: collapse; width: 100%; table-layout: fixed; }
table.pages th { text-align: left; font-size: 13px; color: #555; }
table.pages td { vertical-align: top; padding: 4px; }
td.page { font-size: 12px; color: #555; }
td.missing { color: #888; font-style: italic; }
img { width: 100%; border: 1px solid #bbb; background: #fff; }
pre.diff { background: #fff; border: 1px solid #ccc; padding: 8px; font-size: 12px; white-space: pre-wrap; }
.add { background: #e6ffed; display: block; } .del { background: #ffeef0; display: block; }
.hunk { color: #0550ae; display: block; } .ctx { display: block; }
</style>
</head>
<body>
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }
}
