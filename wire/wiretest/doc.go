// Package wiretest gives tests across lmfast the golden vectors of
// shared/golden/controller-messages.jsonl: msgpack bytes made by msgspec
// from LMCache's own message classes. Load reads them all, ByName one;
// JSONEqual compares JSON values.
package wiretest
