package registry_test

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/gateway/internal/registry"
)

type conn struct{ drained atomic.Int32 }

func (c *conn) Drain() { c.drained.Add(1) }

func TestOverlappingSockets(t *testing.T) {
	type step struct {
		add        bool
		vin        string
		conn       int
		wantChange bool
		wantOnline int
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"one_socket", []step{{true, "A", 0, true, 1}, {false, "A", 0, true, 0}}},
		{"wifi_then_cellular_overlap", []step{
			{true, "A", 0, true, 1}, {true, "A", 1, false, 1},
			{false, "A", 0, false, 1}, {false, "A", 1, true, 0}}},
		{"reconnect_before_old_closes", []step{
			{true, "A", 0, true, 1}, {true, "A", 1, false, 1}, {false, "A", 0, false, 1}, {true, "A", 2, false, 1},
			{false, "A", 1, false, 1}, {false, "A", 2, true, 0}}},
		{"two_vehicles", []step{{true, "A", 0, true, 1}, {true, "B", 1, true, 2}, {false, "A", 0, true, 1}}},
		{"double_remove", []step{{true, "A", 0, true, 1}, {false, "A", 0, true, 0}, {false, "A", 0, false, 0}}},
		{"unknown_remove", []step{{true, "A", 0, true, 1}, {false, "A", 1, false, 1}, {false, "B", 0, false, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := registry.New()
			conns := []*conn{{}, {}, {}}
			for i, s := range tt.steps {
				var changed bool
				if s.add {
					changed = r.Add(s.vin, conns[s.conn])
				} else {
					changed = r.Remove(s.vin, conns[s.conn])
				}
				require.Equal(t, s.wantChange, changed, "step %d", i)
				require.Equal(t, s.wantOnline, r.Online(), "step %d", i)
			}
		})
	}
}

func TestConcurrentAddRemoveBalances(t *testing.T) {
	r := registry.New()
	var online atomic.Int64
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			c := &conn{}
			vin := []string{"A", "B", "C"}[i%3]
			for range 200 {
				if r.Add(vin, c) {
					online.Add(1)
				}
				if r.Remove(vin, c) {
					online.Add(-1)
				}
			}
		})
	}
	wg.Wait()
	require.Zero(t, online.Load())
	require.Zero(t, r.Online())
	require.Zero(t, r.Len())
}

func TestDrainAll(t *testing.T) {
	r := registry.New()
	a, b := &conn{}, &conn{}
	r.Add("A", a)
	r.Add("A", b)
	require.Equal(t, 2, r.Sockets("A"))
	r.DrainAll()
	require.Equal(t, int32(1), a.drained.Load())
	require.Equal(t, int32(1), b.drained.Load())
}
