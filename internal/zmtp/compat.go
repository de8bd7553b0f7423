package zmtp

import "slices"

// peers lists, for each socket type, the types it may talk to: ZMTP's
// rules (the socket-type RFCs of zeromq.org), as libzmq checks them when
// it reads a peer's READY. A pair not listed fails the handshake: libzmq
// drops the connection, and a PUSH socket keeps queueing its messages.
var peers = map[string][]string{
	"PAIR":   {"PAIR"},
	"PUB":    {"SUB", "XSUB"},
	"SUB":    {"PUB", "XPUB"},
	"XPUB":   {"SUB", "XSUB"},
	"XSUB":   {"PUB", "XPUB"},
	"REQ":    {"REP", "ROUTER"},
	"REP":    {"REQ", "DEALER"},
	"DEALER": {"REP", "DEALER", "ROUTER"},
	"ROUTER": {"REQ", "DEALER", "ROUTER"},
	"PUSH":   {"PULL"},
	"PULL":   {"PUSH"},
	// libzmq's draft socket types.
	"SERVER":  {"CLIENT"},
	"CLIENT":  {"SERVER"},
	"RADIO":   {"DISH"},
	"DISH":    {"RADIO"},
	"GATHER":  {"SCATTER"},
	"SCATTER": {"GATHER"},
	"PEER":    {"PEER"},
	"CHANNEL": {"CHANNEL"},
}

// Compatible reports whether a socket of type ours may talk to a peer of
// type theirs (type names as ZMTP spells them: "PUSH", "ROUTER", ...).
func Compatible(ours, theirs string) bool {
	return slices.Contains(peers[ours], theirs)
}
