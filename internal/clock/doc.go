// Package clock reports how far this host's wall clock may be from true
// time, as the kernel's NTP discipline estimates it (adjtimex), so that the
// JSONL of several hosts can say how exactly their timestamps align.
package clock
