package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/fleetrelay/fleetrelay/shared/vehicleconfig"
)

// runWrite is `vehicleconfig write`: build a configuration from flags,
// check it, and write it only if it has no error.
func runWrite(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("write", flag.ContinueOnError)
	fs.SetOutput(stderr)
	hostname := fs.String("hostname", "", "server DNS name vehicles connect to (required)")
	port := fs.Int("port", 443, "server TLS port")
	caFile := fs.String("ca", "", "PEM file of the CA that signed the server certificate (required)")
	fields := fs.String("fields", "", "NAME=SECONDS,... fields and their intervals (required)")
	deltas := fs.String("minimum-delta", "", "NAME=DELTA,... smallest change sent, per field")
	resends := fs.String("resend-interval", "", "NAME=SECONDS,... resend an unchanged value this often, per field")
	alerts := fs.String("alert-types", "service", "comma-separated alert audiences")
	preferTyped := fs.Bool("prefer-typed", false, "ask for typed values instead of strings")
	policy := fs.String("delivery-policy", "", "delivery_policy (\"latest\": vehicles resend unacknowledged data)")
	expiresIn := fs.Duration("expires-in", 0, "set exp to now plus this duration (e.g. 720h); 0 = no exp key")
	vins := fs.String("vins", "", "comma-separated VINs: write the request body {\"vins\": [...], \"config\": {...}}")
	out := fs.String("o", "", "output file (default: standard output)")
	var srv serverFlags
	srv.register(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("write: unexpected arguments %v", pos)
	}
	if err := srv.validate(); err != nil {
		return err
	}
	if *hostname == "" || *caFile == "" || *fields == "" {
		return usageErrorf("write: -hostname, -ca and -fields are required")
	}
	ca, err := os.ReadFile(*caFile)
	if err != nil {
		return fmt.Errorf("-ca: %w", err)
	}
	c := vehicleconfig.Config{Hostname: *hostname, Port: *port, CA: string(ca), AlertTypes: list(*alerts), DeliveryPolicy: *policy}
	if *preferTyped {
		c.PreferTyped = preferTyped
	}
	if *expiresIn < 0 {
		return usageErrorf("-expires-in: %v is negative", *expiresIn)
	}
	if *expiresIn > 0 {
		c.Exp = time.Now().Add(*expiresIn).Unix()
	}
	if c.Fields, err = buildFields(*fields, *deltas, *resends); err != nil {
		return err
	}
	chain, err := srv.chain(ctx, c)
	if err != nil {
		return err
	}
	doc := &vehicleconfig.Document{Config: c, VINs: list(*vins), Wrapped: *vins != ""}
	if err := report(stderr, vehicleconfig.Check(doc, chain, time.Now())); err != nil {
		return err
	}
	b, err := vehicleconfig.Marshal(c, doc.VINs)
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = stdout.Write(b)
		return err
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	return nil
}

// buildFields turns the -fields, -minimum-delta and -resend-interval lists
// into field configurations.
func buildFields(fields, deltas, resends string) (map[string]vehicleconfig.Field, error) {
	intervals, _, err := pairs("fields", fields)
	if err != nil {
		return nil, err
	}
	out := make(map[string]vehicleconfig.Field, len(intervals))
	for name, v := range intervals {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, usageErrorf("-fields: %s=%s: the interval is a whole number of seconds", name, v)
		}
		out[name] = vehicleconfig.Field{IntervalSeconds: n}
	}
	d, _, err := pairs("minimum-delta", deltas)
	if err != nil {
		return nil, err
	}
	for name, v := range d {
		f, ok := out[name]
		if !ok {
			return nil, usageErrorf("-minimum-delta: %s is not in -fields", name)
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, usageErrorf("-minimum-delta: %s=%s is not a number", name, v)
		}
		f.MinimumDelta = &x
		out[name] = f
	}
	r, _, err := pairs("resend-interval", resends)
	if err != nil {
		return nil, err
	}
	for name, v := range r {
		f, ok := out[name]
		if !ok {
			return nil, usageErrorf("-resend-interval: %s is not in -fields", name)
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, usageErrorf("-resend-interval: %s=%s: a whole number of seconds", name, v)
		}
		f.ResendIntervalSeconds = n
		out[name] = f
	}
	return out, nil
}
