package sinktest_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/sinktest"
	"github.com/fleetrelay/fleetrelay/protos/walpb"
)

func TestFileSinkIgnoresTornLastLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out")
	s, err := sinktest.OpenFileSink("kafka", path)
	require.NoError(t, err)
	batch := []datastore.Record{
		{Partition: 1, Index: 7, WAL: &walpb.Record{Vin: "V1", Txid: []byte("a")}},
		{Partition: 1, Index: 8, WAL: &walpb.Record{Vin: "V2", Txid: []byte("b")}},
	}
	require.NoError(t, s.Write(t.Context(), batch))
	require.NoError(t, s.Close(t.Context()))
	require.NoError(t, s.Close(t.Context()), "close twice")

	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("1 9 V3") // a write cut short by a kill
	require.NoError(t, err)
	require.NoError(t, f.Close())

	lines, err := sinktest.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, []sinktest.Line{{Partition: 1, Index: 7, VIN: "V1", TxID: "a"}, {Partition: 1, Index: 8, VIN: "V2", TxID: "b"}}, lines)
}

func TestScripts(t *testing.T) {
	recs := []datastore.Record{{Index: 1, WAL: &walpb.Record{Vin: "A"}}, {Index: 2, WAL: &walpb.Record{Vin: "B"}}}
	s := sinktest.New("mqtt", sinktest.Seq(
		sinktest.FailFirst(1, sinktest.ErrUnavailable),
		sinktest.RejectIf(func(_ int, r datastore.Record) error {
			if r.WAL.GetVin() == "B" {
				return sinktest.ErrUnavailable
			}
			return nil
		}),
	))
	require.ErrorIs(t, s.Write(t.Context(), recs), sinktest.ErrUnavailable)
	require.Empty(t, s.Accepted())
	var pe *datastore.PartialError
	require.ErrorAs(t, s.Write(t.Context(), recs), &pe)
	require.Equal(t, []int{1}, pe.Failed)
	require.Equal(t, map[string]int{"0-1": 1}, sinktest.Counts(s.Accepted()))
	require.Equal(t, 2, s.Calls())
}
