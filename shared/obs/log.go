package obs

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// LevelTrace is below slog.LevelDebug, for the reference's "trace" level.
const LevelTrace = slog.LevelDebug - 4

// ParseLevel maps a logrus level name (the reference's log_level values) to
// a slog level: trace, debug, info, warn/warning, error; fatal and panic
// map to error. "" is info.
func ParseLevel(name string) (slog.Level, error) {
	switch strings.ToLower(name) {
	case "trace":
		return LevelTrace, nil
	case "debug":
		return slog.LevelDebug, nil
	case "", "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error", "fatal", "panic":
		return slog.LevelError, nil
	default:
		return 0, fmt.Errorf("unknown log level %q", name)
	}
}

// NewLogger returns a logger writing to w at the named level, as JSON lines
// when json is true and as logfmt-style text otherwise.
func NewLogger(w io.Writer, level string, json bool) (*slog.Logger, error) {
	lvl, err := ParseLevel(level)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if json {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

// OrDiscard returns l, or a logger that drops everything when l is nil.
func OrDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
