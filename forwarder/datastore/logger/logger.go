// Package logger is the `logger` sink: one JSON line per record, the same
// line the reference server's logger dispatcher writes (logrus JSON,
// msg "record_payload", keys in alphabetical order):
//
//	{"activity":true,"context":"fleet-telemetry","data":…,"level":"info","metadata":{…},"msg":"record_payload","time":"<RFC 3339 nano>","vin":"…"}
//
// `data` is rendered per record type exactly as the reference's
// transformers do, including two of its quirks, kept so that existing log
// parsers see the same lines: a datum whose value is the deprecated
// charging_value is left out (the reference does not render it; the value
// still reaches every other datastore), and a datum whose Field number the
// schema does not know is written under the key "". Datums without a value
// are left out. Records of topics without a schema cannot be rendered: they
// fail permanently (the reference logs "unknown txType" and drops them).
// `metadata` is exactly the reference's, without fleetrelay's record_id.
//
// Lines go to standard output, or are appended to `logger.file`, which is
// flushed and fsynced before Write returns. Each line reaches the file in a
// single write, so several forwarder processes can append to one file; a
// line torn by a killed process is ended with a newline when the file is
// next opened (readers skip such a fragment: its record is written again).
package logger

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/message"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/sinkmetrics"
	"github.com/fleetrelay/fleetrelay/shared/config"
	"github.com/fleetrelay/fleetrelay/shared/record"
)

// Name is the dispatcher name of this sink.
const Name = "logger"

// Sink writes records as JSON lines.
type Sink struct {
	render  renderer
	set     datastore.Settings
	metrics *sinkmetrics.Metrics
	now     func() time.Time

	mu     sync.Mutex
	out    *bufio.Writer
	file   *os.File // nil for standard output
	closed bool
}

// New returns a logger sink for cfg: standard output, or cfg.File opened
// for appending (created with mode 0640 if missing).
func New(cfg *config.LoggerConfig, set datastore.Settings) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	set = set.WithDefaults()
	m, err := sinkmetrics.New(set.MeterProvider, Name)
	if err != nil {
		return nil, err
	}
	s := &Sink{render: renderer{verbose: cfg.Verbose}, set: set, metrics: m, now: time.Now}
	var w io.Writer = os.Stdout
	if cfg.File != "" {
		f, err := os.OpenFile(cfg.File, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return nil, fmt.Errorf("logger: open %s: %w", cfg.File, err)
		}
		if err := endTornLine(f); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("logger: %s: %w", cfg.File, err)
		}
		s.file, w = f, f
	}
	s.out = bufio.NewWriterSize(w, 64<<10)
	return s, nil
}

// Name returns "logger".
func (s *Sink) Name() string { return Name }

// Write renders every record and writes the lines in batch order. Records
// that cannot be rendered are reported in a *datastore.PartialError as
// permanent failures; the other lines are written, flushed and (for a file)
// fsynced before Write returns.
func (s *Sink) Write(ctx context.Context, batch []datastore.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return datastore.ErrClosed
	}
	partial := &datastore.PartialError{}
	for i, rec := range batch {
		if err := s.writeLine(rec); err != nil {
			partial.Add(i, err)
		}
	}
	if err := s.flush(); err != nil {
		s.metrics.Failed(ctx, len(batch))
		return fmt.Errorf("logger: %w", err)
	}
	s.metrics.Acked(ctx, len(batch)-len(partial.Failed))
	s.metrics.Failed(ctx, len(partial.Failed))
	return partial.Err()
}

func (s *Sink) writeLine(rec datastore.Record) error {
	line, err := s.line(rec)
	if err != nil {
		s.set.Logger.Error("record not logged", "record_id", rec.ID(), "topic", rec.WAL.GetTopic(), "error", err)
		return datastore.Permanent(err)
	}
	s.metrics.Sent(context.Background(), 1, len(line))
	// Whole lines per write(2): other forwarder processes may append to the
	// same file, and O_APPEND keeps one write together, not a line that the
	// buffer would split over two writes.
	if s.out.Buffered() > 0 && s.out.Available() < len(line) {
		if err := s.out.Flush(); err != nil {
			return fmt.Errorf("write: %w", err)
		}
	}
	_, err = s.out.Write(line)
	return err
}

// endTornLine appends a newline when the file's last line is incomplete: a
// process killed in the middle of a write leaves part of a line, whose
// record was not confirmed and will be written again. Without the newline
// the next line would be glued to that fragment and lost to a line-by-line
// reader; with it the fragment stays a line of its own (not valid JSON) and
// every complete line stays intact.
func endTornLine(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat: %w", err)
	}
	if fi.Size() == 0 {
		return nil
	}
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, fi.Size()-1); err != nil {
		return fmt.Errorf("read the last byte: %w", err)
	}
	if last[0] == '\n' {
		return nil
	}
	if _, err := f.Write([]byte{'\n'}); err != nil {
		return fmt.Errorf("end the torn last line: %w", err)
	}
	return nil
}

// line returns the JSON line for rec, newline included.
func (s *Sink) line(rec datastore.Record) ([]byte, error) {
	w := rec.WAL
	msg, err := record.Unmarshal(w.GetTopic(), w.GetPayload())
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", rec.ID(), err)
	}
	data, err := s.render.data(msg, w.GetVin())
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", rec.ID(), err)
	}
	b, err := json.Marshal(logLine{
		Activity: true, Context: "fleet-telemetry", Data: data, Level: "info",
		Metadata: message.Metadata(rec), Msg: "record_payload",
		Time: s.now().Format(time.RFC3339Nano), VIN: w.GetVin(),
	})
	if err != nil {
		return nil, fmt.Errorf("record %s: encode: %w", rec.ID(), err)
	}
	return append(b, '\n'), nil
}

// logLine is the reference's logrus JSON entry; fields are declared in
// alphabetical order, the order logrus writes them in.
type logLine struct {
	Activity bool              `json:"activity"`
	Context  string            `json:"context"`
	Data     any               `json:"data"`
	Level    string            `json:"level"`
	Metadata map[string]string `json:"metadata"`
	Msg      string            `json:"msg"`
	Time     string            `json:"time"`
	VIN      string            `json:"vin"`
}

func (s *Sink) flush() error {
	if err := s.out.Flush(); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	if s.file == nil {
		return nil
	}
	if err := s.file.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", s.file.Name(), err)
	}
	return nil
}

// Close flushes and closes the file; safe to call twice.
func (s *Sink) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.flush()
	if s.file != nil {
		if cerr := s.file.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("logger: close: %w", cerr)
		}
	}
	return err
}
