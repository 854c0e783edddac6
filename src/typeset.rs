//! Typesetting: typst markup → PDF bytes, in-process.
//!
//! The only module that knows typst. It owns the embedded fonts (parsed once
//! per process, shared by every document and thread) and the `World`: the
//! main source comes from the render stage, other files only from the
//! workspace's `templates/` folder, `today()` from the record. Output is
//! PDF/A-2b with a fixed timestamp, so the same input gives the same bytes.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use chrono::{Datelike, NaiveDate};
use typst::diag::{FileError, FileResult, Severity, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration, Smart};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards, Timestamp};

/// Font files compiled into the binary (see templates/fonts/ for the licences).
static FONT_FILES: &[&[u8]] = &[
    include_bytes!("../templates/fonts/NotoSerifSC-Regular.ttf"),
    include_bytes!("../templates/fonts/NotoSerifSC-Bold.ttf"),
    include_bytes!("../templates/fonts/LibertinusSerif-Regular.otf"),
    include_bytes!("../templates/fonts/LibertinusSerif-Bold.otf"),
    include_bytes!("../templates/fonts/LibertinusSerif-Italic.otf"),
    include_bytes!("../templates/fonts/LibertinusSerif-BoldItalic.otf"),
];

/// The embedded fonts, parsed once.
pub struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

impl Fonts {
    /// The process-wide font set (parsed on first use).
    pub fn get() -> &'static Fonts {
        static FONTS: OnceLock<Fonts> = OnceLock::new();
        FONTS.get_or_init(|| {
            let fonts: Vec<Font> = FONT_FILES
                .iter()
                .flat_map(|data| Font::iter(Bytes::new(*data)))
                .collect();
            Fonts {
                book: LazyHash::new(FontBook::from_fonts(&fonts)),
                fonts,
            }
        })
    }

    /// Whether some embedded font has a glyph for `c`.
    pub fn can_draw(&self, c: char) -> bool {
        self.fonts
            .iter()
            .any(|f| f.info().coverage.contains(c as u32))
    }

    /// Family names of the embedded fonts, sorted and unique.
    pub fn families(&self) -> Vec<String> {
        let mut v: Vec<String> = self.fonts.iter().map(|f| f.info().family.clone()).collect();
        v.sort();
        v.dedup();
        v
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

/// A typeset document.
pub struct Pdf {
    /// The PDF file.
    pub bytes: Vec<u8>,
    /// How many pages it has.
    pub pages: usize,
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
    compiled: AtomicUsize,
    /// Nanoseconds spent inside typst (layout and PDF export), summed over threads.
    busy_nanos: AtomicU64,
}

/// typst memoises layout work across documents; trimming its cache every few
/// documents keeps memory flat over a long batch while keeping the shared
/// (template, font) work warm.
const EVICT_EVERY: usize = 16;
const EVICT_MAX_AGE: usize = 4;

impl Typesetter {
    /// A typesetter reading template files from `templates_dir` only.
    pub fn new(templates_dir: &Path) -> Self {
        Typesetter {
            root: templates_dir.to_path_buf(),
            library: LazyHash::new(Library::builder().build()),
            fonts: Fonts::get(),
            sources: Mutex::new(HashMap::new()),
            files: Mutex::new(HashMap::new()),
            compiled: AtomicUsize::new(0),
            busy_nanos: AtomicU64::new(0),
        }
    }

    /// Time spent inside typst so far (layout and PDF export), summed over threads.
    pub fn busy(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.busy_nanos.load(Ordering::Relaxed))
    }

    /// Typesets one document into PDF/A-2b bytes, or the problems typst found.
    pub fn pdf(&self, job: &Job) -> Result<Pdf, Vec<TypstProblem>> {
        let started = std::time::Instant::now();
        let result = self.pdf_inner(job);
        self.busy_nanos
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        result
    }

    fn pdf_inner(&self, job: &Job) -> Result<Pdf, Vec<TypstProblem>> {
        let main_path = format!("/{}/main.typ", job.template);
        let main_id = VirtualPath::new(&main_path)
            .map(|vp| RootedPath::new(VirtualRoot::Project, vp).intern())
            .map_err(|e| {
                vec![TypstProblem {
                    file: None,
                    line_col: None,
                    line_text: None,
                    message: format!("invalid template name ({e:?})"),
                    hints: vec![],
                }]
            })?;
        let today = Datetime::from_ymd(
            job.date.year(),
            job.date.month() as u8,
            job.date.day() as u8,
        );
        let world = DocWorld {
            ts: self,
            main: Source::new(main_id, job.markup.clone()),
            today,
            read: Mutex::new(HashSet::new()),
        };
        let warned = typst::compile::<PagedDocument>(&world);
        if self.compiled.fetch_add(1, Ordering::Relaxed) % EVICT_EVERY == EVICT_EVERY - 1 {
            typst::comemo::evict(EVICT_MAX_AGE);
        }
        if let Some(dir) = job.emit {
            world.emit(dir).map_err(|e| {
                vec![TypstProblem {
                    file: None,
                    line_col: None,
                    line_text: None,
                    message: format!(
                        "failed to write the typst sources to {} ({e})",
                        dir.display()
                    ),
                    hints: vec![],
                }]
            })?;
        }
        let doc = warned.output.map_err(|errs| world.problems(&errs))?;
        let timestamp = today.map(Timestamp::new_utc);
        let standards = PdfStandards::new(&[PdfStandard::A_2b]).map_err(|e| {
            vec![TypstProblem {
                file: None,
                line_col: None,
                line_text: None,
                message: format!("PDF/A configuration rejected ({e:?})"),
                hints: vec![],
            }]
        })?;
        let options = PdfOptions {
            ident: Smart::Custom(job.ident.to_owned()),
            creator: Smart::Custom(Some("pactum".to_owned())),
            timestamp,
            standards,
            ..PdfOptions::default()
        };
        let bytes = typst_pdf::pdf(&doc, &options).map_err(|errs| world.problems(&errs))?;
        Ok(Pdf {
            bytes,
            pages: doc.pages().len(),
        })
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

fn poisoned() -> FileError {
    FileError::Other(Some("file cache lock poisoned".into()))
}

/// The typst `World` for one document.
struct DocWorld<'a> {
    ts: &'a Typesetter,
    main: Source,
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
        errs.iter()
            .filter(|e| e.severity == Severity::Error)
            .map(|e| {
                let id = e.span.id();
                let source = id.and_then(|id| self.source(id).ok());
                let range = self.range(e.span);
                let (line_col, line_text) = match (&source, range) {
                    (Some(src), Some(r)) => {
                        let lc = src.lines().byte_to_line_column(r.start);
                        let text =
                            lc.and_then(|(l, _)| src.text().lines().nth(l).map(str::to_owned));
                        (lc.map(|(l, c)| (l + 1, c + 1)), text)
                    }
                    _ => (None, None),
                };
                let file = id
                    .filter(|id| *id != self.main.id())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_fonts_cover_names_outside_gb2312_and_latin() {
        let f = Fonts::get();
        for c in ['喆', '堃', '甲', '¥', 'A', 'é', '〇', '㐀'] {
            assert!(f.can_draw(c), "cannot draw {c}");
        }
        // CJK Ext B is beyond the embedded fonts: it must be reported, not drawn as tofu.
        assert!(!f.can_draw('\u{20000}'));
    }
}
