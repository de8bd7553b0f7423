package hugepage_test

import (
	"fmt"

	"github.com/lmfast/lmfast/hugepage"
)

// Carve a region into four 256 KiB slots, each usable with O_DIRECT.
func Example() {
	r, err := hugepage.Alloc(4*256<<10, hugepage.Options{})
	if err != nil {
		panic(err)
	}
	slots, _ := r.Slots(4, 256<<10)
	fmt.Println(len(slots), len(slots[0]), hugepage.Addr(slots[1])%hugepage.PageSize == 0, r.Backing())
	fmt.Println(r.Close())
	// Output:
	// 4 262144 true 4k
	// <nil>
}
