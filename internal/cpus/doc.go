// Package cpus is what lmfast needs to know of and do with the machine's
// CPUs: Parse and Validate read taskset-style CPU lists (--pin-cpus), Pin
// pins the calling goroutine's thread to a CPU, Describe names the
// processor for config lines, and ProcessTime is the CPU time this process
// has used.
package cpus
