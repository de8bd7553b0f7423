package clock

import (
	"time"

	"golang.org/x/sys/unix"
)

// Error is the kernel's estimate of this host's wall-clock error.
type Error struct {
	// Synced is false when the kernel's clock is not synchronised
	// (STA_UNSYNC, or adjtimex's TIME_ERROR state): no NTP daemon
	// disciplines it, and the bounds below mean nothing.
	Synced bool
	// Est is the estimated error (adjtimex esterror).
	Est time.Duration
	// Max is the maximum error (adjtimex maxerror): the clock is within
	// Max of true time. Two synchronised hosts' clocks differ by at most
	// the sum of their Max.
	Max time.Duration
}

// Read asks the kernel (adjtimex, read only) for the clock's error.
func Read() (Error, error) {
	var tx unix.Timex // Modes 0: read, change nothing
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		return Error{}, err
	}
	return fromTimex(state, &tx), nil
}

// fromTimex interprets adjtimex's answer: esterror and maxerror are in
// microseconds whatever the STA_NANO resolution of the other fields.
func fromTimex(state int, tx *unix.Timex) Error {
	synced := state != unix.TIME_ERROR && tx.Status&unix.STA_UNSYNC == 0
	return Error{Synced: synced, Est: time.Duration(tx.Esterror) * time.Microsecond, Max: time.Duration(tx.Maxerror) * time.Microsecond}
}
