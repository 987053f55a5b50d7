package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fleetrelay/fleetrelay/shared/vehicleconfig"
)

// serverFlags choose where the server certificate to check comes from.
type serverFlags struct {
	certFile string
	fetch    bool
	connect  string
}

func (s *serverFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.certFile, "server-cert", "", "PEM server certificate chain file (leaf first) to check the CA and hostname against")
	fs.BoolVar(&s.fetch, "fetch", false, "fetch the server certificate with a TLS handshake to hostname:port")
	fs.StringVar(&s.connect, "connect", "", "with -fetch: connect to this HOST:PORT instead (SNI stays the configured hostname)")
}

func (s *serverFlags) validate() error {
	if s.certFile != "" && s.fetch {
		return usageErrorf("-server-cert and -fetch are exclusive")
	}
	if s.connect != "" && !s.fetch {
		return usageErrorf("-connect needs -fetch")
	}
	return nil
}

// chain returns the server chain to check, or nil when none was asked for.
func (s *serverFlags) chain(ctx context.Context, c vehicleconfig.Config) ([]*x509.Certificate, error) {
	switch {
	case s.certFile != "":
		return readChain(s.certFile)
	case s.fetch:
		addr := s.connect
		if addr == "" {
			port := c.Port
			if port == 0 {
				port = 443
			}
			addr = net.JoinHostPort(c.Hostname, strconv.Itoa(port))
		}
		ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		return vehicleconfig.FetchChain(ctx, addr, c.Hostname)
	default:
		return nil, nil
	}
}

// readChain reads every certificate of a PEM file, in order.
func readChain(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("server certificate: %w", err)
	}
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("server certificate %s: %w", path, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("server certificate %s: no PEM certificate", path)
	}
	return out, nil
}

// report prints every problem and returns errInvalid if one is an error.
func report(w io.Writer, ps vehicleconfig.Problems) error {
	for _, p := range ps {
		fmt.Fprintln(w, p)
	}
	if ps.Err() != nil {
		return errInvalid
	}
	return nil
}

// pairs parses NAME=VALUE,NAME=VALUE.
func pairs(flagName, s string) (map[string]string, []string, error) {
	out := map[string]string{}
	var order []string
	if strings.TrimSpace(s) == "" {
		return out, nil, nil
	}
	for _, item := range strings.Split(s, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok || name == "" || value == "" {
			return nil, nil, usageErrorf("-%s: %q is not NAME=VALUE", flagName, item)
		}
		if _, dup := out[name]; dup {
			return nil, nil, usageErrorf("-%s: %s given twice", flagName, name)
		}
		out[name] = value
		order = append(order, name)
	}
	return out, order, nil
}

func list(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// parseFlags parses args; flags may follow positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, usageErrorf("help requested")
			}
			return nil, usageError{err: err}
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
