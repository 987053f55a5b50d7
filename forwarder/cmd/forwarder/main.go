// Command forwarder delivers the gateway's write-ahead log to the datastores
// configured under `records`, and inspects and repairs that delivery.
//
//	forwarder [run] -config FILE [-sinks kafka,mqtt]
//	forwarder replay -config FILE -sink S [-partition P] [-from I -to J | -since T -until T] [-vin V,...] [-topic T,...]
//	forwarder status -config FILE [-sink S] [-json]
//	forwarder deadletter list -config FILE -sink S [-partition P] [-all]
//	forwarder deadletter replay -config FILE -sink S [-partition P]
//
// Exit codes: 0 success, 1 failure (including records rejected by a replay
// and partitions whose delivery has stopped), 2 usage or configuration
// error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// env is what a command needs from its process.
type env struct {
	stdout, stderr io.Writer
	// sinks builds datastore sinks; tests replace it.
	sinks sinkFactory
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	context.AfterFunc(ctx, stop) // a second signal kills at once
	code := run(ctx, os.Args[1:], env{stdout: os.Stdout, stderr: os.Stderr, sinks: datastoreSinks})
	stop()
	os.Exit(code)
}

// run dispatches to a subcommand and returns the exit code.
func run(ctx context.Context, args []string, e env) int {
	cmd, rest := "run", args
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, rest = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "run":
		err = runForwarder(ctx, rest, e)
	case "replay":
		err = runReplay(ctx, rest, e)
	case "status":
		err = runStatus(rest, e)
	case "deadletter":
		err = runDeadLetter(ctx, rest, e)
	case "help":
		fmt.Fprintln(e.stdout, usage)
		return exitOK
	default:
		err = usageErrorf("unknown command %q", cmd)
	}
	return exitCode(err, e.stderr)
}

const usage = `usage:
  forwarder [run] -config FILE [-sinks kafka,mqtt]
  forwarder replay -config FILE -sink S [-partition P] [-from I -to J | -since T -until T] [-vin V,...] [-topic T,...]
  forwarder status -config FILE [-sink S] [-json]
  forwarder deadletter list -config FILE -sink S [-partition P] [-all]
  forwarder deadletter replay -config FILE -sink S [-partition P]`

// usageError is a command-line or configuration mistake (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return usageError{err: fmt.Errorf(format, args...)}
}

// errFailed reports a failure already explained on the output (exit 1).
var errFailed = errors.New("failed")

func exitCode(err error, stderr io.Writer) int {
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "forwarder: %v\n\n%s\n", err, usage)
		return exitUsage
	case errors.Is(err, errFailed):
		return exitFailure
	default:
		fmt.Fprintf(stderr, "forwarder: %v\n", err)
		return exitFailure
	}
}
