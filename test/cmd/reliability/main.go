// Command reliability runs fleetrelay's end-to-end fault suite: it builds
// the binaries, runs simulated vehicles → gateway → WAL → forwarders →
// Kafka (kfakesrv), MQTT (Mosquitto) and the JSON logger for -duration while injecting
// faults and hostile clients, waits for delivery, and checks that every
// acked record was delivered to every sink, in WAL order per vehicle.
//
//	go run ./test/cmd/reliability -duration 10m [-json] [-report FILE] [-sinks kafka,mqtt,logger] [-faults gateway-kill,...]
//
// It prints a summary (or the report as JSON with -json) and exits 1 if
// anything acked was lost or the run failed, 2 on usage errors.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/fleetrelay/fleetrelay/test/reliability"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx))
}

func run(ctx context.Context) int {
	def := reliability.DefaultConfig(10 * time.Minute)
	cfg := def
	sinks := flag.String("sinks", strings.Join(def.Sinks, ","), "datastores every topic goes to (kafka, mqtt, logger)")
	faults := flag.String("faults", strings.Join(def.Faults, ","), "faults, injected in this order, cycling; empty for none")
	flag.DurationVar(&cfg.Duration, "duration", def.Duration, "how long faults are injected")
	flag.DurationVar(&cfg.FaultEvery, "fault-every", def.FaultEvery, "time between a fault's recovery and the next fault")
	flag.IntVar(&cfg.Vehicles, "vehicles", def.Vehicles, "simulated vehicles")
	flag.IntVar(&cfg.Window, "window", def.Window, "records in flight per vehicle")
	flag.Float64Var(&cfg.Rate, "rate", def.Rate, "records per second per vehicle")
	flag.Int64Var(&cfg.WALBudgetBytes, "wal-budget", def.WALBudgetBytes, "wal.disk_budget_bytes when the disk-budget fault is scheduled")
	flag.BoolVar(&cfg.Hostile, "hostile", def.Hostile, "run hostile clients against the gateway")
	flag.Uint64Var(&cfg.CaughtUpLag, "caught-up-lag", def.CaughtUpLag, "WAL lag (entries) at or under which a sink counts as caught up (0: vehicles × window)")
	flag.DurationVar(&cfg.SettleTimeout, "settle-timeout", def.SettleTimeout, "longest wait for delivery after the vehicles stop")
	workDir := flag.String("work-dir", "", "directory for PKI, WAL, datastores and logs (default: a new temporary directory)")
	keep := flag.Bool("keep", false, "keep the work directory after a passing run (a failing run always keeps it)")
	jsonOut := flag.Bool("json", false, "print the report as JSON")
	reportFile := flag.String("report", "", "also write the report as JSON to this file")
	flag.Parse()
	cfg.Sinks = split(*sinks)
	cfg.Faults = split(*faults)

	root, err := reliability.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "reliability:", err)
		return 2
	}
	if *workDir == "" {
		if *workDir, err = os.MkdirTemp("", "fleetrelay-reliability-"); err != nil {
			fmt.Fprintln(os.Stderr, "reliability:", err)
			return 1
		}
	}
	cfg.WorkDir = *workDir
	cfg.Progress = os.Stderr
	fmt.Fprintln(os.Stderr, "building binaries")
	if cfg.Binaries, err = reliability.Build(ctx, root, filepath.Join(cfg.WorkDir, "bin")); err != nil {
		fmt.Fprintln(os.Stderr, "reliability:", err)
		return 1
	}
	rep, err := reliability.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "reliability: %v (work dir kept: %s)\n", err, cfg.WorkDir)
		return 1
	}
	if *reportFile != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err == nil {
			err = os.WriteFile(*reportFile, append(b, '\n'), 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "reliability: report:", err)
			return 1
		}
	}
	if *jsonOut {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintln(os.Stderr, "reliability:", err)
			return 1
		}
	} else {
		rep.WriteText(os.Stdout)
	}
	if rep.Failed() {
		fmt.Fprintf(os.Stderr, "work dir kept: %s\n", cfg.WorkDir)
		return 1
	}
	if !*keep {
		_ = os.RemoveAll(cfg.WorkDir)
	}
	return 0
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
