package engine

// Sample is one operation's timing for --raw output. Times are Unix
// nanoseconds on one timeline: the wall-clock start of the measured time
// of the sample's step (Result.Start for the first) plus monotonic
// offsets, so that their differences are exactly the latencies the
// histograms hold.
type Sample struct {
	Op       Op
	OK       bool
	Intended int64 // when the pacer meant it to go (= Sent in a closed loop)
	Sent     int64 // when the send call started
	Done     int64 // when the send returned (PUSH) or the reply arrived
}

// rawBatch is how many samples rawWriter hands its Reporter at once.
const rawBatch = 8192

// rawWriter drains every sender's sample ring and hands the samples to the
// Reporter in batches. Senders never wait for it: a full ring drops the
// sample and counts it.
type rawWriter struct {
	rep     Reporter
	senders []*sender
	buf     []Sample
	written int64
	lost    int64 // samples the Reporter could not write (output error)
}

func newRawWriter(rep Reporter, senders []*sender) *rawWriter {
	return &rawWriter{rep: rep, senders: senders, buf: make([]Sample, 0, rawBatch)}
}

// drain hands over what the rings hold.
func (w *rawWriter) drain() {
	for _, s := range w.senders {
		for {
			smp, ok := s.samples.Peek()
			if !ok {
				break
			}
			w.buf = append(w.buf, *smp)
			s.samples.Release()
			if len(w.buf) == cap(w.buf) {
				w.flush()
			}
		}
	}
	w.flush()
}

func (w *rawWriter) flush() {
	if len(w.buf) == 0 {
		return
	}
	if err := w.rep.Samples(w.buf); err != nil {
		w.lost += int64(len(w.buf))
	} else {
		w.written += int64(len(w.buf))
	}
	w.buf = w.buf[:0]
}
