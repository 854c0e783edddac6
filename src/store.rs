//! The records of one run, without holding them all in memory.
//!
//! [`Store::scan`] reads each record file once and keeps, per record, only
//! its id, kind and place: the file, the file's SHA-256 and the document's
//! position in it. [`Store::get`] parses the file again when a stage needs
//! the record, and keeps the files parsed last (up to a few hundred records),
//! so a stage that walks the records in order reads each file once. A record
//! costs about two hundred bytes between stages where the parsed record with
//! its positions costs tens of kilobytes, so a batch of 10,000 contracts needs
//! little more memory than one of 1,000. Parsing again is cheap next to
//! typesetting (tens of microseconds against tens of milliseconds per
//! contract).
//!
//! A file read again must hash as it did when scanned; one that changed (or
//! vanished) while the run was going is an R111 problem, collected for the
//! caller to report, and the record is not returned: a run never mixes two
//! versions of a record.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::checksum::sha256_hex;
use crate::diagnostic::Diagnostic;
use crate::record::{self, Loaded, Record, RecordKind};

/// Records kept parsed for the next `get` (per run), counted over whole
/// files, the least recently used file dropped first (the last file parsed
/// always stays). About 36 KB each, so at most ~9 MB whatever the batch size,
/// and a batch of a couple of hundred records parses each file twice (scan,
/// first use) rather than once per stage that reads it.
const RECENT_RECORDS: usize = 256;

/// Files read and parsed at once by [`Store::scan`].
const SCAN_SLICE: usize = 64;

/// One record of the run: its id, kind and place.
#[derive(Debug)]
pub struct Entry {
    /// The record id.
    pub id: String,
    /// Party or contract.
    pub kind: RecordKind,
    file: usize,
    doc: usize,
}

#[derive(Debug)]
struct StoredFile {
    path: PathBuf,
    sha256: String,
}

/// A file's records as parsed, shared by the stages that read them.
type Parsed = Arc<Vec<Arc<Record>>>;

/// The run's records, read again from their files on demand.
#[derive(Debug, Default)]
pub struct Store {
    files: Vec<StoredFile>,
    entries: Vec<Entry>,
    index: BTreeMap<String, usize>,
    recent: Mutex<Vec<(usize, Parsed)>>,
    problems: Mutex<Vec<Diagnostic>>,
}

impl Store {
    /// Reads every `*.yaml`/`*.yml` file under `dirs` (each folder sorted by
    /// path, in the order given) and returns the store with the problems
    /// found while loading (malformed YAML, missing or duplicate ids, …). The
    /// first record with an id wins; later ones are reported (R107) and left out.
    pub fn scan(dirs: &[PathBuf]) -> std::io::Result<(Store, Vec<Diagnostic>)> {
        let mut store = Store::default();
        let mut diagnostics = Vec::new();
        let mut files = Vec::new();
        for dir in dirs {
            files.extend(record::yaml_files(dir)?);
        }
        // Files are read and parsed in parallel a slice at a time (a slice's
        // parsed records are held until their entries are taken), then added
        // in path order.
        use rayon::prelude::*;
        for slice in files.chunks(SCAN_SLICE) {
            let read: Vec<std::io::Result<(String, Loaded)>> = slice
                .par_iter()
                .map(|path| {
                    let bytes = std::fs::read(path)?;
                    let sha256 = sha256_hex(&bytes);
                    let mut loaded = Loaded::default();
                    match record::decode(path, bytes) {
                        Ok(text) => record::load_text(path, text, &mut loaded),
                        Err(d) => loaded.diagnostics.push(*d),
                    }
                    Ok((sha256, loaded))
                })
                .collect();
            for (path, read) in slice.iter().zip(read) {
                let (sha256, mut loaded) = read?; // the first failure in path order
                diagnostics.append(&mut loaded.diagnostics);
                let file = store.files.len();
                store.files.push(StoredFile {
                    path: path.clone(),
                    sha256,
                });
                for (doc, r) in loaded.records.into_iter().enumerate() {
                    store.add(r, file, doc, &mut diagnostics);
                }
            }
        }
        Ok((store, diagnostics))
    }

