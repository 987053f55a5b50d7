package logger

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/datastoretest"
	"github.com/fleetrelay/fleetrelay/shared/config"
)

// BenchmarkLoggerWrite measures Write to a file, fsync per batch included.
//
//	go test -run '^$' -bench BenchmarkLoggerWrite -benchtime 20x ./datastore/logger/
func BenchmarkLoggerWrite(b *testing.B) {
	for _, size := range []int{500, 5000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			s, err := New(&config.LoggerConfig{File: filepath.Join(b.TempDir(), "log")}, datastore.Settings{})
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = s.Close(b.Context()) }()
			batch := datastoretest.Synthetic(b, 1, size, 100)
			if err := s.Write(b.Context(), batch); err != nil { // warm-up: connect, metadata
				b.Fatal(err)
			}
			meter := datastoretest.StartMeter()
			for b.Loop() {
				if err := s.Write(b.Context(), batch); err != nil {
					b.Fatal(err)
				}
			}
			meter.Report(b, b.N*size)
		})
	}
}
