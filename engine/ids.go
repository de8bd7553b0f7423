package engine

import (
	"fmt"
	"strconv"
)

// InstanceID is LMCache's simulated instance name: "instance_p{proc}_{i}".
func InstanceID(proc, i int) string {
	return "instance_p" + strconv.Itoa(proc) + "_" + strconv.Itoa(i)
}

// LocationName is LMCache's simulated storage location: "location_{i}".
func LocationName(i int) string { return fmt.Sprintf("location_%d", i) }

// WorkerIP is the address lmfast registers for worker w. LMCache's tool uses
// 192.168.1.{w+1}; a real controller opens a connection to every registered
// worker, so lmfast only ever names loopback addresses: 127.0.0.{w+1} for the
// first 254 workers, then further into 127.0.0.0/8.
func WorkerIP(w int) string {
	n := w + 1
	return "127." + strconv.Itoa((n>>16)&0xff) + "." + strconv.Itoa((n>>8)&0xff) + "." + strconv.Itoa(n&0xff)
}

// WorkerPort is the control port registered for worker w: 10000+w as in
// LMCache's tool, wrapping within 10000..65535 past worker 55535 (every
// worker's address differs, so the pair stays unique).
func WorkerPort(w int) int { return 10000 + w%55536 }

// PeerInitURL is the peer-init URL registered for worker w: port 20000+w,
// wrapping within 20000..65535 like WorkerPort.
func PeerInitURL(w int) string { return "tcp://" + WorkerIP(w) + ":" + strconv.Itoa(20000+w%45536) }

// RandomLoopbackIP returns a loopback address 127.{a}.{b}.{c} with a, b, c
// drawn by the caller (LMCache's heartbeat/register handlers draw random
// 192.168.x.y; lmfast keeps the randomness on 127.0.0.0/8).
func RandomLoopbackIP(b, c int) string { return fmt.Sprintf("127.0.%d.%d", b, c) }
