// Command kfakesrv runs a standalone Kafka-protocol broker (franz-go's kfake)
// on 127.0.0.1 for multi-process tests. With -data-dir the broker's state
// survives a restart, including after SIGKILL, so a test can kill it and
// start it again on the same port and directory.
//
//	kfakesrv -port 19092 [-data-dir DIR] [-topics a,b -partitions 3] [-sync] [-slow-delay 300ms]
//
// It prints "READY 127.0.0.1:<port>" once it accepts connections and runs
// until SIGINT or SIGTERM. SIGUSR1 makes the broker slow: every read from a
// client connection waits -slow-delay first, so each request is answered at
// least that late (the broker's advertised address stays its own, which a
// TCP proxy in front of it could not achieve). SIGUSR2 makes it fast again.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	port := flag.Int("port", 9092, "listen port on 127.0.0.1 (0 = any free port)")
	dataDir := flag.String("data-dir", "", "directory for the broker's state; empty keeps it in memory")
	topics := flag.String("topics", "", "comma-separated topics to create at start")
	partitions := flag.Int("partitions", 1, "partitions of each -topics topic")
	sync := flag.Bool("sync", false, "fsync every write to -data-dir (machine-crash durability)")
	slowDelay := flag.Duration("slow-delay", 300*time.Millisecond, "delay before each client read while slow (SIGUSR1 on, SIGUSR2 off)")
	flag.Parse()

	var delay atomic.Int64
	opts := []kfake.Opt{
		kfake.Ports(*port), kfake.AllowAutoTopicCreation(),
		kfake.WithLogger(kfake.BasicLogger(os.Stderr, kfake.LogLevelWarn)),
		kfake.ListenFn(func(network, addr string) (net.Listener, error) {
			l, err := net.Listen(network, addr)
			return slowListener{Listener: l, delay: &delay}, err
		}),
	}
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
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGUSR1, syscall.SIGUSR2)
	for s := range sig {
		switch s {
		case syscall.SIGUSR1:
			delay.Store(int64(*slowDelay))
			fmt.Println("SLOW", *slowDelay)
		case syscall.SIGUSR2:
			delay.Store(0)
			fmt.Println("FAST")
		default:
			c.Close()
			return
		}
	}
}

// slowListener hands out connections whose reads wait the current delay.
type slowListener struct {
	net.Listener
	delay *atomic.Int64
}

func (l slowListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return slowConn{Conn: c, delay: l.delay}, nil
}

// slowConn delays each Read by the listener's current delay.
type slowConn struct {
	net.Conn
	delay *atomic.Int64
}

func (c slowConn) Read(b []byte) (int, error) {
	if d := time.Duration(c.delay.Load()); d > 0 {
		time.Sleep(d)
	}
	return c.Conn.Read(b)
}
