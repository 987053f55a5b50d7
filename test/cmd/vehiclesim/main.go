// Command vehiclesim runs a fleet of simulated vehicles against a
// fleet-telemetry compatible server and reports acked records per second,
// error frames, resends, reconnects and ack latency percentiles.
//
//	vehiclesim -url wss://127.0.0.1:4443/ -pki DIR -vehicles 50 -window 8 -duration 15s -warmup 3s
//	vehiclesim -url wss://host:443/ -cert vehicle.crt -key vehicle.key -ca ca.crt -rate 1
//
// Vehicles come from a development PKI directory (the first N VINs under
// vehicles/, see devpki) or, for a single vehicle, from -cert/-key (VIN =
// the certificate's Subject CN). Progress reports go to stdout every
// -report-interval, the final report at the end (after -duration, or on
// SIGINT/SIGTERM once outstanding acks are drained), as text or, with
// -json, one JSON object per line. -acked-file appends "VIN\ttxid\ttopic"
// for every acked record.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/fleetrelay/fleetrelay/shared/devpki"
	"github.com/fleetrelay/fleetrelay/test/vehiclesim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "vehiclesim:", err)
		os.Exit(1)
	}
}

// options are the command's flags beyond the simulator configuration.
type options struct {
	cfg                vehiclesim.Config
	pki, ca, cert, key string
	vehicles           int
	topics, ackedFile  string
	jsonOut, verbose   bool
	cpuProfile         string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	if err := o.loadIdentities(); err != nil {
		return err
	}
	set, closeLog, err := o.settings(stdout, stderr)
	if err != nil {
		return err
	}
	sim, err := vehiclesim.New(o.cfg, set)
	if err != nil {
		return errors.Join(err, closeLog())
	}
	stopProfile, err := startProfile(o.cpuProfile)
	if err != nil {
		return errors.Join(err, closeLog())
	}
	final := sim.Run(ctx)
	return errors.Join(stopProfile(), o.write(stdout, final), closeLog())
}

// startProfile starts a CPU profile into path (nothing if empty); the
// returned function stops it.
func startProfile(path string) (func() error, error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return nil, errors.Join(fmt.Errorf("cpu profile: %w", err), f.Close())
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

func parseFlags(args []string) (options, error) {
	o := options{cfg: vehiclesim.NewDefaultConfig()}
	c := &o.cfg
	fs := flag.NewFlagSet("vehiclesim", flag.ContinueOnError)
	fs.StringVar(&c.URL, "url", "wss://127.0.0.1:4443/", "server websocket URL")
	fs.StringVar(&o.pki, "pki", "", "development PKI directory: vehicles/<VIN>.crt|key, and ca.crt unless -ca is given")
	fs.StringVar(&o.ca, "ca", "", "PEM bundle that verifies the server certificate")
	fs.StringVar(&o.cert, "cert", "", "client certificate of a single vehicle (instead of -pki)")
	fs.StringVar(&o.key, "key", "", "client key of a single vehicle")
	fs.IntVar(&o.vehicles, "vehicles", 1, "number of vehicles taken from -pki (the first N VINs in order)")
	fs.Float64Var(&c.Rate, "rate", 0, "records per second per vehicle; 0 = as fast as the window allows")
	fs.IntVar(&c.Window, "window", c.Window, "records in flight (sent, not yet answered) per vehicle")
	fs.DurationVar(&c.Duration, "duration", 0, "run time; 0 = until SIGINT/SIGTERM")
	fs.DurationVar(&c.Warmup, "warmup", 0, "initial period excluded from the final report")
	fs.DurationVar(&c.ResendTimeout, "resend-timeout", c.ResendTimeout, "resend a record not acked within this time")
	fs.StringVar(&o.topics, "topics", c.Mix.String(), "topic weights")
	fs.DurationVar(&c.ReportInterval, "report-interval", 0, "progress report period; 0 = final report only")
	fs.StringVar(&o.ackedFile, "acked-file", "", "append VIN<TAB>txid<TAB>topic for every acked record")
	fs.BoolVar(&o.jsonOut, "json", false, "reports as JSON lines")
	fs.StringVar(&c.Version, "version", c.Version, "Version request header (device client version)")
	fs.StringVar(&c.NetworkInterface, "network-interface", c.NetworkInterface, "X-Network-Interface request header")
	fs.DurationVar(&c.DrainTimeout, "drain-timeout", c.DrainTimeout, "how long to wait for outstanding acks at the end")
	fs.DurationVar(&c.BackoffMax, "backoff-max", c.BackoffMax, "longest reconnect delay")
	fs.StringVar(&c.TxIDPrefix, "txid-prefix", "", "txid prefix (<prefix>-<seq>); default random per run")
	fs.BoolVar(&o.verbose, "v", false, "connection events on stderr")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	mix, err := vehiclesim.ParseMix(o.topics)
	c.Mix = mix
	return o, err
}

// loadIdentities fills the vehicles and the server CA pool from the files.
func (o *options) loadIdentities() error {
	if err := o.loadVehicles(); err != nil {
		return err
	}
	caFile := o.ca
	if caFile == "" && o.pki != "" {
		caFile = devpki.Layout{Dir: o.pki}.CACert()
	}
	if caFile == "" {
		return nil // system roots
	}
	pool, err := devpki.CAPool(caFile)
	o.cfg.RootCAs = pool
	return err
}

func (o *options) loadVehicles() error {
	if o.cert != "" || o.key != "" {
		pair, err := devpki.LoadKeyPair(o.cert, o.key)
		if err != nil {
			return err
		}
		o.cfg.Vehicles = []vehiclesim.Vehicle{{VIN: pair.Leaf.Subject.CommonName, Cert: pair}}
		return nil
	}
	if o.pki == "" {
		return errors.New("need -pki DIR or -cert/-key")
	}
	l := devpki.Layout{Dir: o.pki}
	vins, err := devpki.VehicleVINs(l)
	if err != nil {
		return err
	}
	if o.vehicles < 1 || o.vehicles > len(vins) {
		return fmt.Errorf("-vehicles %d: %s has %d vehicles (create more with devpki -vehicles N)", o.vehicles, o.pki, len(vins))
	}
	for _, vin := range vins[:o.vehicles] {
		pair, err := devpki.LoadVehicle(l, vin)
		if err != nil {
			return err
		}
		o.cfg.Vehicles = append(o.cfg.Vehicles, vehiclesim.Vehicle{VIN: vin, Cert: pair})
	}
	return nil
}

// settings wires logging, progress reports and the ack log; the returned
// function closes the ack log.
func (o *options) settings(stdout, stderr io.Writer) (vehiclesim.Settings, func() error, error) {
	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelDebug
	}
	set := vehiclesim.Settings{
		Logger:   slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
		OnReport: func(r vehiclesim.Report) { _ = o.write(stdout, r) },
	}
	if o.ackedFile == "" {
		return set, func() error { return nil }, nil
	}
	f, err := os.OpenFile(o.ackedFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return set, nil, fmt.Errorf("open acked file: %w", err)
	}
	set.AckLog = vehiclesim.NewAckLog(f)
	return set, func() error { return errors.Join(set.AckLog.Close(), f.Close()) }, nil
}

func (o *options) write(w io.Writer, r vehiclesim.Report) error {
	if o.jsonOut {
		return r.WriteJSON(w)
	}
	return r.WriteText(w)
}
