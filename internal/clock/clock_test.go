package clock

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestFromTimex: the unsynchronised states (STA_UNSYNC, TIME_ERROR) are
// told apart from a disciplined clock, and the errors are microseconds.
func TestFromTimex(t *testing.T) {
	synced := fromTimex(unix.TIME_OK, &unix.Timex{Status: unix.STA_PLL, Esterror: 250, Maxerror: 16500})
	if !synced.Synced || synced.Est != 250*time.Microsecond || synced.Max != 16500*time.Microsecond {
		t.Errorf("synchronised clock: %+v", synced)
	}
	if e := fromTimex(unix.TIME_OK, &unix.Timex{Status: unix.STA_UNSYNC, Maxerror: 16000000}); e.Synced {
		t.Errorf("STA_UNSYNC read as synchronised: %+v", e)
	}
	if e := fromTimex(unix.TIME_ERROR, &unix.Timex{Maxerror: 5}); e.Synced {
		t.Errorf("TIME_ERROR read as synchronised: %+v", e)
	}
}

// TestRead: the kernel answers a read-only adjtimex for any user, and a
// synchronised clock's bounds are ordered as adjtimex defines them.
func TestRead(t *testing.T) {
	e, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	if e.Synced && (e.Max < e.Est || e.Max < 0) {
		t.Errorf("synchronised clock with maxerror %v below esterror %v", e.Max, e.Est)
	}
	t.Logf("this host: %+v", e)
}
