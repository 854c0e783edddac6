//! pactum: contract records (YAML) → validated, numbered, checksummed PDF contracts.
//!
//! Modules follow the data: `record` (load YAML with positions) → `validate`
//! (schemas, formats, references, fonts) → `render` (tera → typst markup) →
//! `typeset` (typst → PDF) → `checksum`; `build` runs the stages in order.
//! `money`, `ident`, `cndate` and `number` are pure domain logic.

pub mod build;
pub mod checksum;
pub mod cli;
pub mod cndate;
pub mod codes;
pub mod diagnostic;
pub mod ident;
pub mod money;
pub mod number;
pub mod policy;
pub mod record;
pub mod render;
pub mod typeset;
pub mod validate;
pub mod workspace;
