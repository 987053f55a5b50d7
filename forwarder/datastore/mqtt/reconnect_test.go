package mqtt

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/datastoretest"
	"github.com/fleetrelay/fleetrelay/shared/config"
)

// TestMQTTNoStaleResendAfterReconnect has another client take the sink's
// client id over again and again, so that the broker closes the sink's
// connection with publishes in flight, while Writes are retried as the
// pipeline retries them (from the first failed record, with every later
// record of the vehicle). A failed publish must not be sent again by the
// client on its own after it reconnects: it would land after the retried
// later records, and the last delivery of each record would no longer be in
// order.
func TestMQTTNoStaleResendAfterReconnect(t *testing.T) {
	b := startBroker(t)
	sub := subscribe(t, b, "takeover/#")
	s := newSink(t, config.MQTTConfig{
		Broker: b.plainURL(), TopicBase: "takeover", QoS: 1, ClientID: "takeover",
		PublishTimeoutMs: 300, ConnectRetryIntervalMs: 20,
	})

	stop := make(chan struct{})
	var wg sync.WaitGroup
	takeovers := 0
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(40 * time.Millisecond):
			}
			c := paho.NewClient(paho.NewClientOptions().AddBroker(b.plainURL()).SetClientID("takeover"))
			if tok := c.Connect(); tok.WaitTimeout(2*time.Second) && tok.Error() == nil {
				takeovers++
				c.Disconnect(0)
			}
		}
	})

	const batches, size = 25, 100
	failures := 0
	for bn := range batches {
		recs := datastoretest.Synthetic(t, uint64(bn*size+1), size, 1)
		for attempt := 0; len(recs) > 0; attempt++ {
			require.Less(t, attempt, 500, "batch %d never published", bn)
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			err := s.Write(ctx, recs)
			cancel()
			if err == nil {
				break
			}
			failures++
			require.False(t, datastore.IsPermanent(err), "%v", err)
			var pe *datastore.PartialError
			if errors.As(err, &pe) && len(pe.Failed) > 0 {
				recs = recs[slices.Min(pe.Failed):]
			}
		}
	}
	close(stop)
	wg.Wait()
	require.Positive(t, failures, "no Write failed: the takeovers did not cut the connection")

	const topic = "takeover/" + "5YJ3E1EA1KF000000" + "/v/Odometer"
	got := sub.waitFor(t, "every record", func(m map[string][][]byte) bool { return len(indexes(t, m)) == batches*size })
	msgs := got[topic]
	last := map[uint64]int{}
	values := make([]uint64, len(msgs))
	for i, p := range msgs {
		n, err := strconv.ParseUint(string(p), 10, 64)
		require.NoError(t, err)
		values[i] = n
		last[n] = i
	}
	var prev uint64
	outOfOrder := 0
	for i, n := range values {
		if last[n] != i {
			continue
		}
		if n < prev {
			outOfOrder++
			lo, hi := max(0, i-8), min(len(values), i+3)
			t.Logf("record %d last delivered (message %d) after %d; messages %d…%d: %v", n, i, prev, lo, hi-1, values[lo:hi])
		}
		prev = n
	}
	t.Logf("%d takeovers, %d failed Writes, %d messages for %d records", takeovers, failures, len(msgs), batches*size)
	require.Zero(t, outOfOrder, "records whose last delivery came after a later record's")
}