    fn add(&mut self, r: Record, file: usize, doc: usize, diagnostics: &mut Vec<Diagnostic>) {
        if let Some(&first) = self.index.get(&r.id) {
            // The first record with this id sits in a file already scanned.
            if let Some(prev) = self.at(first) {
                diagnostics.push(record::duplicate_id(&r, &prev.source.path, prev.pos("/id")));
            }
            return;
        }
        self.index.insert(r.id.clone(), self.entries.len());
        self.entries.push(Entry {
            id: r.id.clone(),
            kind: r.kind,
            file,
            doc,
        });
    }

    /// Every record's entry, in file order then document order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Every contract's id with the file it is in.
    pub fn contracts_with_files(&self) -> impl Iterator<Item = (&str, &Path)> {
        self.entries
            .iter()
            .filter(|e| e.kind == RecordKind::Contract)
            .map(|e| (e.id.as_str(), self.files[e.file].path.as_path()))
    }

    /// Whether the run has no records.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many records the run has.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The kind of the record with this id, without reading it.
    pub fn kind(&self, id: &str) -> Option<RecordKind> {
        self.index.get(id).map(|&i| self.entries[i].kind)
    }

    /// The record with this id: from a recently parsed file, or parsed again
    /// from its file. `None` when there is no such record, or
    /// when its file changed since the scan (an R111 problem, see [`Store::problems`]).
    pub fn get(&self, id: &str) -> Option<Arc<Record>> {
        self.at(*self.index.get(id)?)
    }

    /// Problems met while reading files again (R111), taken out of the store.
    pub fn take_problems(&self) -> Vec<Diagnostic> {
        self.problems
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default()
    }

    fn at(&self, i: usize) -> Option<Arc<Record>> {
        let e = self.entries.get(i)?;
        let parsed = self.parsed(e.file)?;
        parsed.get(e.doc).cloned()
    }

    /// The records of file `k`, from the recent ones or read and parsed again.
    fn parsed(&self, k: usize) -> Option<Parsed> {
        if let Ok(mut recent) = self.recent.lock()
            && let Some(at) = recent.iter().position(|(f, _)| *f == k)
        {
            // Least recently used first: a file many records live in (all
            // parties in one file, say) stays while single-record files churn.
            let hit = recent.remove(at);
            let parsed = hit.1.clone();
            recent.push(hit);
            return Some(parsed);
        }
        // Parsed outside the lock: other threads keep reading their files.
        let parsed = self.reread(k)?;
        if let Ok(mut recent) = self.recent.lock() {
            recent.push((k, parsed.clone()));
            let mut held: usize = recent.iter().map(|(_, p)| p.len()).sum();
            while held > RECENT_RECORDS && recent.len() > 1 {
                held -= recent.remove(0).1.len();
            }
        }
        Some(parsed)
    }

    fn reread(&self, k: usize) -> Option<Parsed> {
        let file = self.files.get(k)?;
        let problem = |what: String| {
            let d = Diagnostic::error("R111", what)
                .in_file(&file.path)
                .hint("the records changed while pactum was reading them; run it again once they are saved");
            if let Ok(mut p) = self.problems.lock() {
                p.push(d);
            }
            None
        };
        let bytes = match std::fs::read(&file.path) {
            Ok(b) => b,
            Err(e) => return problem(format!("record file could not be read again ({e})")),
        };
        if sha256_hex(&bytes) != file.sha256 {
            return problem("record file changed during the run".into());
        }
        let mut loaded = Loaded::default();
        let text = record::decode(&file.path, bytes).ok()?;
        record::load_text(&file.path, text, &mut loaded);
        Some(Arc::new(loaded.records.into_iter().map(Arc::new).collect()))
    }
}

