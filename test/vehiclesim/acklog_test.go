package vehiclesim_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/test/vehiclesim"
)

func TestAckLogRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "acked.tsv")
	f, err := os.Create(path)
	require.NoError(t, err)
	l := vehiclesim.NewAckLog(f)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 250 {
				l.Record("VIN"+string(rune('A'+i)), []byte{byte('a' + j%26)}, "V")
			}
		})
	}
	wg.Wait()
	require.NoError(t, l.Close())
	require.NoError(t, f.Close())

	got, err := vehiclesim.ReadAckLog(path)
	require.NoError(t, err)
	require.Len(t, got, 1000)
	require.Equal(t, "V", got[0].Topic)
}

func TestReadAckLog(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []vehiclesim.AckedRecord
		wantErr error
	}{
		{name: "empty", content: ""},
		{name: "lines", content: "VIN1\tt-1\tV\nVIN2\tt-2\talerts\n", want: []vehiclesim.AckedRecord{
			{VIN: "VIN1", TxID: "t-1", Topic: "V"}, {VIN: "VIN2", TxID: "t-2", Topic: "alerts"}}},
		{name: "torn_last_line", content: "VIN1\tt-1\tV\nVIN2\tt-", want: []vehiclesim.AckedRecord{
			{VIN: "VIN1", TxID: "t-1", Topic: "V"}}},
		{name: "malformed", content: "VIN1 t-1 V\n", wantErr: vehiclesim.ErrAckLogLine},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "acked.tsv")
			require.NoError(t, os.WriteFile(path, []byte(tc.content), 0o600))
			got, err := vehiclesim.ReadAckLog(path)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
