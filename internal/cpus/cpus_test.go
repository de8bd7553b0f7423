package cpus

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    []int
		wantErr string
	}{
		{in: "0", want: []int{0}},
		{in: "0-3", want: []int{0, 1, 2, 3}},
		{in: "3,1,1,2", want: []int{1, 2, 3}},
		{in: "0-7:2", want: []int{0, 2, 4, 6}},
		{in: " 1 , 4-5 ", want: []int{1, 4, 5}},
		{in: "", wantErr: "empty"},
		{in: "a", wantErr: "bad CPU number"},
		{in: "5-2", wantErr: "backwards"},
		{in: "1:2", wantErr: "stride without a range"},
		{in: "0-4:0", wantErr: "bad stride"},
		{in: "-1", wantErr: "bad CPU number"},
		{in: "0-70000", wantErr: "bad CPU number"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Parse(%q) err = %v, want %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Parse(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestFormatRoundTrips(t *testing.T) {
	for _, in := range []string{"0", "0-3", "0-3,6", "1,3,5", "0-1,4-9,12"} {
		list, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := Format(list); got != in {
			t.Errorf("Format(Parse(%q)) = %q", in, got)
		}
	}
}

func TestValidateAndPin(t *testing.T) {
	allowed, err := Allowed()
	if err != nil || len(allowed) == 0 {
		t.Fatalf("Allowed() = %v, %v", allowed, err)
	}
	if err := Validate(allowed); err != nil {
		t.Fatalf("Validate(allowed) = %v", err)
	}
	missing := allowed[len(allowed)-1] + 1000
	if err := Validate([]int{missing}); err == nil || !strings.Contains(err.Error(), fmt.Sprint(missing)) {
		t.Fatalf("Validate(%d) = %v, want an error naming it", missing, err)
	}
	target := allowed[len(allowed)-1]
	done := make(chan int)
	go func() {
		if err := Pin(target); err != nil {
			t.Error(err)
		}
		done <- Current()
	}()
	if got := <-done; got != target {
		t.Fatalf("pinned goroutine ran on CPU %d, want %d", got, target)
	}
}

func TestDescribe(t *testing.T) {
	info := Describe()
	if info.Online < 1 || info.String() == "" {
		t.Fatalf("Describe() = %+v", info)
	}
}

func ExampleParse() {
	list, _ := Parse("0-3,8-15:4")
	fmt.Println(list, Format(list))
	// Output: [0 1 2 3 8 12] 0-3,8,12
}
