//! Whole runs: scripts in, traces and transcripts out, asserting what a student would notice.
//! One integration binary; each area of behaviour is a module.

mod support;

mod autoscaling;
mod browser;
mod config;
mod deadline;
mod disruption;
mod endpointslices;
mod errors;
mod explain;
mod fuzz;
mod guests;
mod history;
mod images;
mod ingress;
mod jobs;
mod killercoda;
mod kubectl_exec;
mod kubectl_real;
mod kubectl_ssa;
mod kubectl_texts;
mod kubectl_writes;
mod limits;
mod live;
mod nodes;
mod pause;
mod play;
mod pods;
mod probes;
mod quota;
mod rollout;
mod scaling;
mod scenarios;
mod scheduling;
mod services;
mod snapshots;
mod soak;
mod standins;
mod taints;
mod tidy;
mod timing;
mod workers;
