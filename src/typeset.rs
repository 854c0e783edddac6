//! Typesetting: typst markup → PDF bytes, in-process.
//!
//! The only module that knows typst. It owns the embedded fonts (parsed once
//! per process, shared by every document and thread) and the `World`: the
//! main source comes from the render stage, other files only from the
//! workspace's `templates/` folder, `today()` from the record. Output is
//! PDF/A-2b with a fixed timestamp, so the same input gives the same bytes.
//! For `check` it also extracts a document's text (from typst's laid-out
//! pages, not from the PDF) and rasterises pages for the review report.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use chrono::{Datelike, NaiveDate};
use typst::diag::{FileError, FileResult, Severity, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration, Smart};
use typst::layout::{Frame, FrameItem, Point, Transform};
use typst::syntax::{FileId, RootedPath, Source, SyntaxKind, SyntaxNode, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards, Timestamp};

/// Font files compiled into the binary, by file name under `templates/fonts/`
/// (where their licences are).
pub(crate) static FONT_FILES: &[(&str, &[u8])] = &[
    (
        "NotoSerifSC-Regular.ttf",
        include_bytes!("../templates/fonts/NotoSerifSC-Regular.ttf"),
    ),
    (
        "NotoSerifSC-Bold.ttf",
        include_bytes!("../templates/fonts/NotoSerifSC-Bold.ttf"),
    ),
    (
        "NotoSansCJKsc-Regular.otf",
        include_bytes!("../templates/fonts/NotoSansCJKsc-Regular.otf"),
    ),
    (
        "NotoSansCJKsc-Bold.otf",
        include_bytes!("../templates/fonts/NotoSansCJKsc-Bold.otf"),
    ),
    (
        "LibertinusSerif-Regular.otf",
        include_bytes!("../templates/fonts/LibertinusSerif-Regular.otf"),
    ),
    (
        "LibertinusSerif-Bold.otf",
        include_bytes!("../templates/fonts/LibertinusSerif-Bold.otf"),
    ),
    (
        "LibertinusSerif-Italic.otf",
        include_bytes!("../templates/fonts/LibertinusSerif-Italic.otf"),
    ),
    (
        "LibertinusSerif-BoldItalic.otf",
        include_bytes!("../templates/fonts/LibertinusSerif-BoldItalic.otf"),
    ),
];

/// The embedded fonts, parsed once.
pub struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
    /// One bit per Unicode scalar value, set when some font covers it: the
    /// validation stage asks about every character of every record, and a
    /// font's own coverage is a list of runs searched from the start (a few
    /// thousand steps per CJK character).
    drawable: Vec<u64>,
}

impl Fonts {
    /// The process-wide font set (parsed on first use).
    pub fn get() -> &'static Fonts {
        static FONTS: OnceLock<Fonts> = OnceLock::new();
        FONTS.get_or_init(|| {
            let fonts: Vec<Font> = FONT_FILES
                .iter()
                .flat_map(|(_, data)| Font::iter(Bytes::new(*data)))
                .collect();
            let mut drawable = vec![0u64; (char::MAX as usize + 1).div_ceil(64)];
            for c in fonts.iter().flat_map(|f| f.info().coverage.iter()) {
                if let Some(word) = drawable.get_mut(c as usize / 64) {
                    *word |= 1 << (c % 64);
                }
            }
            Fonts {
                book: LazyHash::new(FontBook::from_fonts(&fonts)),
                fonts,
                drawable,
            }
        })
    }

    /// Whether some embedded font has a glyph for `c`.
    pub fn can_draw(&self, c: char) -> bool {
        let c = c as usize;
        self.drawable
            .get(c / 64)
            .is_some_and(|word| word & (1 << (c % 64)) != 0)
    }
}

/// A problem typst reported, already located in the file it happened in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypstProblem {
    /// The template file (relative to `templates/`), or `None` for generated markup.
    pub file: Option<PathBuf>,
    /// 1-based line and column, when typst gave a span.
    pub line_col: Option<(usize, usize)>,
    /// The text of that line, for a snippet.
    pub line_text: Option<String>,
    /// typst's message.
    pub message: String,
    /// typst's hints.
    pub hints: Vec<String>,
}

impl TypstProblem {
    fn unlocated(message: String) -> Self {
        TypstProblem {
            file: None,
            line_col: None,
            line_text: None,
            message,
            hints: vec![],
        }
    }
}

