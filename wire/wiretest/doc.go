// Package wiretest gives tests across lmfast the golden vectors of
// testdata/controller-messages.jsonl: msgpack bytes made by msgspec from
// LMCache's own message classes (testdata/README.md says how). Load reads
// them all, ByName one; JSONEqual compares JSON values. The file is
// embedded in the package, so every test that imports it finds the vectors
// wherever the repository is checked out.
package wiretest