/// Every record under `dir` in memory, in file then document order, with the
/// problems found loading them: [`Store::scan`] for callers that want the
/// records themselves (tests, tools). A build reads through the store instead.
pub fn load_dir(dir: &Path) -> std::io::Result<Loaded> {
    let (store, mut diagnostics) = Store::scan(&[dir.to_path_buf()])?;
    let records = store
        .entries()
        .iter()
        .filter_map(|e| store.get(&e.id))
        .map(|r| (*r).clone())
        .collect();
    diagnostics.extend(store.take_problems());
    Ok(Loaded {
        records,
        diagnostics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    const PARTY: &str = "kind: party\nid: p1\nname: 甲\n";
    const CONTRACTS: &str = "kind: contract\nid: c1\nx: 1\n---\nkind: contract\nid: c2\nx: 2\n";

    #[test]
    fn contracts_are_read_again_from_their_file() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.yaml", PARTY);
        write(dir.path(), "b.yaml", CONTRACTS);
        let (store, diags) = Store::scan(&[dir.path().to_path_buf()]).unwrap();
        assert!(diags.is_empty(), "{diags:?}");
        let ids: Vec<&str> = store.entries().iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["p1", "c1", "c2"]);
        let c2 = store.get("c2").unwrap();
        assert_eq!(c2.value["x"], 2);
        assert_eq!(c2.pos("/x").line, 7);
        assert_eq!(store.kind("p1"), Some(RecordKind::Party));
        assert!(store.get("nope").is_none());
        assert!(store.take_problems().is_empty());
    }

    #[test]
    fn a_file_changed_after_the_scan_is_a_problem_not_a_record() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "b.yaml", CONTRACTS);
        let (store, _) = Store::scan(&[dir.path().to_path_buf()]).unwrap();
        write(dir.path(), "b.yaml", &CONTRACTS.replace("x: 2", "x: 3"));
        assert!(store.get("c2").is_none());
        let problems = store.take_problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].code, "R111");
        assert!(problems[0].message.contains("changed"), "{problems:?}");
    }

    #[test]
    fn a_file_in_steady_use_stays_parsed_while_others_come_and_go() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a-parties.yaml", CONTRACTS);
        for i in 0..2 * RECENT_RECORDS {
            write(
                dir.path(),
                &format!("b-{i:02}.yaml"),
                &format!("kind: contract\nid: s{i}\n"),
            );
        }
        let (store, _) = Store::scan(&[dir.path().to_path_buf()]).unwrap();
        for i in 0..2 * RECENT_RECORDS {
            assert!(store.get("c1").is_some());
            assert!(store.get(&format!("s{i}")).is_some());
        }
        // Still the parse from before the change: the file was not read again.
        write(
            dir.path(),
            "a-parties.yaml",
            &CONTRACTS.replace("x: 2", "x: 3"),
        );
        assert_eq!(store.get("c2").unwrap().value["x"], 2);
        assert!(store.take_problems().is_empty());
    }

    #[test]
    fn files_beyond_the_budget_are_read_again() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..RECENT_RECORDS + 10 {
            write(
                dir.path(),
                &format!("s-{i:04}.yaml"),
                &format!("kind: contract\nid: s{i}\n"),
            );
        }
        let (store, _) = Store::scan(&[dir.path().to_path_buf()]).unwrap();
        for i in 0..RECENT_RECORDS + 10 {
            assert!(store.get(&format!("s{i}")).is_some());
        }
        // s0 was dropped long ago, so the changed file is read and noticed;
        // the last file read is still held and its change goes unseen.
        write(dir.path(), "s-0000.yaml", "kind: contract\nid: s0\nx: 1\n");
        let last = RECENT_RECORDS + 9;
        write(
            dir.path(),
            &format!("s-{last:04}.yaml"),
            &format!("kind: contract\nid: s{last}\nx: 1\n"),
        );
        assert!(store.get("s0").is_none());
        assert!(store.get(&format!("s{last}")).is_some());
        let problems = store.take_problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].code, "R111");
    }

    #[test]
    fn a_duplicate_id_names_the_first_place_and_is_left_out() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "b.yaml", CONTRACTS);
        write(dir.path(), "c.yaml", "kind: contract\nid: c1\nx: 9\n");
        let (store, diags) = Store::scan(&[dir.path().to_path_buf()]).unwrap();
        assert_eq!(store.len(), 2);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(diags[0].message.contains("b.yaml:2:5"), "{diags:?}");
        assert_eq!(store.get("c1").unwrap().value["x"], 1);
    }

    #[test]
    fn a_duplicate_id_in_the_same_file_names_both_places() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "t.yaml",
            "kind: party\nid: a\n---\nkind: party\nid: a\n",
        );
        let loaded = load_dir(dir.path()).unwrap();
        assert_eq!(loaded.records.len(), 1);
        let d = &loaded.diagnostics[0];
        assert!(d.message.contains("t.yaml:2:5"), "{}", d.message);
        assert_eq!(d.code, "R107");
        assert_eq!(d.pos.unwrap().line, 5);
    }
}
