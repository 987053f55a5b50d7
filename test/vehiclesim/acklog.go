package vehiclesim

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// AckLog writes one line per acked record: "VIN\ttxid\ttopic\n". Lines are
// handed to the operating system in batches by a background goroutine as
// soon as they are queued, with no user-space buffering in between, so a
// run killed with SIGKILL leaves every line written so far; only a final
// line without its newline can be torn, and ReadAckLog skips it. Every line
// in the file was acked; acks received in the last instant before a kill
// may be missing.
type AckLog struct {
	w io.Writer

	mu      sync.Mutex
	pending []byte
	spare   []byte
	err     error
	closed  bool
	wake    chan struct{}
	done    chan struct{}
}

// NewAckLog starts writing to w. Close stops it.
func NewAckLog(w io.Writer) *AckLog {
	l := &AckLog{w: w, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go l.loop()
	return l
}

// Record queues one acked record. It never blocks on I/O.
func (l *AckLog) Record(vin string, txid []byte, topic string) {
	l.mu.Lock()
	l.pending = append(append(append(append(append(append(l.pending, vin...), '\t'), txid...), '\t'), topic...), '\n')
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Close writes what is queued and stops; it returns the first write error.
func (l *AckLog) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	<-l.done
	return l.err
}

func (l *AckLog) loop() {
	defer close(l.done)
	for range l.wake {
		batch, closed := l.take()
		if len(batch) > 0 && l.err == nil {
			if _, err := l.w.Write(batch); err != nil {
				l.err = fmt.Errorf("ack log: %w", err)
			}
		}
		l.mu.Lock()
		l.spare = batch[:0]
		l.mu.Unlock()
		if closed {
			return
		}
	}
}

// take swaps the queued bytes for the spare buffer.
func (l *AckLog) take() ([]byte, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	batch := l.pending
	l.pending = l.spare
	l.spare = nil
	return batch, l.closed && len(l.pending) == 0
}

// AckedRecord is one line of an ack log.
type AckedRecord struct {
	VIN, TxID, Topic string
}

// ErrAckLogLine reports a complete line that is not VIN, txid and topic.
var ErrAckLogLine = errors.New("vehiclesim: malformed ack log line")

// ReadAckLog reads an ack log, skipping a torn final line (no newline).
func ReadAckLog(path string) ([]AckedRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("vehiclesim: open ack log: %w", err)
	}
	defer f.Close()
	var out []AckedRecord
	r := bufio.NewReader(f)
	for n := 1; ; n++ {
		line, err := r.ReadString('\n')
		if errors.Is(err, io.EOF) {
			return out, nil // a torn last line lacks its newline
		}
		if err != nil {
			return out, fmt.Errorf("vehiclesim: read ack log: %w", err)
		}
		parts := strings.Split(strings.TrimSuffix(line, "\n"), "\t")
		if len(parts) != 3 {
			return out, fmt.Errorf("%w: line %d: %q", ErrAckLogLine, n, line)
		}
		out = append(out, AckedRecord{VIN: parts[0], TxID: parts[1], Topic: parts[2]})
	}
}
