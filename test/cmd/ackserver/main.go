// Command ackserver runs the trivial telemetry server: mutual-TLS websockets,
// every binary frame answered with an ack, nothing stored. It prints its
// counters and the ack rate on SIGINT/SIGTERM.
//
//	ackserver -addr 127.0.0.1:4443 -pki DIR
//	ackserver -addr :4443 -cert server.crt -key server.key -ca ca.crt [-drop-every 10]
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
	"syscall"
	"time"

	"github.com/fleetrelay/fleetrelay/shared/devpki"
	"github.com/fleetrelay/fleetrelay/test/ackserver"
)

// options are the command's flags.
type options struct {
	addr, pki, cert, key, ca string
	verbose                  bool
	cfg                      ackserver.Config
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ackserver:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	opts, err := parseFlags(args)
	if err != nil {
		return err
	}
	srv, err := newServer(opts)
	if err != nil {
		return err
	}
	if err := srv.Start(opts.addr); err != nil {
		return err
	}
	fmt.Fprintf(out, "listening on %s\n", srv.URL())
	start := time.Now()
	<-ctx.Done()
	elapsed := time.Since(start)
	err = srv.Close()
	st := srv.Stats()
	fmt.Fprintf(out, "connections=%d frames=%d acks=%d dropped=%d rejected=%d elapsed=%s acks_per_sec=%.0f\n",
		st.Connections, st.Frames, st.Acks, st.Dropped, st.Rejected, elapsed.Round(time.Millisecond),
		float64(st.Acks)/elapsed.Seconds())
	return err
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("ackserver", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:4443", "listen address host:port")
	fs.StringVar(&o.pki, "pki", "", "development PKI directory (server.crt, server.key, ca.crt); overridden by -cert/-key/-ca")
	fs.StringVar(&o.cert, "cert", "", "server certificate PEM")
	fs.StringVar(&o.key, "key", "", "server key PEM")
	fs.StringVar(&o.ca, "ca", "", "PEM bundle of CAs trusted for client certificates")
	fs.BoolVar(&o.verbose, "v", false, "debug logs on stderr")
	fs.IntVar(&o.cfg.DropFirst, "drop-first", 0, "do not send the first N acks")
	fs.IntVar(&o.cfg.DropEvery, "drop-every", 0, "do not send every Kth ack")
	fs.IntVar(&o.cfg.RejectEvery, "reject-every", 0, "answer every Kth frame with an error frame")
	fs.IntVar(&o.cfg.CloseAfter, "close-after", 0, "close each connection at its Nth frame")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o.fillFromPKI()
	if o.cert == "" || o.key == "" || o.ca == "" {
		return o, errors.New("need -pki DIR or all of -cert, -key and -ca")
	}
	return o, o.cfg.Validate()
}

// fillFromPKI takes the files -cert, -key and -ca leave unset from -pki.
func (o *options) fillFromPKI() {
	if o.pki == "" {
		return
	}
	l := devpki.Layout{Dir: o.pki}
	for _, f := range []struct {
		dst  *string
		path string
	}{{&o.cert, l.ServerCert()}, {&o.key, l.ServerKey()}, {&o.ca, l.CACert()}} {
		if *f.dst == "" {
			*f.dst = f.path
		}
	}
}

func newServer(o options) (*ackserver.Server, error) {
	cert, err := devpki.LoadKeyPair(o.cert, o.key)
	if err != nil {
		return nil, err
	}
	pool, err := devpki.CAPool(o.ca)
	if err != nil {
		return nil, err
	}
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	return ackserver.New(o.cfg, ackserver.ServerTLS(cert, pool), log)
}
