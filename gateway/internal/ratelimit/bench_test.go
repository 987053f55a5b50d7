package ratelimit_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/fleetrelay/fleetrelay/gateway/internal/ratelimit"
)

// BenchmarkAllow measures one decision for a VIN among many tracked ones.
func BenchmarkAllow(b *testing.B) {
	for _, n := range []int{1, 10_000} {
		b.Run(fmt.Sprintf("vins=%d", n), func(b *testing.B) {
			l, err := ratelimit.New(ratelimit.Config{Enabled: true, MessageLimit: 1 << 30, MessageIntervalTime: 60}, ratelimit.Settings{})
			if err != nil {
				b.Fatal(err)
			}
			vins := make([]string, n)
			for i := range vins {
				vins[i] = fmt.Sprintf("5YJ3E1EA1KF%06d", i)
			}
			now := epoch
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				l.Allow(vins[i%n], now)
				i++
				now = now.Add(time.Microsecond)
			}
		})
	}
}
