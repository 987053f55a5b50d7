package datastore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
)

func TestRecordID(t *testing.T) {
	require.Equal(t, "3-42", datastore.Record{Partition: 3, Index: 42}.ID())
}

func TestErrorClasses(t *testing.T) {
	base := errors.New("boom")
	tests := []struct {
		name      string
		err       error
		permanent bool
		throttled bool
	}{
		{"transient", base, false, false},
		{"permanent", datastore.Permanent(base), true, false},
		{"throttled", datastore.RetryAfter(base, time.Second), false, true},
		{"nil_permanent", datastore.Permanent(nil), false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.permanent, datastore.IsPermanent(tc.err))
			var thr *datastore.ThrottledError
			require.Equal(t, tc.throttled, errors.As(tc.err, &thr))
		})
	}
}

func TestPartialError(t *testing.T) {
	var empty datastore.PartialError
	require.NoError(t, empty.Err())

	p := &datastore.PartialError{}
	perm := datastore.Permanent(errors.New("too large"))
	p.Add(1, errors.New("timeout"))
	p.Add(4, perm)
	err := p.Err()
	require.Error(t, err)
	require.Equal(t, []int{1, 4}, p.Failed)
	require.ErrorIs(t, err, perm, "Unwrap exposes the per-record errors")
	require.Contains(t, err.Error(), "2 records failed")
}

func TestSettingsWithDefaults(t *testing.T) {
	s := datastore.Settings{Namespace: "n"}.WithDefaults()
	require.NotNil(t, s.Logger)
	require.NotNil(t, s.MeterProvider)
	require.Equal(t, "n", s.Namespace)
}

type plainSink struct{}

func (plainSink) Name() string                                    { return "plain" }
func (plainSink) Write(context.Context, []datastore.Record) error { return nil }
func (plainSink) Close(context.Context) error                     { return nil }

type sizedSink struct{ plainSink }

func (sizedSink) BatchMaxRecords() int { return 1234 }

func TestPreferredBatchMaxRecords(t *testing.T) {
	require.Zero(t, datastore.PreferredBatchMaxRecords(plainSink{}), "no preference")
	require.Equal(t, 1234, datastore.PreferredBatchMaxRecords(sizedSink{}))
}
