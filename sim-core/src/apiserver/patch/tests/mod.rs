//! Tests of the patch engines: apimachinery's strategic merge patch tables
//! (`strategic_upstream`), evanphx/json-patch's tables (`json_patch_upstream`), patches of
//! real kinds as kubectl sends them (`real_types`), and the API server's answers to bad
//! bodies (`apply`).

mod apply;
mod json_patch_upstream;
mod real_types;
mod strategic_upstream;