/// A typeset document.
pub struct Pdf {
    /// The PDF file.
    pub bytes: Vec<u8>,
    /// How many pages it has.
    pub pages: usize,
    /// typst's warnings, located like errors (`build` ignores them, `check` fails on them).
    pub warnings: Vec<TypstProblem>,
    /// The template files typst read for it (paths under `templates/`, sorted):
    /// what the register records the revision as made from.
    pub read: Vec<String>,
}

/// A typeset document with its text, for `check`.
pub struct Checked {
    /// The PDF and typst's warnings.
    pub pdf: Pdf,
    /// The text of every page in reading order (see [`Typesetter::check`]).
    pub text: String,
}

/// One page rendered to pixels (RGBA, opaque: pages have a white background).
#[derive(Clone)]
pub struct Raster(tiny_skia::Pixmap);

impl Raster {
    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.0.width()
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.0.height()
    }

    /// The pixels, 4 bytes (R, G, B, A) each, row by row.
    pub fn rgba(&self) -> &[u8] {
        self.0.data()
    }

    /// The pixels, to draw on (e.g. highlight changed regions).
    pub fn rgba_mut(&mut self) -> &mut [u8] {
        self.0.data_mut()
    }

    /// The page as a PNG file.
    pub fn png(&self) -> Result<Vec<u8>, String> {
        self.0.encode_png().map_err(|e| e.to_string())
    }
}

/// One document to typeset.
pub struct Job<'a> {
    /// Folder of the template under `templates/` (imports are relative to it).
    pub template: &'a str,
    /// The typst markup produced by the render stage.
    pub markup: String,
    /// Date `today()` returns and the PDF timestamp is taken from.
    pub date: NaiveDate,
    /// Stable identifier for the PDF's document id (e.g. the record id).
    pub ident: &'a str,
    /// Also write the markup and every file typst read into this folder, so
    /// `typst compile` reproduces the document outside pactum.
    pub emit: Option<&'a Path>,
}

/// Typesets documents against one workspace's `templates/` folder.
pub struct Typesetter {
    root: PathBuf,
    library: LazyHash<Library>,
    fonts: &'static Fonts,
    sources: Mutex<HashMap<FileId, FileResult<Source>>>,
    files: Mutex<HashMap<FileId, FileResult<Bytes>>>,
    /// Nanoseconds spent inside typst (layout and PDF export), summed over threads.
    busy_nanos: AtomicU64,
}

/// After each document, typst's memo cache drops what the last two documents
/// (one per worker on two cores) did not use. What contracts share, the
/// unchanged clauses (see [`split_plain`]), is used by every document and
/// stays; the rest is one contract's own and is not needed again. A longer
/// memory only grows the heap: keeping 64 documents' worth cost ~600 MB and
/// made allocation slower, with no gain in speed (README, Performance).
const EVICT_MAX_AGE: usize = 2;

impl Typesetter {
    /// A typesetter reading template files from `templates_dir` only.
    pub fn new(templates_dir: &Path) -> Self {
        Typesetter {
            root: templates_dir.to_path_buf(),
            library: LazyHash::new(Library::builder().build()),
            fonts: Fonts::get(),
            sources: Mutex::new(HashMap::new()),
            files: Mutex::new(HashMap::new()),
            busy_nanos: AtomicU64::new(0),
        }
    }

