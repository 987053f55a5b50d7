package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/fleetrelay/fleetrelay/test/benchreport"
)

// bench is one benchmark run: where things are and what was measured.
type bench struct {
	ctx    context.Context
	o      options
	log    io.Writer
	work   string // temporary directory: PKIs, WALs, configs, logs
	raw    string // docs/bench
	rep    *benchreport.Report
	pkis   map[int]string // PKI directory by vehicle count
	binary map[string]string
}

func newBench(ctx context.Context, o options, log io.Writer) (*bench, error) {
	b := &bench{ctx: ctx, o: o, log: log, raw: filepath.Join(o.docs, "bench"), pkis: map[int]string{}, binary: map[string]string{}}
	for _, name := range []string{"gateway", "forwarder", "ackserver", "vehiclesim", "devpki", "kfakesrv"} {
		p := filepath.Join(o.bin, name)
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("%s: %w (run make build)", name, err)
		}
		b.binary[name] = p
	}
	if err := os.MkdirAll(b.raw, 0o755); err != nil {
		return nil, fmt.Errorf("raw results directory: %w", err)
	}
	work, err := os.MkdirTemp("", "fleetrelay-bench-")
	if err != nil {
		return nil, fmt.Errorf("work directory: %w", err)
	}
	b.work = work
	b.rep = &benchreport.Report{Quick: o.quick, Command: o.command, Started: time.Now(), Commit: gitCommit(o.root),
		Machine: machine(filepath.Dir(work))}
	b.logf("work directory %s; results into %s", work, o.docs)
	return b, nil
}

func (b *bench) cleanup() {
	if err := os.RemoveAll(b.work); err != nil {
		b.logf("remove %s: %v", b.work, err)
	}
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "%s benchreport: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// section runs one section; a failure is recorded in the report and the
// run goes on with the next section.
func (b *bench) section(name string) {
	start := time.Now()
	b.logf("%s: start", name)
	var err error
	switch name {
	case "ingest":
		err = b.ingest()
	case "curve":
		err = b.curve()
	case "e2e":
		err = b.e2e()
	case "idle":
		err = b.idle()
	case "wal":
		err = b.walBenches()
	case "delivery":
		err = b.deliveryBenches()
	case "codec":
		err = b.codecBenches()
	}
	if err != nil {
		b.logf("%s: %v", name, err)
		b.rep.Failures = append(b.rep.Failures, benchreport.Failure{Section: name, Err: err.Error()})
	}
	b.logf("%s: done in %s", name, time.Since(start).Round(time.Second))
}

// finish writes BENCHMARKS.md and results.json.
func (b *bench) finish() error {
	b.rep.Elapsed = time.Since(b.rep.Started)
	b.rep.Machine.LoadAfter = loadAverage()
	data, err := json.MarshalIndent(b.rep, "", "  ")
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(b.raw, "results.json"), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	var md strings.Builder
	if err := benchreport.Render(&md, b.rep); err != nil {
		return err
	}
	path := filepath.Join(b.o.docs, "BENCHMARKS.md")
	if err := os.WriteFile(path, []byte(md.String()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	b.logf("wrote %s in %s", path, b.rep.Elapsed.Round(time.Second))
	return nil
}

// pki returns a development PKI with n vehicles, created on first use.
func (b *bench) pki(n int) (string, error) {
	if dir, ok := b.pkis[n]; ok {
		return dir, nil
	}
	dir := filepath.Join(b.work, fmt.Sprintf("pki-%d", n))
	out, err := exec.CommandContext(b.ctx, b.binary["devpki"], "-dir", dir, "-vehicles", fmt.Sprint(n)).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("devpki -vehicles %d: %w: %s", n, err, out)
	}
	b.pkis[n] = dir
	return dir, nil
}

// rawFile creates docs/bench/name, truncating it.
func (b *bench) rawFile(name string) (*os.File, error) {
	f, err := os.Create(filepath.Join(b.raw, name))
	if err != nil {
		return nil, fmt.Errorf("raw output: %w", err)
	}
	return f, nil
}

// sleep waits d or until the run is cancelled.
func (b *bench) sleep(d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-b.ctx.Done():
		return b.ctx.Err()
	}
}
