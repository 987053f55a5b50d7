// Command benchreport runs fleetrelay's benchmarks and writes
// docs/BENCHMARKS.md, with the raw outputs and the load-curve chart under
// docs/bench/. It starts the gateway, the trivial ack server, the
// forwarder and the vehicle simulator from a bin directory (`make build`),
// and runs the wal and forwarder `go test` benchmarks.
//
//	benchreport [-quick] [-runs 3] [-count 3] [-idle 10000] [-only ingest,idle,wal,delivery,e2e,curve,codec]
//	benchreport -render docs/bench/results.json
//
// scripts/bench.sh (`make bench`) is the usual way to run it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/fleetrelay/fleetrelay/test/benchreport"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

// sections in the order they run.
var sections = []string{"ingest", "curve", "e2e", "idle", "wal", "delivery", "codec"}

// options are the command's flags.
type options struct {
	root, bin, docs string
	quick           bool
	runs, count     int
	idle            int
	only            string
	command         string
	render          string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("benchreport", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.root, "root", "", "repository root (default: the nearest directory above the working directory with go.work)")
	fs.StringVar(&o.bin, "bin", "", "directory with gateway, forwarder, ackserver, vehiclesim and devpki (default ROOT/bin)")
	fs.StringVar(&o.docs, "docs", "", "where BENCHMARKS.md and bench/ are written (default ROOT/docs)")
	fs.BoolVar(&o.quick, "quick", false, "short runs (about 3 minutes): checks the machinery, not for publishing")
	fs.IntVar(&o.runs, "runs", 0, "ingest runs per server and window (default 3, quick 1)")
	fs.IntVar(&o.count, "count", 0, "go test -count for the micro-benchmarks (default 3, quick 1)")
	fs.IntVar(&o.idle, "idle", 0, "idle connections for the memory measurement (default 10000, quick 1000)")
	fs.StringVar(&o.only, "only", "", "comma-separated sections to run: "+strings.Join(sections, ","))
	fs.StringVar(&o.render, "render", "", "only re-render BENCHMARKS.md from this results.json (written by an earlier run)")
	fs.StringVar(&o.command, "command", "", "the command line to record in the report (default: this one)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, s := range o.selected() {
		if !slices.Contains(sections, s) {
			return o, fmt.Errorf("-only: unknown section %q (have %s)", s, strings.Join(sections, ","))
		}
	}
	o.runs = orDefault(o.runs, 3, 1, o.quick)
	o.count = orDefault(o.count, 3, 1, o.quick)
	o.idle = orDefault(o.idle, 10000, 1000, o.quick)
	if o.command == "" {
		o.command = strings.Join(append([]string{"benchreport"}, args...), " ")
	}
	return o, nil
}

func orDefault(v, full, quick int, isQuick bool) int {
	switch {
	case v > 0:
		return v
	case isQuick:
		return quick
	}
	return full
}

func (o options) selected() []string {
	if o.only == "" {
		return sections
	}
	return strings.Split(o.only, ",")
}

// findRoot walks up from the working directory to the directory holding
// go.work.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.work above the working directory: give -root")
		}
		dir = parent
	}
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if o.root == "" {
		if o.root, err = findRoot(); err != nil {
			return err
		}
	}
	if o.bin == "" {
		o.bin = filepath.Join(o.root, "bin")
	}
	if o.docs == "" {
		o.docs = filepath.Join(o.root, "docs")
	}
	if o.render != "" {
		return rerender(o.render, filepath.Join(o.docs, "BENCHMARKS.md"))
	}
	b, err := newBench(ctx, o, stderr)
	if err != nil {
		return err
	}
	defer b.cleanup()
	for _, s := range o.selected() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		b.section(s)
	}
	return b.finish()
}

// rerender writes out (BENCHMARKS.md) from a saved results.json.
func rerender(results, out string) error {
	data, err := os.ReadFile(results)
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	var rep benchreport.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		return fmt.Errorf("results %s: %w", results, err)
	}
	var md strings.Builder
	if err := benchreport.Render(&md, &rep); err != nil {
		return err
	}
	if err := os.WriteFile(out, []byte(md.String()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	return nil
}