    /// Time spent inside typst so far (layout and PDF export), summed over threads.
    pub fn busy(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.busy_nanos.load(Ordering::Relaxed))
    }

    /// Typesets one document into PDF/A-2b bytes, or the problems typst found.
    pub fn pdf(&self, job: &Job) -> Result<Pdf, Vec<TypstProblem>> {
        self.compile(job, |world, doc, warnings| {
            export_pdf(world, doc, job, warnings)
        })
    }

    /// Typesets one document and extracts its text: every text run of every
    /// page, lines ordered top to bottom and runs left to right, runs on one
    /// line joined (with a space where the layout leaves a gap), rotated text
    /// (the draft watermark) after the page's lines, pages introduced by a
    /// `=== page N ===` line. The text is made from the
    /// laid-out document, so it is exactly what the PDF shows, in a stable order.
    pub fn check(&self, job: &Job) -> Result<Checked, Vec<TypstProblem>> {
        self.compile(job, |world, doc, warnings| {
            let text = document_text(doc);
            export_pdf(world, doc, job, warnings).map(|pdf| Checked { pdf, text })
        })
    }

    /// Typesets one document and renders every page at `pixels_per_pt`
    /// (1.0 = 72 dpi) with typst-render.
    pub fn rasterize(
        &self,
        job: &Job,
        pixels_per_pt: f32,
    ) -> Result<Vec<Raster>, Vec<TypstProblem>> {
        self.compile(job, |_, doc, _| {
            let options = typst_render::RenderOptions {
                pixel_per_pt: f64::from(pixels_per_pt).into(),
                render_bleed: false,
            };
            Ok(doc
                .pages()
                .iter()
                .map(|page| Raster(typst_render::render(page, &options)))
                .collect())
        })
    }

    /// Compiles `job` in its own `World` and hands the laid-out document and
    /// typst's warnings to `then`.
    fn compile<R>(
        &self,
        job: &Job,
        then: impl FnOnce(&DocWorld, &PagedDocument, Vec<TypstProblem>) -> Result<R, Vec<TypstProblem>>,
    ) -> Result<R, Vec<TypstProblem>> {
        let started = std::time::Instant::now();
        let result = self.compile_untimed(job, then);
        self.busy_nanos
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        result
    }

    fn compile_untimed<R>(
        &self,
        job: &Job,
        then: impl FnOnce(&DocWorld, &PagedDocument, Vec<TypstProblem>) -> Result<R, Vec<TypstProblem>>,
    ) -> Result<R, Vec<TypstProblem>> {
        let main_path = format!("/{}/main.typ", job.template);
        let main_id = VirtualPath::new(&main_path)
            .map(|vp| RootedPath::new(VirtualRoot::Project, vp).intern())
            .map_err(|e| {
                vec![TypstProblem::unlocated(format!(
                    "invalid template name ({e:?})"
                ))]
            })?;
        let today = Datetime::from_ymd(
            job.date.year(),
            job.date.month() as u8,
            job.date.day() as u8,
        );
        let (main, chunks) = split_plain(job.template, &job.markup);
        let world = DocWorld {
            ts: self,
            main: Source::new(main_id, main),
            generated: &job.markup,
            chunks,
            today,
            read: Mutex::new(HashSet::new()),
        };
        let warned = typst::compile::<PagedDocument>(&world);
        typst::comemo::evict(EVICT_MAX_AGE);
        if let Some(dir) = job.emit {
            world.emit(dir).map_err(|e| {
                vec![TypstProblem::unlocated(format!(
                    "failed to write the typst sources to {} ({e})",
                    dir.display()
                ))]
            })?;
        }
        let warnings = world.located(&warned.warnings, Severity::Warning);
        let doc = warned.output.map_err(|errs| world.problems(&errs))?;
        then(&world, &doc, warnings)
    }

    fn read(&self, id: FileId) -> FileResult<Bytes> {
        if let Some(b) = self.files.lock().map_err(|_| poisoned())?.get(&id) {
            return b.clone();
        }
        let result = self.read_uncached(id);
        self.files
            .lock()
            .map_err(|_| poisoned())?
            .insert(id, result.clone());
        result
    }

    /// Reads a file under `templates/`, refusing packages and anything outside the folder.
    fn read_uncached(&self, id: FileId) -> FileResult<Bytes> {
        let rooted = id.get();
        if !matches!(rooted.root(), VirtualRoot::Project) {
            return Err(FileError::Other(Some(
                "packages are not available: templates may only use files under templates/".into(),
            )));
        }
        let path = rooted
            .vpath()
            .realize(&self.root)
            .map_err(FileError::Realize)?;
        // Refuse symlinks that lead out of the templates folder.
        let real = path
            .canonicalize()
            .map_err(|_| FileError::NotFound(path.clone()))?;
        let root = self
            .root
            .canonicalize()
            .map_err(|_| FileError::NotFound(self.root.clone()))?;
        if !real.starts_with(&root) {
            return Err(FileError::AccessDenied);
        }
        if real.is_dir() {
            return Err(FileError::IsDirectory);
        }
        std::fs::read(&real)
            .map(Bytes::new)
            .map_err(|e| FileError::from_io(e, &path))
    }
}

