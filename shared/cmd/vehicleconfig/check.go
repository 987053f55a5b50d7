package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/fleetrelay/fleetrelay/shared/vehicleconfig"
)

// runCheck is `vehicleconfig check FILE`.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var srv serverFlags
	srv.register(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("check: want exactly one FILE, got %d", len(pos))
	}
	if err := srv.validate(); err != nil {
		return err
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		return fmt.Errorf("read %w", err)
	}
	doc, err := vehicleconfig.Parse(data)
	if err != nil {
		fmt.Fprintf(stderr, "error: %s: %v\n", pos[0], err)
		return errInvalid
	}
	chain, err := srv.chain(ctx, doc.Config)
	if err != nil {
		return err
	}
	ps := vehicleconfig.Check(doc, chain, time.Now())
	if err := report(stderr, ps); err != nil {
		return err
	}
	what := "CA and hostname not checked against a server certificate (use -server-cert or -fetch)"
	if chain != nil {
		what = fmt.Sprintf("the CA verifies the server certificate for %s", doc.Config.Hostname)
	}
	fmt.Fprintf(stdout, "%s: ok: %d fields; %s\n", pos[0], len(doc.Config.Fields), what)
	return nil
}
