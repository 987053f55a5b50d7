package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/fleetrelay/fleetrelay/forwarder/internal/service"
	"github.com/fleetrelay/fleetrelay/shared/config"
)

// listFlag is a comma-separated list flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses args; a parse error (or -h) is a usage error.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return usageError{err: err}
	}
	if fs.NArg() > 0 {
		return usageErrorf("%s: unexpected arguments %v", fs.Name(), fs.Args())
	}
	return nil
}

// loadConfig loads and validates the configuration file. Errors are usage
// errors: they name the file and the key.
func loadConfig(path string, stderr io.Writer) (*config.Config, error) {
	if path == "" {
		return nil, usageErrorf("-config is required")
	}
	cfg, warns, err := config.Load(path)
	if err != nil {
		return nil, usageError{err: fmt.Errorf("config %s: %w", path, err)}
	}
	for _, w := range warns {
		fmt.Fprintf(stderr, "forwarder: config warning: %s\n", w)
	}
	if cfg.WAL.Dir == "" {
		return nil, usageErrorf("config %s: wal.dir is required", path)
	}
	return cfg, nil
}

// oneSink checks that -sink names a sink routed under records.
func oneSink(cfg *config.Config, sink string) error {
	if sink == "" {
		return usageErrorf("-sink is required (routed sinks: %v)", service.RoutedSinks(cfg))
	}
	if !slices.Contains(service.RoutedSinks(cfg), sink) {
		return usageErrorf("-sink %s: no topic is routed to it under records (routed: %v)", sink, service.RoutedSinks(cfg))
	}
	return nil
}

// partitionsOf returns [p] when p >= 0, else every partition of n.
func partitionsOf(p, n int) ([]int, error) {
	if p >= n {
		return nil, usageErrorf("-partition %d: the WAL has %d partitions", p, n)
	}
	if p >= 0 {
		return []int{p}, nil
	}
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out, nil
}
