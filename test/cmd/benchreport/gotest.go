package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/fleetrelay/fleetrelay/test/benchreport"
	"github.com/fleetrelay/fleetrelay/test/benchreport/gobench"
)

// goBench runs `go test -run ^$ -bench pattern` in module dir of the
// repository and records its output in docs/bench/raw. A failed run keeps
// whatever results it printed.
func (b *bench) goBench(module, raw, pattern, benchtime string, pkgs ...string) *benchreport.GoBench {
	args := []string{"test", "-run", "^$", "-bench", pattern, "-benchtime", benchtime, "-count", fmt.Sprint(b.o.count), "-timeout", "30m"}
	args = append(args, pkgs...)
	g := &benchreport.GoBench{Command: fmt.Sprintf("cd %s && go %s", module, strings.Join(quoteArgs(args), " ")), RawFile: raw}
	var out bytes.Buffer
	cmd := exec.CommandContext(b.ctx, "go", args...)
	cmd.Dir = filepath.Join(b.o.root, module)
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()
	if err := os.WriteFile(filepath.Join(b.raw, raw), out.Bytes(), 0o644); err != nil {
		g.Err = fmt.Sprintf("raw output: %v", err)
	}
	results, err := gobench.Parse(bytes.NewReader(out.Bytes()))
	g.Summaries = gobench.Summarize(results)
	if err := errors.Join(runErr, err); err != nil {
		g.Err = strings.TrimSpace(g.Err + " " + err.Error())
		b.logf("go test in %s: %v", module, err)
		_, _ = io.Copy(b.log, bytes.NewReader(lastLines(out.Bytes(), 10)))
	}
	return g
}

// quoteArgs quotes arguments a shell would split or expand.
func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " |$^*?[]()'\"\\") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return out
}

func lastLines(data []byte, n int) []byte {
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return append(bytes.Join(lines, []byte("\n")), '\n')
}

// walBenches runs the wal module's benchmarks.
func (b *bench) walBenches() error {
	appendTime, otherTime := "2s", "2s"
	if b.o.quick {
		appendTime, otherTime = "300ms", "500ms"
	}
	appends := b.goBench("wal", "wal-append.txt", "BenchmarkAppend/sync=true/", appendTime, ".")
	others := b.goBench("wal", "wal-disk-tail.txt", "BenchmarkRawFsync|BenchmarkTailer|BenchmarkTailLatency", otherTime, ".")
	b.rep.WAL = benchreport.Benches{appends, others}
	return failures(appends, others)
}

// codecBenches runs the envelope codec and ingest decision benchmarks.
func (b *bench) codecBenches() error {
	benchtime := "1s"
	if b.o.quick {
		benchtime = "200ms"
	}
	codec := b.goBench("protos", "codec.txt", "BenchmarkDecode|BenchmarkEncoderAck|BenchmarkEncoderError", benchtime, "./envelope/")
	ingest := b.goBench("gateway", "ingest-process.txt", "BenchmarkProcess", benchtime, "./internal/ingest/")
	b.rep.Codec = benchreport.Benches{codec, ingest}
	return failures(codec, ingest)
}

// deliveryBenches runs the forwarder pipeline, backlog drain and sink
// benchmarks.
func (b *bench) deliveryBenches() error {
	// Each backlog run first writes its records into a new WAL; the quick
	// run keeps one partition layout.
	sinkTimes, backlogs, drains := "10x", "BenchmarkBacklog", "BenchmarkDrain"
	if b.o.quick {
		sinkTimes, backlogs, drains = "5x", "BenchmarkBacklog/partitions=1$", "BenchmarkDrain/.*/.*/partitions=1$"
	}
	backlog := b.goBench("forwarder", "forwarder-backlog.txt", backlogs, "1x", "./internal/service/")
	drain := b.goBench("forwarder", "forwarder-drain.txt", drains, "1x", "./internal/service/")
	sinks := b.goBench("forwarder", "forwarder-sinks.txt",
		"BenchmarkKafkaWrite|BenchmarkPubSubWrite|BenchmarkMQTTWrite|BenchmarkKinesisWrite|BenchmarkLoggerWrite", sinkTimes,
		"./datastore/kafka/", "./datastore/pubsub/", "./datastore/mqtt/", "./datastore/kinesis/", "./datastore/logger/")
	d := b.delivery()
	d.Benches = append(d.Benches, backlog, drain, sinks)
	return failures(backlog, drain, sinks)
}

func failures(gs ...*benchreport.GoBench) error {
	var errs []error
	for _, g := range gs {
		if g.Err != "" {
			errs = append(errs, fmt.Errorf("%s: %s", g.Command, g.Err))
		}
	}
	return errors.Join(errs...)
}
