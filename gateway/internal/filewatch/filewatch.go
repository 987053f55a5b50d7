// Package filewatch calls a function when files change: fsnotify events on
// the files' directories (so renames and symlink swaps, as done by
// certificate renewers and Kubernetes secret volumes, are seen), debounced,
// plus a periodic stat poll for file systems fsnotify cannot observe.
package filewatch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Options tune Watch; zero values take the defaults.
type Options struct {
	// Debounce lets multi-step writes (certificate, then key) settle.
	Debounce time.Duration
	// Poll is the stat-poll period.
	Poll time.Duration
}

const (
	defaultDebounce = 200 * time.Millisecond
	defaultPoll     = 30 * time.Second
)

// Watch calls onChange after any of files changed, until ctx ends. It
// returns an error only if the watch cannot be set up.
func Watch(ctx context.Context, files []string, opts Options, onChange func()) error {
	opts = withDefaults(opts)
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("file watcher: %w", err)
	}
	defer w.Close()
	for _, dir := range dirsOf(files) {
		if err := w.Add(dir); err != nil {
			return fmt.Errorf("watch %s: %w", dir, err)
		}
	}
	l := &loop{files: files, opts: opts, onChange: onChange, last: stats(files)}
	l.run(ctx, w)
	return nil
}

func withDefaults(o Options) Options {
	if o.Debounce <= 0 {
		o.Debounce = defaultDebounce
	}
	if o.Poll <= 0 {
		o.Poll = defaultPoll
	}
	return o
}

type loop struct {
	files    []string
	opts     Options
	onChange func()
	last     []string
}

func (l *loop) run(ctx context.Context, w *fsnotify.Watcher) {
	poll := time.NewTicker(l.opts.Poll)
	defer poll.Stop()
	debounce := time.NewTimer(l.opts.Debounce)
	debounce.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-w.Events:
			if l.concerns(ev.Name) {
				debounce.Reset(l.opts.Debounce)
			}
		case <-w.Errors:
			// Overflow or similar: the poll below still catches changes.
		case <-debounce.C:
			l.fire()
		case <-poll.C:
			if !slices.Equal(stats(l.files), l.last) {
				l.fire()
			}
		}
	}
}

// concerns reports whether an event in a watched directory may change one
// of the files: the file itself, or anything for symlinked layouts such as
// Kubernetes' ..data swaps.
func (l *loop) concerns(name string) bool {
	for _, f := range l.files {
		if filepath.Clean(name) == filepath.Clean(f) {
			return true
		}
		if target, err := filepath.EvalSymlinks(f); err != nil || target != f {
			return true
		}
	}
	return false
}

func (l *loop) fire() {
	l.last = stats(l.files)
	l.onChange()
}

func stats(files []string) []string {
	out := make([]string, len(files))
	for i, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			out[i] = "missing"
			continue
		}
		out[i] = fmt.Sprintf("%d/%d", fi.Size(), fi.ModTime().UnixNano())
	}
	return out
}

func dirsOf(files []string) []string {
	var dirs []string
	for _, f := range files {
		d := filepath.Dir(f)
		if !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}
