// Command kfakesrv runs a standalone Kafka-protocol broker (franz-go's kfake)
// on 127.0.0.1 for multi-process tests. With -data-dir the broker's state
// survives a restart, including after SIGKILL, so a test can kill it and
// start it again on the same port and directory.
//
//	kfakesrv -port 19092 [-data-dir DIR] [-topics a,b -partitions 3] [-sync]
//
// It prints "READY 127.0.0.1:<port>" once it accepts connections and runs
// until SIGINT or SIGTERM.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	port := flag.Int("port", 9092, "listen port on 127.0.0.1 (0 = any free port)")
	dataDir := flag.String("data-dir", "", "directory for the broker's state; empty keeps it in memory")
	topics := flag.String("topics", "", "comma-separated topics to create at start")
	partitions := flag.Int("partitions", 1, "partitions of each -topics topic")
	sync := flag.Bool("sync", false, "fsync every write to -data-dir (machine-crash durability)")
	flag.Parse()

	opts := []kfake.Opt{kfake.Ports(*port), kfake.AllowAutoTopicCreation()}
	if *dataDir != "" {
		opts = append(opts, kfake.DataDir(*dataDir))
		if *sync {
			opts = append(opts, kfake.SyncWrites())
		}
	}
	if *topics != "" {
		opts = append(opts, kfake.SeedTopics(int32(*partitions), strings.Split(*topics, ",")...))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kfakesrv:", err)
		os.Exit(1)
	}
	fmt.Println("READY", strings.Join(c.ListenAddrs(), ","))

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	c.Close()
}
