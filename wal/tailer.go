package wal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultPollInterval is how often a Tailer re-checks the log when no file
// notification arrives: a safety net behind fsnotify, not the main signal.
const DefaultPollInterval = 10 * time.Millisecond

// TailerOptions configure OpenTailer.
type TailerOptions struct {
	// PollInterval bounds the wait between checks for new entries.
	PollInterval time.Duration
	// Logger receives notification errors; nil discards.
	Logger *slog.Logger
}

// Tailer follows one partition of a log, usually from another process than
// the writer. It is read-only, takes no lock, and delivers each durable entry
// exactly once, in order: only entries the writer has fsynced (its published
// watermark), each verified against its checksum. It follows segment
// rotation and survives the deletion of segments it has passed. A Tailer is
// not safe for concurrent use.
type Tailer struct {
	s       *scanner
	poll    time.Duration
	log     *slog.Logger
	watcher *fsnotify.Watcher
	wake    chan struct{}
	wg      sync.WaitGroup
	timer   *time.Timer
	closed  bool
}

// OpenTailer opens partition of the log at dir, positioned after index
// after (0 reads from the first entry). It fails with ErrTruncated when
// entry after+1 has been deleted by retention, and with ErrAheadOfLog when
// after is beyond the last durable index. A log not created yet (no
// meta.json) fails with an error matching fs.ErrNotExist; retry later.
func OpenTailer(dir string, partition int, after uint64, opts TailerOptions) (*Tailer, error) {
	if err := checkPartition(dir, partition); err != nil {
		return nil, err
	}
	s, err := openScanner(dir, partition, after)
	if err != nil {
		return nil, err
	}
	t := &Tailer{s: s, poll: opts.PollInterval, log: opts.Logger, wake: make(chan struct{}, 1)}
	if t.poll <= 0 {
		t.poll = DefaultPollInterval
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	t.watch()
	return t, nil
}

func checkPartition(dir string, partition int) error {
	meta, err := ReadMeta(dir)
	if err != nil {
		return err
	}
	if partition < 0 || partition >= meta.Partitions {
		return fmt.Errorf("wal: %s: partition %d of %d: %w", dir, partition, meta.Partitions, ErrNoPartition)
	}
	return nil
}

// watch subscribes to changes of the watermark file, which the writer
// updates after every group commit (rotation included), or of the
// partition directory while that file does not exist yet. Watching the file
// alone spares the Tailer an event for every write to a segment. Without
// notifications the Tailer still works, by polling.
func (t *Tailer) watch() {
	target := filepath.Join(t.s.dir, syncedFile)
	if _, err := os.Stat(target); err != nil {
		target = t.s.dir
	}
	w, err := fsnotify.NewWatcher()
	if err == nil {
		if err = w.Add(target); err != nil {
			_ = w.Close()
		}
	}
	if err != nil {
		t.log.Warn("wal: tailer falls back to polling", "dir", t.s.dir, "err", err)
		return
	}
	t.watcher = w
	t.wg.Go(t.pump)
}

// pump turns file events into wake-ups: the watermark file changes after
// every group commit, and a new segment appears on rotation.
func (t *Tailer) pump() {
	for {
		select {
		case ev, ok := <-t.watcher.Events:
			if !ok {
				return
			}
			if ev.Has(fsnotify.Create) || filepath.Base(ev.Name) == syncedFile {
				t.signal()
			}
		case err, ok := <-t.watcher.Errors:
			if !ok {
				return
			}
			t.log.Warn("wal: tailer notification", "dir", t.s.dir, "err", err)
			t.signal()
		}
	}
}

func (t *Tailer) signal() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// Next blocks until the next durable entry is available and returns it. It
// returns ctx.Err() when ctx ends, a *CorruptionError for a damaged entry
// (the Tailer then stays before it), and never io.EOF. The entry's Data is
// valid until the next call to Next or Close.
func (t *Tailer) Next(ctx context.Context) (Entry, error) {
	if t.closed {
		return Entry{}, ErrClosed
	}
	for {
		if err := ctx.Err(); err != nil {
			return Entry{}, err
		}
		e, err := t.s.read()
		if !errors.Is(err, errWait) {
			return e, err
		}
		if err := t.wait(ctx); err != nil {
			return Entry{}, err
		}
	}
}

func (t *Tailer) wait(ctx context.Context) error {
	if t.timer == nil {
		t.timer = time.NewTimer(t.poll)
	} else {
		t.timer.Reset(t.poll)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.wake:
	case <-t.timer.C:
	}
	return nil
}

// Position returns the index of the last entry Next returned (or the
// position the Tailer was opened after).
func (t *Tailer) Position() uint64 { return t.s.next - 1 }

// Close releases the Tailer's files and notification watch.
func (t *Tailer) Close() error {
	if t.closed {
		return nil
	}
	t.closed = true
	var werr error
	if t.watcher != nil {
		werr = t.watcher.Close()
		t.wg.Wait()
	}
	if t.timer != nil {
		t.timer.Stop()
	}
	return errors.Join(werr, t.s.close())
}
