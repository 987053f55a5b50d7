// Command vehicleconfig writes and checks the vehicle telemetry
// configuration sent to Tesla (fleet_telemetry_config): field names against
// the vehicle protos' Field enum, intervals, alert types, expiry, and that
// the CA in the file signed the server's certificate for the hostname.
//
//	vehicleconfig write -hostname H -ca FILE -fields VehicleSpeed=10,Location=30 [flags] [-o FILE]
//	vehicleconfig check FILE [-server-cert FILE | -fetch [-connect HOST:PORT]]
//
// Exit codes: 0 no error (warnings may be printed), 1 the configuration has
// errors, 2 usage error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// Exit codes.
const (
	exitOK      = 0
	exitInvalid = 1
	exitUsage   = 2
)

const usage = `usage:
  vehicleconfig write -hostname H -ca FILE -fields NAME=SECONDS,... [-port P] [-alert-types service,...]
                      [-minimum-delta NAME=D,...] [-resend-interval NAME=SECONDS,...] [-prefer-typed]
                      [-delivery-policy latest] [-expires-in 720h] [-vins VIN,...]
                      [-server-cert FILE | -fetch [-connect HOST:PORT]] [-o FILE]
  vehicleconfig check FILE [-server-cert FILE | -fetch [-connect HOST:PORT]]`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// usageError is a command-line mistake (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

func usageErrorf(format string, args ...any) error {
	return usageError{err: fmt.Errorf(format, args...)}
}

// errInvalid reports a configuration with errors, already printed (exit 1).
var errInvalid = errors.New("the vehicle configuration has errors")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "write":
		err = runWrite(ctx, args[1:], stdout, stderr)
	case "check":
		err = runCheck(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprintln(stdout, usage)
		return exitOK
	default:
		err = usageErrorf("unknown command %q", args[0])
	}
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "vehicleconfig: %v\n\n%s\n", err, usage)
		return exitUsage
	case errors.Is(err, errInvalid):
		fmt.Fprintf(stderr, "vehicleconfig: %v\n", err)
		return exitInvalid
	default:
		fmt.Fprintf(stderr, "vehicleconfig: %v\n", err)
		return exitInvalid
	}
}
