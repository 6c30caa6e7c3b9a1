//! The bundle's verbs a caller uses that belong to no single stage: reading
//! situations and inspecting the bundle. Loading is in `load/loader.rs`,
//! deciding in `decide/assembly.rs` and `decide/batch.rs`, and the process
//! owners' verbs (analyze, lint, explain, test, schemas) in `tools/`.

mod inspect;
mod situation;