/// PDF/A-2b export with a timestamp from the job's date.
fn export_pdf(
    world: &DocWorld,
    doc: &PagedDocument,
    job: &Job,
    warnings: Vec<TypstProblem>,
) -> Result<Pdf, Vec<TypstProblem>> {
    let timestamp = world.today.map(Timestamp::new_utc);
    let standards = PdfStandards::new(&[PdfStandard::A_2b]).map_err(|e| {
        vec![TypstProblem::unlocated(format!(
            "PDF/A configuration rejected ({e:?})"
        ))]
    })?;
    let options = PdfOptions {
        ident: Smart::Custom(job.ident.to_owned()),
        creator: Smart::Custom(Some("pactum".to_owned())),
        timestamp,
        standards,
        ..PdfOptions::default()
    };
    let bytes = typst_pdf::pdf(doc, &options).map_err(|errs| world.problems(&errs))?;
    Ok(Pdf {
        bytes,
        pages: doc.pages().len(),
        warnings,
        read: world.read_paths(),
    })
}

/// A run of text placed on a page (baseline origin in points).
struct Run {
    x: f64,
    y: f64,
    width: f64,
    size: f64,
    text: String,
    /// Rotated or skewed (a watermark): not part of any line.
    turned: bool,
}

/// The text of a laid-out document, page by page (see [`Typesetter::check`]).
fn document_text(doc: &PagedDocument) -> String {
    let mut out = String::new();
    for (i, page) in doc.pages().iter().enumerate() {
        out.push_str(&format!("=== page {} ===\n", i + 1));
        let mut runs = Vec::new();
        collect_runs(&page.frame, Transform::identity(), &mut runs);
        // Turned text (the draft watermark) would land inside some line: put it last.
        let (turned, flat): (Vec<Run>, Vec<Run>) = runs.into_iter().partition(|r| r.turned);
        for line in lines(flat).into_iter().chain(lines(turned)) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

fn collect_runs(frame: &Frame, ts: Transform, runs: &mut Vec<Run>) {
    for (pos, item) in frame.items() {
        match item {
            FrameItem::Group(group) => {
                let ts = ts
                    .pre_concat(Transform::translate(pos.x, pos.y))
                    .pre_concat(group.transform);
                collect_runs(&group.frame, ts, runs);
            }
            FrameItem::Text(text) => {
                let at = pos.transform(ts);
                let end = Point::new(pos.x + text.width(), pos.y).transform(ts);
                runs.push(Run {
                    x: at.x.to_pt(),
                    y: at.y.to_pt(),
                    width: (end.x - at.x).to_pt().abs(),
                    size: text.size.to_pt(),
                    text: text.text.to_string(),
                    turned: !ts.kx.is_zero() || !ts.ky.is_zero(),
                });
            }
            _ => {}
        }
    }
}

/// Groups runs into lines (baselines closer than a third of the font size),
/// top to bottom, each line left to right.
fn lines(mut runs: Vec<Run>) -> Vec<String> {
    runs.sort_by(|a, b| a.y.total_cmp(&b.y).then(a.x.total_cmp(&b.x)));
    let mut lines: Vec<Vec<Run>> = Vec::new();
    for run in runs {
        match lines.last_mut() {
            Some(line) if (run.y - line[0].y).abs() < line[0].size.max(run.size) / 3.0 => {
                line.push(run)
            }
            _ => lines.push(vec![run]),
        }
    }
    lines
        .into_iter()
        .map(|mut line| {
            line.sort_by(|a, b| a.x.total_cmp(&b.x));
            let mut text = String::new();
            let mut end: Option<f64> = None;
            for run in &line {
                let gap = end.map_or(0.0, |e| run.x - e);
                if end.is_some()
                    && gap > run.size / 4.0
                    && !text.ends_with(char::is_whitespace)
                    && !run.text.starts_with(char::is_whitespace)
                {
                    text.push(' ');
                }
                text.push_str(&run.text);
                end = Some(run.x + run.width);
            }
            text.trim_end().to_owned()
        })
        .filter(|l| !l.is_empty())
        .collect()
}

fn poisoned() -> FileError {
    FileError::Other(Some("file cache lock poisoned".into()))
}

/// The typst `World` for one document.
struct DocWorld<'a> {
    ts: &'a Typesetter,
    /// The generated markup with its plain paragraphs moved to `chunks`.
    main: Source,
    /// The markup as the render stage generated it (for diagnostics).
    generated: &'a str,
    chunks: HashMap<FileId, Chunk>,
    today: Option<Datetime>,
    /// Every file this document read (for `--emit-typst`).
    read: Mutex<HashSet<FileId>>,
}

impl World for DocWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &self.ts.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.ts.fonts.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            return Ok(self.main.clone());
        }
        if let Some(chunk) = self.chunks.get(&id) {
            return Ok(chunk.source.clone());
        }
        self.note(id);
        let mut cache = self.ts.sources.lock().map_err(|_| poisoned())?;
        if let Some(s) = cache.get(&id) {
            return s.clone();
        }
        let result = self.ts.read(id).and_then(|bytes| {
            let text = std::str::from_utf8(bytes.as_slice()).map_err(|_| FileError::InvalidUtf8)?;
            Ok(Source::new(id, text.to_owned()))
        });
        cache.insert(id, result.clone());
        result
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.main.id() {
            return Ok(Bytes::from_string(self.main.clone()));
        }
        if let Some(chunk) = self.chunks.get(&id) {
            return Ok(Bytes::from_string(chunk.source.clone()));
        }
        self.note(id);
        self.ts.read(id)
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.ts.fonts.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        self.today
    }
}

