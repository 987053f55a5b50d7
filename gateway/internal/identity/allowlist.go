package identity

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"

	"github.com/fleetrelay/fleetrelay/gateway/internal/filewatch"
	"github.com/fleetrelay/fleetrelay/shared/obs"
)

// Allowlist is a set of allowed VINs read from a file: one VIN per line,
// blank lines and '#' comments ignored. Reload swaps the whole set at once.
type Allowlist struct {
	path string
	set  atomic.Pointer[map[string]struct{}]
	log  *slog.Logger
}

// LoadAllowlist reads the file; failing here is a startup error.
func LoadAllowlist(path string, log *slog.Logger) (*Allowlist, error) {
	a := &Allowlist{path: path, log: obs.OrDiscard(log)}
	if err := a.Reload(); err != nil {
		return nil, err
	}
	return a, nil
}

// Reload reads the file again. On error the previous set stays in use.
func (a *Allowlist) Reload() error {
	set, err := readVINs(a.path)
	if err != nil {
		return err
	}
	a.set.Store(&set)
	return nil
}

// Allowed reports whether vin is on the list.
func (a *Allowlist) Allowed(vin string) bool {
	_, ok := (*a.set.Load())[vin]
	return ok
}

// Len returns the number of VINs on the list.
func (a *Allowlist) Len() int { return len(*a.set.Load()) }

// Watch reloads the list whenever its file changes, until ctx ends.
func (a *Allowlist) Watch(ctx context.Context) error {
	return filewatch.Watch(ctx, []string{a.path}, filewatch.Options{}, func() {
		if err := a.Reload(); err != nil {
			a.log.Error("vin allowlist reload failed; keeping the previous list", "file", a.path, "error", err)
			return
		}
		a.log.Info("vin allowlist reloaded", "file", a.path, "vins", a.Len())
	})
}

func readVINs(path string) (map[string]struct{}, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("vin allowlist: %w", err)
	}
	defer f.Close()
	set := make(map[string]struct{})
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if vin := strings.TrimSpace(line); vin != "" {
			set[vin] = struct{}{}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("vin allowlist %s: %w", path, err)
	}
	return set, nil
}
