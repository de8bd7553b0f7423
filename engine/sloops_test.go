package engine

import (
	"strings"
	"testing"

	"github.com/lmfast/lmfast/engine/slo"
)

// TestSLOOpsMarkPush: with the seed mix, a latency term is accepted on the
// request ops and refused, naming the term, on the PUSH ones.
func TestSLOOpsMarkPush(t *testing.T) {
	mix, err := ParseOperations("admit:35,evict:29,heartbeat:1,p2p_lookup:35")
	if err != nil {
		t.Fatal(err)
	}
	ops := SLOOps(mix)
	if _, err := slo.Parse("p2p_lookup.p99<5ms,heartbeat.p999<10ms,admit.errors<0.1%", ops); err != nil {
		t.Fatal(err)
	}
	for _, term := range []string{"admit.p99<1ms", "evict.max<1s"} {
		if _, err := slo.Parse(term, ops); err == nil || !strings.Contains(err.Error(), `term "`+term+`"`) || !strings.Contains(err.Error(), "PUSH") {
			t.Errorf("%s: %v", term, err)
		}
	}
	if _, err := slo.Parse("register.p99<1ms", ops); err == nil || !strings.Contains(err.Error(), `unknown operation "register"`) {
		t.Errorf("an op outside the mix: %v", err)
	}
}
