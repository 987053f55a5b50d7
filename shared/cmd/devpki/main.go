// Command devpki creates or completes a development PKI directory: a CA
// named like Tesla's vehicle issuer, a server certificate and one client
// certificate per vehicle. Existing keys and certificates are kept.
//
//	devpki -dir DIR [-hosts a,b] [-vins V1,V2] [-vehicles N]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/fleetrelay/fleetrelay/shared/devpki"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "devpki:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	opts, err := parseFlags(args)
	if err != nil {
		return err
	}
	res, err := devpki.Ensure(opts)
	if err != nil {
		return err
	}
	for _, f := range res.Written {
		fmt.Fprintln(out, "wrote", f)
	}
	fmt.Fprintf(out, "%s: %d vehicles, %d files written\n", opts.Dir, len(opts.VINs), len(res.Written))
	return nil
}

func parseFlags(args []string) (devpki.Options, error) {
	fs := flag.NewFlagSet("devpki", flag.ContinueOnError)
	dir := fs.String("dir", "", "PKI directory (created if missing)")
	hosts := fs.String("hosts", "", "extra server certificate names, comma-separated (localhost, 127.0.0.1 and ::1 are always included)")
	vins := fs.String("vins", "", "vehicle VINs, comma-separated")
	n := fs.Int("vehicles", 0, "number of generated VINs (5YJ3E1EA?KF000001.. with a correct check digit)")
	if err := fs.Parse(args); err != nil {
		return devpki.Options{}, err
	}
	if fs.NArg() > 0 {
		return devpki.Options{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *n < 0 {
		return devpki.Options{}, errors.New("-vehicles must not be negative")
	}
	opts := devpki.Options{Dir: *dir, Hosts: split(*hosts), VINs: append(split(*vins), devpki.GeneratedVINs(*n)...)}
	return opts, opts.Validate()
}

func split(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
