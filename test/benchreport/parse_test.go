package benchreport

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseSimFinal(t *testing.T) {
	out := `{"final":false,"acked":10,"acked_per_sec":10}
not json: a warning
{"final":true,"period_sec":15,"vehicles":50,"acked":150000,"acked_per_sec":10000,"latency_ms":{"count":150000,"p50":4.1,"p90":7,"p99":12.5,"max":40},"cpu_sec":6,"sent_per_cpu_sec":25000}
`
	rep, err := ParseSimFinal(strings.NewReader(out))
	require.NoError(t, err)
	require.True(t, rep.Final)
	require.InDelta(t, 10000, rep.AckedPerSec, 1e-9)
	require.InDelta(t, 12.5, rep.Latency.P99, 1e-9)
	require.Equal(t, 50, rep.Vehicles)
}

func TestParseSimFinalErrors(t *testing.T) {
	_, err := ParseSimFinal(strings.NewReader(`{"final":false}` + "\n"))
	require.ErrorIs(t, err, ErrNoFinalReport)
	_, err = ParseSimFinal(strings.NewReader("{broken\n"))
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrNoFinalReport)
}

func TestParseReplay(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    Replay
		wantErr bool
	}{
		{
			name: "summary after progress",
			out:  "replay: 100/200 entries scanned\nreplay sink=logger partitions=[0 1] scanned=200 matched=200 delivered=200 rejected=0 duration=1.5s rate=133/s\n",
			want: Replay{Delivered: 200, Seconds: 1.5, RatePerSec: 133},
		},
		{
			name: "milliseconds",
			out:  "replay sink=logger partitions=[0] scanned=5 matched=5 delivered=5 rejected=0 duration=250ms rate=20/s",
			want: Replay{Delivered: 5, Seconds: 0.25, RatePerSec: 20},
		},
		{name: "no summary", out: "forwarder: boom\n", wantErr: true},
		{name: "bad duration", out: "delivered=5 duration=soon rate=20/s", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseReplay(tt.out)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}
