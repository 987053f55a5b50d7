package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/fleetrelay/fleetrelay/forwarder/internal/pipeline"
)

// progress reports how far a replay has got.
type progress interface {
	add(n int)
	finish()
}

// newProgress returns a progress bar when w is a terminal, else a reporter
// printing a plain line every few seconds.
func newProgress(w io.Writer, what string, total int64) progress {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return barProgress{bar: progressbar.NewOptions64(total, progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(what), progressbar.OptionShowCount(), progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("entries"), progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }))}
	}
	return &lineProgress{w: w, what: what, total: total, every: 5 * time.Second, last: time.Now()}
}

type barProgress struct{ bar *progressbar.ProgressBar }

func (b barProgress) add(n int) { _ = b.bar.Add(n) } // writes to stderr; a failed write is not worth stopping for
func (b barProgress) finish()   { _ = b.bar.Finish() }

type lineProgress struct {
	w           io.Writer
	what        string
	total, done int64
	every       time.Duration
	last        time.Time
}

func (l *lineProgress) add(n int) {
	l.done += int64(n)
	if time.Since(l.last) >= l.every {
		l.last = time.Now()
		fmt.Fprintf(l.w, "%s: %d/%d entries scanned\n", l.what, l.done, l.total)
	}
}

func (l *lineProgress) finish() {
	fmt.Fprintf(l.w, "%s: %d/%d entries scanned\n", l.what, l.done, l.total)
}

// summary counts what a replay did.
type summary struct {
	start                       time.Time
	scanned, matched, delivered int
	rejected                    []pipeline.DeadLetter
}

func (s *summary) reject(d pipeline.DeadLetter) { s.rejected = append(s.rejected, d) }

// maxListed bounds the rejected records printed in a summary.
const maxListed = 20

func (s *summary) print(w io.Writer, what, sink string, parts []int) {
	d := time.Since(s.start)
	fmt.Fprintf(w, "%s sink=%s partitions=%v scanned=%d matched=%d delivered=%d rejected=%d duration=%s rate=%.0f/s\n",
		what, sink, parts, s.scanned, s.matched, s.delivered, len(s.rejected), d.Round(time.Millisecond),
		float64(s.delivered)/max(d.Seconds(), 1e-9))
	for i, r := range s.rejected {
		if i == maxListed {
			fmt.Fprintf(w, "  ... and %d more rejected\n", len(s.rejected)-maxListed)
			break
		}
		fmt.Fprintf(w, "  rejected partition=%d index=%d reason=%q\n", r.Partition, r.Index, r.Reason)
	}
}

// result turns the run error and the rejections into the command's error.
func (s *summary) result(err error) error {
	switch {
	case err != nil:
		return fmt.Errorf("%w after %d delivered: %w", errFailed, s.delivered, err)
	case len(s.rejected) > 0:
		return fmt.Errorf("%w: %d records rejected", errFailed, len(s.rejected))
	}
	return nil
}