impl DocWorld<'_> {
    /// The files read so far, as paths under `templates/`, sorted.
    ///
    /// Complete also when typst replays memoised work: comemo validates a
    /// cached result by calling `source`/`file` again, which notes the file.
    fn read_paths(&self) -> Vec<String> {
        let read = self.read.lock().map(|r| r.clone()).unwrap_or_default();
        let mut paths: Vec<String> = read
            .iter()
            .map(|id| id.get().vpath().get_without_slash().to_owned())
            .collect();
        paths.sort();
        paths
    }

    fn note(&self, id: FileId) {
        if let Ok(mut read) = self.read.lock() {
            read.insert(id);
        }
    }

    /// Writes `main.typ` and every template file read, laid out as typst's
    /// project root, so `typst compile --root DIR --font-path templates/fonts
    /// DIR/main.typ` reproduces the document (imports are root-absolute).
    fn emit(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("main.typ"), self.main.text())?;
        for (id, chunk) in &self.chunks {
            if let Ok(dest) = id.get().vpath().realize(dir) {
                if let Some(parent) = dest.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(dest, chunk.source.text())?;
            }
        }
        let read = self.read.lock().map(|r| r.clone()).unwrap_or_default();
        for id in read {
            let vpath = id.get().vpath();
            let Ok(bytes) = self.ts.read(id) else {
                continue;
            };
            let Ok(dest) = vpath.realize(dir) else {
                continue;
            };
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(dest, bytes.as_slice())?;
        }
        Ok(())
    }

    /// Locates typst's errors in their files (generated markup or a template file).
    fn problems(&self, errs: &[SourceDiagnostic]) -> Vec<TypstProblem> {
        self.located(errs, Severity::Error)
    }

    /// Locates typst's diagnostics of one severity in their files.
    fn located(&self, diags: &[SourceDiagnostic], severity: Severity) -> Vec<TypstProblem> {
        diags
            .iter()
            .filter(|e| e.severity == severity)
            .map(|e| {
                let id = e.span.id();
                let chunk = id.and_then(|id| self.chunks.get(&id));
                let generated = chunk.is_some() || id == Some(self.main.id());
                let range = self.range(e.span);
                // Positions in the generated markup (whose lines the main
                // source keeps) or in a template file.
                let lc = match (chunk, range) {
                    (Some(c), Some(r)) => Source::detached(self.generated)
                        .lines()
                        .byte_to_line_column(c.offset + r.start),
                    (None, Some(r)) => id
                        .and_then(|id| self.source(id).ok())
                        .and_then(|src| src.lines().byte_to_line_column(r.start)),
                    _ => None,
                };
                let line_text = lc.and_then(|(l, _)| {
                    if generated {
                        self.generated.lines().nth(l).map(str::to_owned)
                    } else {
                        let src = self.source(id?).ok()?;
                        src.text().lines().nth(l).map(str::to_owned)
                    }
                });
                let line_col = lc.map(|(l, c)| (l + 1, c + 1));
                let file = id
                    .filter(|_| !generated)
                    .map(|id| PathBuf::from(id.get().vpath().get_without_slash()));
                TypstProblem {
                    file,
                    line_col,
                    line_text,
                    message: e.message.to_string(),
                    hints: e.hints.iter().map(|h| h.v.to_string()).collect(),
                }
            })
            .collect()
    }
}

