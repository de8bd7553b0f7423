package zmtp

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"
	"unicode"
)

// DefaultTimeout bounds a probe whose context has no deadline.
const DefaultTimeout = 2 * time.Second

// maxCommand bounds the size of the command a peer sends after its
// greeting. A READY carries its socket type, its routing id (at most 255
// bytes) and any metadata its application set.
const maxCommand = 1 << 20

// Peer is what a ZMQ listener said about itself.
type Peer struct {
	// Major and Minor are the ZMTP version of its greeting (2.0 for a
	// ZMTP/2.0 peer such as libzmq 3.x, 3.0 or 3.1 for libzmq 4.x).
	Major, Minor int
	// Mechanism is the security mechanism of its greeting: "NULL", "PLAIN"
	// or "CURVE" ("" for ZMTP 2.0, which has none).
	Mechanism string
	// SocketType is the type it announced: "PULL", "ROUTER", ... It is ""
	// when the mechanism is not NULL (the READY then comes only after a
	// security handshake the probe does not do) or when the peer refused.
	SocketType string
	// Refused is the reason of the ERROR command a peer sent instead of
	// READY ("" when it sent READY).
	Refused string
}

// String describes the peer for a one-line message, e.g. "a ROUTER socket".
func (p Peer) String() string {
	switch {
	case p.SocketType != "":
		return "a " + p.SocketType + " socket"
	case p.Refused != "":
		return fmt.Sprintf("a ZMQ peer that refused the handshake (%q)", p.Refused)
	case p.Mechanism != "" && p.Mechanism != "NULL":
		return "a ZMQ peer that requires the " + p.Mechanism + " security mechanism"
	}
	return "a ZMQ peer of unknown type"
}

// NotZMQError reports a listener that did not answer with a ZMTP greeting.
type NotZMQError struct {
	// What says what it did instead, e.g. "it sent nothing in 2s".
	What string
}

func (e *NotZMQError) Error() string { return "not a ZMQ peer (" + e.What + ")" }

func notZMQ(format string, args ...any) error {
	return &NotZMQError{What: fmt.Sprintf(format, args...)}
}

// zmtp2Types are the socket types of ZMTP/2.0, by their number in its
// greeting.
var zmtp2Types = []string{"PAIR", "PUB", "SUB", "REQ", "REP", "DEALER", "ROUTER", "PULL", "PUSH"}

// Probe connects to address ("host:port") over TCP, reads what the
// listener says it is, and closes. as is the socket type the caller will
// connect with: when the peer is a ZMQ socket compatible with it, the
// probe finishes the handshake as that type, so the peer sees a client
// that connected and left; with as "" or an incompatible peer it closes
// before its own READY. The context bounds the whole probe (DefaultTimeout
// when it has no deadline).
//
// The error is a dial error (nothing listens, no route), a *NotZMQError
// (something that is not a ZMQ peer answered), or the context's error.
func Probe(ctx context.Context, address, as string) (Peer, error) {
	start := time.Now()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = start.Add(DefaultTimeout)
	}
	d := net.Dialer{Deadline: deadline}
	conn, err := d.DialContext(ctx, "tcp", address)
	if err != nil {
		return Peer{}, err
	}
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	p := &prober{conn: conn, start: start, deadline: deadline}
	defer p.close()

	peer, err := p.handshake(as)
	if err != nil && errors.Is(ctx.Err(), context.Canceled) {
		return Peer{}, ctx.Err()
	}
	return peer, err
}

// prober is one probe's connection and what it read so far.
type prober struct {
	conn     net.Conn
	start    time.Time
	deadline time.Time
	buf      []byte
	nudged   bool // "\r\n\r\n" was sent after the signature to make a text protocol answer
}

// greeting is a ZMTP 3.0 greeting with the NULL mechanism, as a client.
// The signature's padding holds an empty routing id's length plus one,
// as libzmq sends it, so a ZMTP 1.0 peer would read an empty identity.
func greeting() []byte {
	g := make([]byte, 64)
	g[0], g[8], g[9] = 0xFF, 1, 0x7F
	g[10], g[11] = 3, 0
	copy(g[12:32], "NULL")
	return g
}

// ready is a READY command announcing socketType, with the empty routing
// id libzmq adds for the types that carry one.
func ready(socketType string) []byte {
	body := []byte("\x05READY")
	body = appendProperty(body, "Socket-Type", socketType)
	switch socketType {
	case "REQ", "DEALER", "ROUTER":
		body = appendProperty(body, "Identity", "")
	}
	return append([]byte{0x04, byte(len(body))}, body...)
}

