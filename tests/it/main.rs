//! The integration tests, one binary (each file a module, `common` their shared parts): the
//! crate and its dependencies are linked once, not once per file. `cargo test --test it NAME`
//! runs one module's tests (`NAME` is a filter, e.g. `pipeline::`); `make lambda-test` runs the
//! ignored `lambda_loop` ones.

mod common;

mod acceptance_s3_hec;
mod bad_input;
mod check;
mod esdk_interop;
mod esdk_vectors;
mod faults;
mod golden_outputs;
mod handler;
mod kms_moto;
mod lambda_loop;
mod ocsf;
mod pipeline;
mod redaction;
mod replay;
mod secrets;
mod security_lake;
mod sinks_http;
mod sinks_s3;
