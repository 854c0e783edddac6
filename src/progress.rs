//! Progress reporting for long batches: a bar with count, rate and ETA on a
//! terminal, plain periodic lines when stderr is not a terminal, nothing with
//! `--quiet`. The pipeline only sees the `Progress` trait.

use std::io::IsTerminal as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// What the pipeline tells about its progress. Implementations must be cheap and thread-safe.
pub trait Progress: Sync {
    /// A stage starts with `total` items ("validating", "typesetting").
    fn stage(&self, name: &str, total: u64);
    /// One item of the current stage is done.
    fn tick(&self);
    /// The current stage is over.
    fn finish(&self);
}

/// Reports nothing (library callers, `--quiet`, JSON output).
pub struct Silent;

impl Progress for Silent {
    fn stage(&self, _: &str, _: u64) {}
    fn tick(&self) {}
    fn finish(&self) {}
}

/// A progress bar on a terminal; periodic plain lines otherwise.
pub struct Reporter {
    bar: Mutex<Option<ProgressBar>>,
    plain: Option<Plain>,
}

struct Plain {
    name: Mutex<String>,
    total: AtomicU64,
    done: AtomicU64,
    started: Mutex<Instant>,
    last: Mutex<Instant>,
}

impl Reporter {
    /// A reporter for stderr: a bar when it is a terminal, lines every few seconds otherwise.
    pub fn stderr() -> Reporter {
        let terminal = std::io::stderr().is_terminal();
        Reporter {
            bar: Mutex::new(None),
            plain: (!terminal).then(|| Plain {
                name: Mutex::new(String::new()),
                total: AtomicU64::new(0),
                done: AtomicU64::new(0),
                started: Mutex::new(Instant::now()),
                last: Mutex::new(Instant::now()),
            }),
        }
    }
}

impl Progress for Reporter {
    fn stage(&self, name: &str, total: u64) {
        if let Some(p) = &self.plain {
            *p.name.lock().unwrap_or_else(|e| e.into_inner()) = name.to_owned();
            p.total.store(total, Ordering::Relaxed);
            p.done.store(0, Ordering::Relaxed);
            *p.started.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
            *p.last.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{prefix:>12} [{bar:30}] {pos}/{len} {rate} eta {eta} {wide_msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        // indicatif's own `{per_sec}` prints four decimals.
        .with_key(
            "rate",
            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.1}/s", state.per_sec());
            },
        )
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(name.to_owned());
        bar.enable_steady_tick(Duration::from_millis(200));
        *self.bar.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar);
    }

    fn tick(&self) {
        if let Some(p) = &self.plain {
            let done = p.done.fetch_add(1, Ordering::Relaxed) + 1;
            let mut last = p.last.lock().unwrap_or_else(|e| e.into_inner());
            if last.elapsed() >= Duration::from_secs(5) {
                *last = Instant::now();
                let secs = p
                    .started
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .elapsed()
                    .as_secs_f64();
                let name = p.name.lock().unwrap_or_else(|e| e.into_inner()).clone();
                eprintln!(
                    "{name}: {done}/{} ({:.1}/s)",
                    p.total.load(Ordering::Relaxed),
                    done as f64 / secs.max(0.001)
                );
            }
            return;
        }
        if let Some(b) = &*self.bar.lock().unwrap_or_else(|e| e.into_inner()) {
            b.inc(1);
        }
    }

    fn finish(&self) {
        if let Some(b) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            b.finish_and_clear();
        }
    }
}
