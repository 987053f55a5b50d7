package service

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/fleetrelay/fleetrelay/shared/config"
)

// StateDir is a sink's forwarder state directory (locks, members, status).
func StateDir(cfg *config.Config, sink string) string {
	return filepath.Join(cfg.WAL.Dir, "forwarder", sink)
}

// DeadLetterDir is a sink's dead-letter directory.
func DeadLetterDir(cfg *config.Config, sink string) string {
	base := cfg.Forwarder.DeadLetterDir
	if base == "" {
		base = filepath.Join(cfg.WAL.Dir, "deadletter")
	}
	return filepath.Join(base, sink)
}

// Topics returns the topics `records` routes to sink, sorted.
func Topics(cfg *config.Config, sink string) []string {
	var out []string
	for topic, sinks := range cfg.Records {
		if slices.Contains(sinks, sink) {
			out = append(out, topic)
		}
	}
	slices.Sort(out)
	return out
}

// RoutedSinks returns every dispatcher named under `records`, sorted.
func RoutedSinks(cfg *config.Config) []string {
	var out []string
	for _, sinks := range cfg.Records {
		out = append(out, sinks...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// SelectSinks resolves which sinks to run: the requested ones (the -sinks
// flag), else forwarder.sinks, else every routed sink. Each must be routed.
func SelectSinks(cfg *config.Config, requested []string) ([]string, error) {
	routed := RoutedSinks(cfg)
	want := requested
	if len(want) == 0 {
		want = cfg.Forwarder.Sinks
	}
	if len(want) == 0 {
		want = routed
	}
	if len(want) == 0 {
		return nil, fmt.Errorf("records: no topic is routed to any dispatcher")
	}
	for _, s := range want {
		if !slices.Contains(routed, s) {
			return nil, fmt.Errorf("sink %q: no topic is routed to it under records (routed: %v)", s, routed)
		}
	}
	return want, nil
}
