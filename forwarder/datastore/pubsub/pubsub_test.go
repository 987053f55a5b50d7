package pubsub

import (
	"context"
	"fmt"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/pstest"
	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/datastoretest"
	"github.com/fleetrelay/fleetrelay/shared/config"
)

const project = "fleetrelay-test"

// startEmulator starts pstest in-process on addr ("" for any port) and
// points PUBSUB_EMULATOR_HOST at it.
func startEmulator(t testing.TB, addr string) *pstest.Server {
	t.Helper()
	if addr == "" {
		addr = fmt.Sprintf("127.0.0.1:%d", datastoretest.FreePort(t))
	}
	srv := pstest.NewServerWithAddress(addr)
	t.Cleanup(func() { _ = srv.Close() })
	t.Setenv("PUBSUB_EMULATOR_HOST", srv.Addr)
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	return srv
}

func newSink(t testing.TB, set datastore.Settings, create bool) *Sink {
	t.Helper()
	s, err := New(t.Context(), &config.PubSubConfig{GCPProjectID: project, CreateTopics: &create}, set)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// published returns the messages of topic id in publish order (pstest keeps
// them in a slice in that order).
func published(srv *pstest.Server, id string) []*pstest.Message {
	var out []*pstest.Message
	for _, m := range srv.Messages() {
		if m.Topic == fmt.Sprintf("projects/%s/topics/%s", project, id) {
			out = append(out, m)
		}
	}
	return out
}

func TestPubSubConformance(t *testing.T) {
	srv := startEmulator(t, "")
	datastoretest.RunConformance(t,
		func(t *testing.T, set datastore.Settings) datastore.Sink { return newSink(t, set, true) },
		func(t *testing.T, id string, n int) []datastoretest.Delivered {
			msgs := published(srv, id)
			require.Len(t, msgs, n, id)
			out := make([]datastoretest.Delivered, len(msgs))
			for i, m := range msgs {
				out[i] = datastoretest.Delivered{Destination: id, Key: m.OrderingKey, Value: m.Data, Headers: m.Attributes}
			}
			return out
		},
		datastoretest.Options{Key: true, Headers: true})
}

func TestPubSubEmulatorWithCredentialsFails(t *testing.T) {
	t.Setenv("PUBSUB_EMULATOR_HOST", "127.0.0.1:1")
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent.json")
	_, err := New(t.Context(), &config.PubSubConfig{GCPProjectID: project}, datastore.Settings{})
	require.ErrorIs(t, err, ErrEmulatorWithCredentials)
}

func TestPubSubMissingTopicWithoutCreation(t *testing.T) {
	startEmulator(t, "")
	s := newSink(t, datastore.Settings{Namespace: "nocreate"}, false)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	err := s.Write(ctx, datastoretest.Synthetic(t, 1, 3, 1))
	var partial *datastore.PartialError
	require.ErrorAs(t, err, &partial)
	require.Len(t, partial.Failed, 3)
	require.False(t, datastore.IsPermanent(partial.Errs[0]), "a missing topic can be created: transient")
}

// TestPubSubServerRestart stops the emulator mid-run and starts an empty
// one on the same address: Writes fail transiently, the sink recreates the
// topic, resumes the paused ordering keys, and every record is published.
func TestPubSubServerRestart(t *testing.T) {
	srv := startEmulator(t, "")
	addr := srv.Addr
	s := newSink(t, datastore.Settings{Namespace: "rs"}, true)
	const batches, size = 6, 200
	seen := map[uint64]bool{}
	collect := func(srv *pstest.Server) {
		for _, m := range published(srv, "rs_V") {
			seen[datastoretest.SyntheticIndex(t, m.Data)] = true
		}
	}
	failures := 0
	for b := range batches {
		if b == 2 {
			collect(srv)
			require.NoError(t, srv.Close())
		}
		recs := datastoretest.Synthetic(t, uint64(b*size+1), size, 5)
		for attempt := 0; len(recs) > 0; attempt++ {
			require.Less(t, attempt, 50, "batch %d never delivered", b)
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			err := s.Write(ctx, recs)
			cancel()
			if err == nil {
				break
			}
			failures++
			require.False(t, datastore.IsPermanent(err), "%v", err)
			if attempt == 1 && b == 2 {
				srv = startEmulator(t, addr)
			}
		}
	}
	collect(srv)
	require.Positive(t, failures, "the outage was not observed")
	require.Len(t, seen, batches*size)
	last := map[string]uint64{}
	for _, m := range published(srv, "rs_V") {
		idx := datastoretest.SyntheticIndex(t, m.Data)
		require.GreaterOrEqual(t, idx, last[m.OrderingKey], "order broken for %s", m.OrderingKey)
		last[m.OrderingKey] = idx
	}
	t.Logf("server restart: %d failed Writes", failures)
}
