package engine

import (
	"strconv"
	"time"

	"github.com/lmfast/lmfast/stream"
)

// Sample is one operation's timing for --raw output. Times are Unix
// nanoseconds.
type Sample struct {
	Op       Op
	OK       bool
	Intended int64 // when the pacer meant it to go (= Sent in a closed loop)
	Sent     int64 // when the send call started
	Done     int64 // when the send returned (PUSH) or the reply arrived
}

// rawWriter drains every sender's sample ring into batched JSONL writes.
// Senders never wait for it: a full ring drops the sample and counts it.
type rawWriter struct {
	out     *stream.Writer
	senders []*sender
	buf     []byte
	written int64
	lost    int64 // samples rendered but not written (output error)
}

func newRawWriter(out *stream.Writer, senders []*sender) *rawWriter {
	return &rawWriter{out: out, senders: senders, buf: make([]byte, 0, 1<<20)}
}

// drain renders what the rings hold; with all, it empties them.
func (w *rawWriter) drain(all bool) {
	for _, s := range w.senders {
		for {
			smp, ok := s.samples.Peek()
			if !ok {
				break
			}
			w.render(smp)
			s.samples.Release()
			if len(w.buf) > 1<<20-512 {
				w.flush()
			}
		}
	}
	w.flush()
}

func (w *rawWriter) render(s *Sample) {
	b := w.out.AppendPrefix(w.buf, "sample", time.Unix(0, s.Done))
	b = append(b, `,"op":"`...)
	b = append(b, s.Op.String()...)
	b = append(b, `","ok":`...)
	b = strconv.AppendBool(b, s.OK)
	b = append(b, `,"intended_ns":`...)
	b = strconv.AppendInt(b, s.Intended, 10)
	b = append(b, `,"sent_ns":`...)
	b = strconv.AppendInt(b, s.Sent, 10)
	b = append(b, `,"latency_us":`...)
	b = strconv.AppendFloat(b, float64(s.Done-s.Intended)/1e3, 'f', 3, 64)
	b = append(b, `,"service_us":`...)
	b = strconv.AppendFloat(b, float64(s.Done-s.Sent)/1e3, 'f', 3, 64)
	b = append(b, "}\n"...)
	w.buf = b
	w.written++
}

func (w *rawWriter) flush() {
	if len(w.buf) == 0 {
		return
	}
	if err := w.out.WriteLines(w.buf); err != nil {
		// Count the lines that did not make it.
		n := int64(0)
		for _, c := range w.buf {
			if c == '\n' {
				n++
			}
		}
		w.lost += n
		w.written -= n
	}
	w.buf = w.buf[:0]
}