func appendProperty(b []byte, name, value string) []byte {
	b = append(b, byte(len(name)))
	b = append(b, name...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(value)))
	return append(b, value...)
}

// handshake exchanges greetings and reads the peer's READY. The greeting
// goes out in two parts, as libzmq sends its own: the signature and major
// version first, the rest once the peer's greeting arrived. A peer whose
// mechanism differs drops the connection as soon as it reads a whole
// greeting, so one sent at once could cost the peer's answer.
func (p *prober) handshake(as string) (Peer, error) {
	g := greeting()
	if _, err := p.conn.Write(g[:11]); err != nil {
		return Peer{}, p.lost(err)
	}
	if err := p.first(); err != nil {
		return Peer{}, err
	}
	if p.buf[0] != 0xFF {
		return Peer{}, notZMQ("%s", describe(p.buf))
	}
	if err := p.need(11); err != nil {
		return Peer{}, err
	}
	if p.buf[9]&1 == 0 {
		return Peer{}, notZMQ("its first bytes are no ZMTP 2.0 or later greeting: % x", p.buf[:10])
	}
	switch major := int(p.buf[10]); {
	case major == 1: // ZMTP/2.0: revision 1, then the socket type's number
		if err := p.need(12); err != nil {
			return Peer{}, err
		}
		if t := int(p.buf[11]); t < len(zmtp2Types) {
			return Peer{Major: 2, SocketType: zmtp2Types[t]}, nil
		}
		return Peer{}, notZMQ("its ZMTP 2.0 greeting names socket type %d, which does not exist", p.buf[11])
	case major < 3:
		return Peer{}, notZMQ("its greeting has ZMTP revision %d, which does not exist", major)
	}
	if err := p.need(64); err != nil {
		return Peer{}, err
	}
	peer := Peer{Major: int(p.buf[10]), Minor: int(p.buf[11]), Mechanism: string(bytes.TrimRight(p.buf[12:32], "\x00"))}
	if !validMechanism(peer.Mechanism) || p.buf[32] > 1 {
		return Peer{}, notZMQ("its ZMTP greeting is malformed: % x", p.buf[:64])
	}
	if peer.Mechanism != "NULL" || p.nudged {
		// It cannot tell its type without a security handshake, or the
		// probe's nudge already spoiled this connection's greeting.
		return peer, nil
	}
	if _, err := p.conn.Write(g[11:]); err != nil {
		return Peer{}, p.lost(err)
	}
	name, props, err := p.command()
	if err != nil {
		return Peer{}, err
	}
	switch name {
	case "READY":
		peer.SocketType = props["socket-type"]
		if peer.SocketType == "" {
			return Peer{}, notZMQ("its READY command names no socket type")
		}
	case "ERROR":
		peer.Refused = props["reason"]
		return peer, nil
	default:
		return Peer{}, notZMQ("it sent a %q command instead of READY", name)
	}
	if as != "" && Compatible(as, peer.SocketType) {
		if _, err := p.conn.Write(ready(as)); err != nil {
			return peer, nil // it answered; that it left first changes nothing
		}
	}
	return peer, nil
}

// first waits for the peer's first bytes. A ZMQ peer sends its signature
// as soon as it accepts a connection; a text protocol such as HTTP waits
// for a complete request, so after three quarters of the time the probe
// sends an empty line to make it answer and show what it is.
func (p *prober) first() error {
	nudge := p.start.Add(p.deadline.Sub(p.start) * 3 / 4)
	_ = p.conn.SetReadDeadline(nudge)
	err := p.fill(1)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() && time.Now().Before(p.deadline) {
		p.nudged = true
		if _, werr := p.conn.Write([]byte("\r\n\r\n")); werr != nil {
			return p.lost(werr)
		}
		_ = p.conn.SetReadDeadline(p.deadline)
		err = p.fill(1)
	}
	if err != nil {
		return p.lost(err)
	}
	return nil
}

