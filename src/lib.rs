//! pactum: contract records (YAML) → validated, numbered, checksummed PDF contracts.
//!
//! Modules follow the data: `record` (load YAML with positions; `store` keeps
//! a run's parties and reads contracts again when a stage needs them) → `validate`
//! (schemas, formats, references, fonts) → `render` (tera → typst markup) →
//! `typeset` (typst → PDF) → `checksum`; `build` runs the stages in order,
//! `check` runs them without writing documents and adds `lint` (templates
//! against schemas), the golden lock, `report` (review page) and `annotate`
//! (human, JSON, GitHub and JUnit output). `bundle` packs a build's output
//! into a BagIt zip and logs the handover (`handover`); `verify` checks such a
//! zip in place; `bagit` holds the formats. `init` writes a new workspace
//! from the files compiled into the binary.
//! `config` reads the workspace's `.pactum.toml`; `localtime` writes every
//! time a person reads in the workspace's zone, with its offset.
//! `money`, `ident`, `cndate` and `number` are pure domain logic.

pub mod annotate;
pub mod bagit;
pub mod build;
pub mod bundle;
pub mod check;
pub mod checksum;
pub mod cli;
pub mod cndate;
pub mod codes;
pub mod config;
pub mod diagnostic;
pub mod gather;
pub mod handover;
pub mod ident;
pub mod init;
pub mod lint;
pub mod localtime;
pub mod money;
pub mod number;
pub mod numbering;
pub mod placeholder;
pub mod policy;
pub mod progress;
pub mod record;
pub mod register;
pub mod render;
pub mod report;
pub mod skeleton;
pub mod store;
pub mod synth;
pub mod typeset;
pub mod validate;
pub mod verify;
pub mod workspace;
