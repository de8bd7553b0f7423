// Package k8s holds lmfast's container image and Kubernetes manifests (the
// reference controller, an Indexed Job of load processes, the collector
// that merges their JSONL) and the tests that check them: the manifests
// decode strictly into k8s.io/api types, the Job has what an Indexed Job of
// lmfast processes needs, and the Dockerfile's stages build through the
// Makefile from packages Debian has. Nothing here is imported by lmfast.
package k8s