/// A run of plain markup moved out of the generated source (see [`split_plain`]).
struct Chunk {
    source: Source,
    /// Byte offset of its text in the generated markup.
    offset: usize,
}

/// Moves every top-level paragraph, heading or list of the generated markup
/// that is plain markup (text, escapes, strong and emphasis, headings, list
/// items; no code, labels or references) into a file of its own,
/// `/_chunks/<template>/<k>.typ`, included from the main source in its place.
///
/// Why: typst identifies laid-out content by syntax spans, which number the
/// nodes of a whole file, so one escape more early in a contract renumbers
/// every clause after it and nothing laid out for the previous contract can be
/// reused. A clause in a file of its own keeps its spans wherever it sits, so
/// typst lays an unchanged clause out once for the batch, not once per
/// contract. The replacement keeps the line structure, so a diagnostic in the
/// main source still names the generated line. Output is the same as without
/// the split.
fn split_plain(template: &str, markup: &str) -> (String, HashMap<FileId, Chunk>) {
    let root = typst::syntax::parse(markup);
    let mut chunks = HashMap::new();
    if root.diagnosis().errors {
        return (markup.to_owned(), chunks);
    }
    let mut main = String::with_capacity(markup.len());
    let mut group: Vec<&SyntaxNode> = Vec::new();
    let (mut start, mut at) = (0, 0);
    let mut flush =
        |group: &mut Vec<&SyntaxNode>, range: std::ops::Range<usize>, main: &mut String| {
            let text = &markup[range.clone()];
            let plain = group.iter().all(|n| is_plain(n))
                && group.iter().any(|n| n.kind() != SyntaxKind::Space);
            let path = format!("/{CHUNK_DIR}/{template}/{}.typ", chunks.len());
            let id = VirtualPath::new(&path)
                .ok()
                .map(|vp| RootedPath::new(VirtualRoot::Project, vp).intern());
            match id.filter(|_| plain) {
                Some(id) => {
                    main.push_str(&format!("#include \"{path}\""));
                    main.extend(std::iter::repeat_n('\n', text.matches('\n').count()));
                    let source = Source::new(id, text.to_owned());
                    chunks.insert(
                        id,
                        Chunk {
                            source,
                            offset: range.start,
                        },
                    );
                }
                None => main.push_str(text),
            }
            group.clear();
        };
    for node in root.children() {
        if node.kind() == SyntaxKind::Parbreak {
            flush(&mut group, start..at, &mut main);
            main.push_str(&markup[at..at + node.len()]);
            start = at + node.len();
        } else {
            group.push(node);
        }
        at += node.len();
    }
    flush(&mut group, start..at, &mut main);
    (main, chunks)
}

/// Folder (under the template root, served from memory) of [`split_plain`]'s files.
const CHUNK_DIR: &str = crate::workspace::CHUNKS_FOLDER;

