//go:build race

package l2

// raceEnabled: the race detector allocates on synchronisation, so
// allocation counts mean nothing under -race.
const raceEnabled = true
