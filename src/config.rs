//! The workspace's settings: `.pactum.toml` in the workspace folder.
//!
//! The one place that reads the file and turns it into a checked [`Config`]
//! before any stage runs. Today it holds the time zone; keys that come later
//! (the register's URL) are added to [`ConfigToml`] and [`Config`] here. An
//! unknown key, a wrong type or an unknown zone is refused with the file's
//! line and column and a hint; a missing file means the defaults. It does not
//! know templates beyond the one fact the default depends on (whether any
//! writes Chinese).

use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use serde::Deserialize;

/// The file name, in the workspace folder (a dotfile: the top level of a
/// workspace holds only `templates/`, `schemas/` and records).
pub const CONFIG_FILE: &str = ".pactum.toml";

/// The zone of a workspace with a Chinese template and no `time_zone`.
pub const CHINESE_DEFAULT_ZONE: Tz = Tz::Asia__Shanghai;

/// A workspace's checked settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The zone every time a person reads is written in (`time_zone`).
    pub time_zone: Tz,
    /// The register (`register`): a PostgreSQL URL without a password, or an
    /// SQLite file relative to the workspace; `None`: `.pactum/register.sqlite`.
    pub register: Option<String>,
}

impl Config {
    /// The settings of a workspace without `.pactum.toml`: `Asia/Shanghai`
    /// when any template writes Chinese, else UTC.
    pub fn defaults(writes_chinese: bool) -> Config {
        Config {
            time_zone: if writes_chinese {
                CHINESE_DEFAULT_ZONE
            } else {
                Tz::UTC
            },
            register: None,
        }
    }
}

/// `.pactum.toml` as written; every key optional, unknown keys refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigToml {
    time_zone: Option<toml::Spanned<String>>,
    register: Option<toml::Spanned<String>>,
}

/// Why `.pactum.toml` cannot be used (an environment error, exit 2).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but cannot be read.
    #[error("failed to read {} ({source})", path.display())]
    Io {
        /// The config file.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The file is not valid TOML, has an unknown key or a bad value.
    #[error("{}:{line}:{column}: {message} ({hint})", path.display())]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// 1-based line of the offending text.
        line: usize,
        /// 1-based column (characters).
        column: usize,
        /// What is wrong.
        message: String,
        /// How to fix it.
        hint: String,
    },
}

/// Reads `root/.pactum.toml`, or returns [`Config::defaults`] when there is none.
pub fn load(root: &Path, writes_chinese: bool) -> Result<Config, ConfigError> {
    let path = if root == Path::new(".") {
        PathBuf::from(CONFIG_FILE)
    } else {
        root.join(CONFIG_FILE)
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Config::defaults(writes_chinese));
        }
        Err(source) => return Err(ConfigError::Io { path, source }),
    };
    parse(&path, &text, writes_chinese)
}

/// [`load`] on text already read (`path` names it in errors).
pub fn parse(path: &Path, text: &str, writes_chinese: bool) -> Result<Config, ConfigError> {
    let invalid = |span: Option<std::ops::Range<usize>>, message: String, hint: String| {
        let before = &text[..span.map_or(0, |s| s.start).min(text.len())];
        ConfigError::Invalid {
            path: path.to_path_buf(),
            line: before.matches('\n').count() + 1,
            column: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
            message,
            hint,
        }
    };
    let raw: ConfigToml = toml::from_str(text).map_err(|e| {
        let message = e.message().trim_end().replace('\n', " ");
        let hint = if message.starts_with("unknown field") {
            format!("{CONFIG_FILE} knows the keys `time_zone` and `register`; remove or rename the other one")
        } else {
            format!("{CONFIG_FILE} is TOML, e.g. the line `time_zone = \"Asia/Shanghai\"`")
        };
        invalid(e.span(), format!("invalid {CONFIG_FILE}: {message}"), hint)
    })?;
    let mut config = Config::defaults(writes_chinese);
    if let Some(zone) = raw.time_zone {
        let name = zone.get_ref().trim();
        config.time_zone = name.parse::<Tz>().map_err(|_| {
            let hint = match closest_zone(name) {
                Some(z) => format!("did you mean \"{z}\"? time_zone takes an IANA name"),
                None => "time_zone takes an IANA name such as \"Asia/Shanghai\", \"Europe/Berlin\" or \"UTC\"".to_owned(),
            };
            invalid(
                Some(zone.span()),
                format!("unknown time zone `{name}`"),
                hint,
            )
        })?;
    }
    if let Some(register) = raw.register {
        let url = register.get_ref().trim();
        if let Err(why) = crate::register::Location::parse(url) {
            return Err(invalid(
                Some(register.span()),
                why,
                "this file is usually committed: give the password in ~/.pgpass or PGPASSWORD"
                    .into(),
            ));
        }
        config.register = Some(url.to_owned());
    }
    Ok(config)
}

/// The IANA name closest to a mistyped one: the same name in other case, the
/// same city (`Shanghai` → `Asia/Shanghai`), or one at most two edits away.
fn closest_zone(name: &str) -> Option<&'static str> {
    let lower = name.to_lowercase();
    let names = || chrono_tz::TZ_VARIANTS.iter().map(|z| z.name());
    names()
        .find(|n| n.to_lowercase() == lower)
        .or_else(|| {
            names().find(|n| n.rsplit('/').next().map(str::to_lowercase) == Some(lower.clone()))
        })
        .or_else(|| {
            names()
                .map(|n| (edits(&n.to_lowercase(), &lower), n))
                .filter(|(d, _)| *d <= 2)
                .min()
                .map(|(_, n)| n)
        })
}

/// Levenshtein distance in characters.
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Config, String> {
        parse(Path::new(".pactum.toml"), text, true).map_err(|e| e.to_string())
    }

    #[test]
    fn the_zone_is_read_and_defaults_follow_the_templates_language() {
        assert_eq!(Config::defaults(true).time_zone, Tz::Asia__Shanghai);
        assert_eq!(Config::defaults(false).time_zone, Tz::UTC);
        assert_eq!(parse_str("").unwrap(), Config::defaults(true));
        assert_eq!(
            parse_str("# ours\ntime_zone = \"Europe/Berlin\"\n")
                .unwrap()
                .time_zone,
            Tz::Europe__Berlin
        );
    }

    #[test]
    fn bad_files_are_refused_with_line_column_and_a_hint() {
        assert_eq!(
            parse_str("\ntime_zone = \"Asia/Shangai\"\n").unwrap_err(),
            ".pactum.toml:2:13: unknown time zone `Asia/Shangai` (did you mean \"Asia/Shanghai\"? time_zone takes an IANA name)"
        );
        let e = parse_str("time_zone = \"Mars/Olympus\"").unwrap_err();
        assert!(e.contains("such as \"Asia/Shanghai\""), "{e}");
        let e = parse_str("time_zone = \"shanghai\"").unwrap_err();
        assert!(e.contains("did you mean \"Asia/Shanghai\""), "{e}");
        let e = parse_str("timezone = \"UTC\"\n").unwrap_err();
        assert!(
            e.starts_with(".pactum.toml:1:1: invalid .pactum.toml: unknown field `timezone`")
                && e.contains("knows the keys `time_zone` and `register`"),
            "{e}"
        );
        let e = parse_str("time_zone = 8\n").unwrap_err();
        assert!(
            e.starts_with(".pactum.toml:1:13: invalid .pactum.toml"),
            "{e}"
        );
        let e = parse_str("time_zone = \n").unwrap_err();
        assert!(e.contains("is TOML"), "{e}");
    }
}
