//! `gather`: the output folders of the shards of one batch become one
//! delivery, the folder one unsharded build would have written.
//!
//! Each shard folder holds its PDFs, `manifest.json`, `SHA256SUMS` and
//! `shard.json` (batch digest, K, N). `gather` refuses folders of different
//! batches, a missing or repeated shard and any file that does not match its
//! shard's `SHA256SUMS`; then it writes the PDFs, one `manifest.json` (the
//! shards' entries in file order, written as a build writes them), the
//! 合同信息登记表 from the register and one `SHA256SUMS`, all-or-nothing
//! through the same staging folder a build uses. It knows no typst and no SQL.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use serde_json::Value;

use crate::build::{SHARD_FILE, ShardInfo, Staging};
use crate::checksum;
use crate::register::{Location, Register};

/// Why the shards cannot be gathered (exit 2), or the environment failed.
#[derive(Debug, thiserror::Error)]
pub enum GatherError {
    /// The folders are not the complete set of shards of one batch.
    #[error("{0}")]
    Shards(String),
    /// A file of a shard does not match that shard's SHA256SUMS.
    #[error("{0}; build that shard again")]
    Changed(String),
    /// Reading, writing or the register failed.
    #[error(transparent)]
    Build(#[from] crate::build::BuildError),
    /// The register could not be read.
    #[error(transparent)]
    Register(#[from] crate::register::RegisterError),
}

fn read(path: &Path) -> Result<Vec<u8>, GatherError> {
    std::fs::read(path).map_err(|e| {
        GatherError::Shards(format!(
            "cannot read {} ({e}); is it a shard's output folder (`build --shard K/N`)?",
            path.display()
        ))
    })
}

/// What `gather` wrote.
#[derive(Debug, serde::Serialize)]
pub struct Gathered {
    /// The batch digest.
    pub batch: String,
    /// How many shards.
    pub shards: u32,
    /// Documents in the delivery.
    pub documents: usize,
}

/// Gathers `shards` into `out`, with the 登记表 read from `register` in `zone`.
pub fn gather(
    shards: &[PathBuf],
    out: &Path,
    register: &Location,
    zone: Tz,
) -> Result<Gathered, GatherError> {
    let mut infos: Vec<(ShardInfo, &PathBuf)> = Vec::new();
    for dir in shards {
        let info: ShardInfo =
            serde_json::from_slice(&read(&dir.join(SHARD_FILE))?).map_err(|e| {
                GatherError::Shards(format!(
                    "{} is not a shard file ({e})",
                    dir.join(SHARD_FILE).display()
                ))
            })?;
        infos.push((info, dir));
    }
    let Some((first, _)) = infos.first().cloned() else {
        return Err(GatherError::Shards("no shard folders given".into()));
    };
    for (info, dir) in &infos {
        if info.batch != first.batch || info.of != first.of {
            return Err(GatherError::Shards(format!(
                "{} is shard {}/{} of batch {}, but {} is of batch {} with {} shards: these folders are not one batch",
                dir.display(),
                info.shard,
                info.of,
                &info.batch[..12],
                shards[0].display(),
                &first.batch[..12],
                first.of
            )));
        }
    }
    let mut by_index: BTreeMap<u32, &PathBuf> = BTreeMap::new();
    for (info, dir) in &infos {
        if let Some(other) = by_index.insert(info.shard, dir) {
            return Err(GatherError::Shards(format!(
                "shard {}/{} is given twice ({} and {})",
                info.shard,
                info.of,
                other.display(),
                dir.display()
            )));
        }
    }
    let missing: Vec<String> = (1..=first.of)
        .filter(|k| !by_index.contains_key(k))
        .map(|k| format!("{k}/{}", first.of))
        .collect();
    if !missing.is_empty() {
        return Err(GatherError::Shards(format!(
            "shard(s) {} of batch {} are missing; run them (a killed shard is completed by running it again), then gather all {}",
            missing.join(", "),
            &first.batch[..12],
            first.of
        )));
    }
    // Every shard's files as its SHA256SUMS lists them, checked.
    let mut documents: Vec<(String, Value)> = Vec::new();
    let mut pdfs: Vec<(String, PathBuf, String)> = Vec::new();
    for dir in by_index.values() {
        let sums = String::from_utf8_lossy(&read(&dir.join("SHA256SUMS"))?).into_owned();
        let mut listed = BTreeMap::new();
        for line in sums.lines() {
            if let Some((sha, name)) = line.split_once("  ") {
                listed.insert(name.to_owned(), sha.to_owned());
            }
        }
        for (name, sha) in &listed {
            let actual = checksum::sha256_hex(&read(&dir.join(name))?);
            if &actual != sha {
                return Err(GatherError::Changed(format!(
                    "{} does not match {}'s SHA256SUMS",
                    dir.join(name).display(),
                    dir.display()
                )));
            }
        }
        let manifest: Value =
            serde_json::from_slice(&read(&dir.join("manifest.json"))?).map_err(|e| {
                GatherError::Shards(format!(
                    "{} is not a manifest ({e})",
                    dir.join("manifest.json").display()
                ))
            })?;
        for d in manifest["documents"].as_array().into_iter().flatten() {
            let file = d["file"].as_str().unwrap_or_default().to_owned();
            let Some(sha) = listed.get(&file) else {
                return Err(GatherError::Changed(format!(
                    "{} lists {file}, which its SHA256SUMS does not",
                    dir.join("manifest.json").display()
                )));
            };
            pdfs.push((file.clone(), dir.join(&file), sha.clone()));
            documents.push((file, d.clone()));
        }
    }
    documents.sort_by(|a, b| a.0.cmp(&b.0));
    pdfs.sort();
    // The delivery, all at once.
    let created = !out.exists();
    std::fs::create_dir_all(out).map_err(crate::build::io("create", out))?;
    let written = (|| -> Result<(), GatherError> {
        let staging = Staging::new(out)?;
        let mut sums: Vec<(String, String)> = Vec::new();
        for (name, path, sha) in &pdfs {
            let bytes = read(path)?;
            staging.write(name, &bytes)?;
            sums.push((name.clone(), sha.clone()));
        }
        let mut reg = Register::open(register, Duration::from_secs(30))?;
        let reader = reg.read()?;
        let csv = staging.write_with("register.csv", |w| reader.write_csv(w, zone))?;
        drop(reader);
        sums.push(("register.csv".into(), csv));
        let mut manifest = staging.manifest("issue")?;
        for (_, d) in &documents {
            manifest.add(crate::build::Manifest::text(d))?;
        }
        sums.push(("manifest.json".into(), manifest.finish()?));
        let refs: Vec<(&str, &str)> = sums.iter().map(|(n, h)| (n.as_str(), h.as_str())).collect();
        staging.write("SHA256SUMS", checksum::sha256sums(&refs).as_bytes())?;
        let names = refs.iter().map(|(n, _)| *n).chain(["SHA256SUMS"]);
        staging.commit(names)?;
        Ok(())
    })();
    if let Err(e) = written {
        if created {
            let _ = std::fs::remove_dir(out);
        }
        return Err(e);
    }
    Ok(Gathered {
        batch: first.batch,
        shards: first.of,
        documents: documents.len(),
    })
}
