package wal_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/fleetrelay/fleetrelay/wal"
)

// The gateway appends and acknowledges; a forwarder tails, delivers and
// commits its cursor.
func Example() {
	dir, err := os.MkdirTemp("", "wal-example")
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = os.RemoveAll(dir) }()

	l, err := wal.Open(dir, wal.Options{Partitions: 4, Consumers: []string{"kafka"}})
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	vin := []byte("5YJ3E1EA7KF000001")
	for _, rec := range []string{"speed=42", "speed=43"} {
		if _, err := l.Append(context.Background(), vin, []byte(rec)); err != nil {
			log.Fatal(err) // not durable: do not acknowledge the vehicle
		}
	}

	p := wal.PartitionFor(vin, l.Partitions())
	cur, err := wal.OpenCursor(dir, "kafka", p)
	if err != nil {
		log.Fatal(err)
	}
	after, err := cur.Load()
	if err != nil {
		log.Fatal(err)
	}
	t, err := wal.OpenTailer(dir, p, after, wal.TailerOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = t.Close() }()
	for range 2 {
		e, err := t.Next(context.Background())
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d %s\n", e.Index, e.Data)
		if err := cur.Commit(e.Index); err != nil {
			log.Fatal(err)
		}
	}
	// Output:
	// 1 speed=42
	// 2 speed=43
}