/// Whether `node` is markup without code: it reads nothing and defines nothing.
fn is_plain(node: &SyntaxNode) -> bool {
    use SyntaxKind::*;
    matches!(
        node.kind(),
        Markup
            | Text
            | Space
            | Linebreak
            | Escape
            | Shorthand
            | SmartQuote
            | Strong
            | Emph
            | Star
            | Underscore
            | Heading
            | HeadingMarker
            | ListItem
            | ListMarker
            | EnumItem
            | EnumMarker
            | TermItem
            | TermMarker
            | Colon
    ) && node.children().all(is_plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A service-zh job for `markup`.
    fn test_job(markup: &str) -> Job<'static> {
        Job {
            template: "service-zh",
            markup: markup.to_owned(),
            date: NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
            ident: "t",
            emit: None,
        }
    }

    #[test]
    fn plain_paragraphs_move_to_their_own_files_and_lines_stay_put() {
        let markup = "#import \"/_lib/contract.typ\": *\n\n= 定义\n\n甲方应当\\-按期付款。\n第二行 *加粗*。\n\n#strong[¥1] 元\n\n- 附件1\n- 附件2\n";
        let (main, chunks) = split_plain("service-zh", markup);
        assert_eq!(main.lines().count(), markup.lines().count(), "{main}");
        // The heading, the two-line paragraph and the list move; code stays.
        assert_eq!(chunks.len(), 3, "{main}");
        assert!(main.starts_with("#import"), "{main}");
        assert!(main.contains("#strong[¥1] 元"), "{main}");
        assert!(
            main.contains("#include \"/_chunks/service-zh/1.typ\"\n\n\n#strong"),
            "{main}"
        );
        let mut texts: Vec<(usize, &str)> = chunks
            .values()
            .map(|c| (c.offset, c.source.text()))
            .collect();
        texts.sort();
        for (offset, text) in &texts {
            assert_eq!(&markup[*offset..*offset + text.len()], *text);
        }
        assert_eq!(texts[1].1, "甲方应当\\-按期付款。\n第二行 *加粗*。");
    }

    #[test]
    fn an_error_in_a_moved_paragraph_names_its_generated_line() {
        let ts = Typesetter::new(&Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"));
        // U+20000 is in no embedded font: under PDF/A that is an error at the glyph.
        let markup = "#set text(font: \"Noto Serif SC\")\n\n第一段。\n\n#strong[代码段]\n\n第二段\n含\u{20000}字。\n";
        let job = test_job(markup);
        let Err(problems) = ts.pdf(&job) else {
            panic!("a glyph no font has must fail under PDF/A")
        };
        let p = &problems[0];
        assert_eq!(p.file, None, "{:?}", p.message);
        assert_eq!(p.line_col, Some((8, 1)), "{:?}", p.message);
        assert_eq!(p.line_text.as_deref(), Some("含\u{20000}字。"));
    }

    #[test]
    fn markup_with_syntax_errors_is_not_split() {
        let markup = "段落一。\n\n#strong[未闭合\n\n段落二。\n";
        let (main, chunks) = split_plain("t", markup);
        assert_eq!(main, markup);
        assert!(chunks.is_empty());
    }

    #[test]
    fn embedded_fonts_cover_names_outside_gb2312_and_latin() {
        let f = Fonts::get();
        for c in ['喆', '堃', '甲', '¥', 'A', 'é', '〇', '㐀'] {
            assert!(f.can_draw(c), "cannot draw {c}");
        }
        // CJK Ext B is beyond the embedded fonts: it must be reported, not drawn as tofu.
        assert!(!f.can_draw('\u{20000}'));
    }

    #[test]
    fn the_coverage_bitset_agrees_with_the_fonts() {
        let f = Fonts::get();
        let (mut yes, mut no) = (0, 0);
        for c in (0..0x3_1000u32).step_by(7).filter_map(char::from_u32) {
            let covered = f
                .fonts
                .iter()
                .any(|font| font.info().coverage.contains(c as u32));
            assert_eq!(f.can_draw(c), covered, "U+{:04X}", c as u32);
            if covered { yes += 1 } else { no += 1 }
        }
        // Both answers occur, so the comparison is not vacuous.
        assert!(yes > 5_000 && no > 5_000, "{yes} covered, {no} not");
        assert!(!f.can_draw(char::MAX));
    }

    #[test]
    fn a_template_can_set_headings_in_the_cjk_sans_and_the_body_in_the_serif() {
        let ts = Typesetter::new(&Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"));
        let markup = "#set text(font: \"Noto Serif SC\", fallback: false)\n#show heading: set text(font: \"Noto Sans CJK SC\")\n\n= 第一条 定义\n\n甲方与乙方签订本合同。\n\n#text(font: \"Noto Sans CJK SC\")[乙方承诺按期交付。]\n";
        let job = test_job(markup);
        let pdf = ts.pdf(&job).unwrap_or_else(|p| panic!("{p:?}"));
        assert!(pdf.warnings.is_empty(), "{:?}", pdf.warnings);
        let bytes = String::from_utf8_lossy(&pdf.bytes);
        for face in [
            "NotoSansCJKsc-Bold",
            "NotoSansCJKsc-Regular",
            "NotoSerifSC-Regular",
        ] {
            assert!(bytes.contains(&format!("+{face}")), "{face} not embedded");
        }
    }
}
