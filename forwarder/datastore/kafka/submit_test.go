package kafka

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/datastoretest"
	"github.com/fleetrelay/fleetrelay/shared/config"
)

func TestKafkaPipelinesOnlyWhenIdempotent(t *testing.T) {
	c := newCluster(t)
	addr := c.ListenAddrs()[0]
	require.True(t, newSink(t, addr, datastore.Settings{}, nil).Pipelines(), "idempotent by default")
	require.True(t, newSink(t, addr, datastore.Settings{}, config.KafkaConfig{"enable.idempotence": "true"}).Pipelines())
	require.False(t, newSink(t, addr, datastore.Settings{}, config.KafkaConfig{"enable.idempotence": false}).Pipelines())
}

// TestKafkaSubmitsInFlightKeepOrder submits several batches before
// confirming any, as the pipeline does, and checks that the consumer sees
// every VIN's records in index order.
func TestKafkaSubmitsInFlightKeepOrder(t *testing.T) {
	const batches, size, vins = 8, 250, 7
	c := newCluster(t)
	addr := c.ListenAddrs()[0]
	s := newSink(t, addr, datastore.Settings{Namespace: "order"}, nil)
	recs := datastoretest.Synthetic(t, 1, batches*size, vins)
	var pending []func() error
	for b := range batches {
		confirm := s.Submit(t.Context(), recs[b*size:(b+1)*size])
		pending = append(pending, func() error { return confirm(t.Context()) })
	}
	for i, confirm := range pending {
		require.NoError(t, confirm(), "batch %d", i)
	}
	dups := checkOrderPerVIN(t, consumeAll(t, addr, "order_V", len(recs)), len(recs))
	require.Zero(t, dups)
}
