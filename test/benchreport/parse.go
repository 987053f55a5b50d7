package benchreport

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/fleetrelay/fleetrelay/test/vehiclesim"
)

// ErrNoFinalReport is returned when the simulator's output has no final
// report (it was killed, or failed before the end).
var ErrNoFinalReport = errors.New("benchreport: no final simulator report")

// ParseSimFinal returns the final report from vehiclesim -json output
// (progress reports and other lines may precede it).
func ParseSimFinal(r io.Reader) (vehiclesim.Report, error) {
	var final vehiclesim.Report
	found := false
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var rep vehiclesim.Report
		if err := json.Unmarshal([]byte(line), &rep); err != nil {
			return final, fmt.Errorf("benchreport: simulator report: %w", err)
		}
		if rep.Final {
			final, found = rep, true
		}
	}
	if err := sc.Err(); err != nil {
		return final, fmt.Errorf("benchreport: read simulator output: %w", err)
	}
	if !found {
		return final, ErrNoFinalReport
	}
	return final, nil
}

var (
	replayDelivered = regexp.MustCompile(`\bdelivered=(\d+)`)
	replayDuration  = regexp.MustCompile(`\bduration=(\S+)`)
	replayRate      = regexp.MustCompile(`\brate=([0-9.]+)/s`)
)

// ParseReplay reads the summary line of `forwarder replay` (the last line
// with delivered=, duration= and rate=).
func ParseReplay(out string) (Replay, error) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		d, t, r := replayDelivered.FindStringSubmatch(lines[i]), replayDuration.FindStringSubmatch(lines[i]), replayRate.FindStringSubmatch(lines[i])
		if d == nil || t == nil || r == nil {
			continue
		}
		n, err1 := strconv.ParseInt(d[1], 10, 64)
		dur, err2 := time.ParseDuration(t[1])
		rate, err3 := strconv.ParseFloat(r[1], 64)
		if err := errors.Join(err1, err2, err3); err != nil {
			return Replay{}, fmt.Errorf("benchreport: replay summary %q: %w", lines[i], err)
		}
		return Replay{Delivered: n, Seconds: dur.Seconds(), RatePerSec: rate}, nil
	}
	return Replay{}, fmt.Errorf("benchreport: no replay summary in %q", out)
}