// fill reads until the buffer holds n bytes; whatever arrives beyond them
// in the same read is kept for describe. Its error is the connection's.
func (p *prober) fill(n int) error {
	for len(p.buf) < n {
		b := make([]byte, 512)
		k, err := p.conn.Read(b)
		p.buf = append(p.buf, b[:k]...)
		if len(p.buf) >= n {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// need is fill with its error said as what the peer did.
func (p *prober) need(n int) error {
	if err := p.fill(n); err != nil {
		return p.lost(err)
	}
	return nil
}

// lost turns a read or write error into what the peer did.
func (p *prober) lost(err error) error {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout() && len(p.buf) == 0:
		return notZMQ("it accepted the connection but sent nothing in %s", time.Since(p.start).Round(100*time.Millisecond))
	case errors.As(err, &ne) && ne.Timeout():
		return notZMQ("it stopped after %d bytes of a ZMTP greeting: % x", len(p.buf), p.buf)
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		if len(p.buf) == 0 {
			return notZMQ("it closed the connection without a word")
		}
		return notZMQ("it closed the connection after %d bytes: % x", len(p.buf), p.buf[:min(len(p.buf), 16)])
	}
	return err
}

// command reads the command frame that follows a NULL greeting and returns
// its name and its properties (READY's metadata with lower-case names, or
// ERROR's "reason").
func (p *prober) command() (string, map[string]string, error) {
	if err := p.need(64 + 2); err != nil {
		return "", nil, err
	}
	flags, at := p.buf[64], 65
	var size uint64
	switch flags {
	case 0x04: // command, short size
		size, at = uint64(p.buf[65]), 66
	case 0x06: // command, long size
		if err := p.need(64 + 9); err != nil {
			return "", nil, err
		}
		size, at = binary.BigEndian.Uint64(p.buf[65:73]), 73
	default:
		return "", nil, notZMQ("it sent a frame with flags %#x where a READY command belongs", flags)
	}
	if size == 0 || size > maxCommand {
		return "", nil, notZMQ("it sent a command of %d bytes after its greeting", size)
	}
	if err := p.need(at + int(size)); err != nil {
		return "", nil, err
	}
	body := p.buf[at : at+int(size)]
	nameLen := int(body[0])
	if 1+nameLen > len(body) {
		return "", nil, notZMQ("its command after the greeting is malformed")
	}
	name, rest := string(body[1:1+nameLen]), body[1+nameLen:]
	props := map[string]string{}
	switch name {
	case "READY":
		for len(rest) > 0 {
			n := int(rest[0])
			if 1+n+4 > len(rest) {
				return "", nil, notZMQ("its READY command is malformed")
			}
			key := strings.ToLower(string(rest[1 : 1+n]))
			vlen := binary.BigEndian.Uint32(rest[1+n : 1+n+4])
			rest = rest[1+n+4:]
			if uint64(vlen) > uint64(len(rest)) {
				return "", nil, notZMQ("its READY command is malformed")
			}
			props[key], rest = string(rest[:vlen]), rest[vlen:]
		}
	case "ERROR":
		if len(rest) > 0 && 1+int(rest[0]) <= len(rest) {
			props["reason"] = string(rest[1 : 1+int(rest[0])])
		}
	}
	return name, props, nil
}

// close half-closes the connection and waits briefly for the peer to
// close its side, so the peer reads an orderly end of stream rather than
// a reset, then closes.
func (p *prober) close() {
	wait := min(250*time.Millisecond, time.Until(p.deadline))
	if tc, ok := p.conn.(*net.TCPConn); ok && wait > 0 {
		if tc.CloseWrite() == nil {
			_ = tc.SetReadDeadline(time.Now().Add(wait))
			_, _ = io.Copy(io.Discard, io.LimitReader(tc, 1<<16))
		}
	}
	_ = p.conn.Close()
}

// validMechanism reports whether m looks like a ZMTP mechanism name:
// 1-20 of A-Z, 0-9, '-', '_', '.', '+'.
func validMechanism(m string) bool {
	if m == "" {
		return false
	}
	for _, r := range m {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.+", r)) {
			return false
		}
	}
	return true
}

// describe says what a listener that answered with b is.
func describe(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	line = bytes.TrimRight(line, "\r")
	if len(line) > 60 {
		line = line[:60]
	}
	printable := len(line) > 0
	for _, r := range string(line) {
		if !unicode.IsPrint(r) {
			printable = false
			break
		}
	}
	switch {
	case bytes.HasPrefix(b, []byte("HTTP/")):
		return fmt.Sprintf("it answered as an HTTP server: %q", line)
	case bytes.HasPrefix(b, []byte("SSH-")):
		return fmt.Sprintf("it answered as an SSH server: %q", line)
	case len(b) >= 3 && b[0] == 0x15 && b[1] == 0x03:
		return "it answered with a TLS alert (a TLS server)"
	case printable:
		return fmt.Sprintf("it answered %q", line)
	}
	return fmt.Sprintf("it answered with bytes % x", b[:min(len(b), 16)])
}
