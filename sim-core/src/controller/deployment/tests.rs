//! Tables ported from kubernetes `pkg/controller/deployment/*_test.go`.
