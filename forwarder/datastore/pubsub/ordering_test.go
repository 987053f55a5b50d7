package pubsub

import (
	"fmt"
	"sync/atomic"
	"testing"

	"cloud.google.com/go/pubsub/v2/pstest"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/datastoretest"
)

// failFirstPublishes rejects the first n Publish calls with InvalidArgument
// (an error the client library does not retry).
type failFirstPublishes struct{ left atomic.Int32 }

func (f *failFirstPublishes) React(any) (bool, any, error) {
	if f.left.Add(-1) >= 0 {
		return true, nil, status.Error(codes.InvalidArgument, "injected rejection")
	}
	return false, nil, nil
}

// TestPubSubOrderingKeyResumed makes the first publish fail: the rejected
// records are permanent, the ones queued behind them on the same ordering
// key fail as paused (transient), and because the sink resumes the key the
// retry of the transient ones is published, in order.
func TestPubSubOrderingKeyResumed(t *testing.T) {
	reactor := &failFirstPublishes{}
	reactor.left.Store(1)
	addr := fmt.Sprintf("127.0.0.1:%d", datastoretest.FreePort(t))
	srv := pstest.NewServerWithAddress(addr, pstest.ServerReactorOption{FuncName: "Publish", Reactor: reactor})
	t.Cleanup(func() { _ = srv.Close() })
	t.Setenv("PUBSUB_EMULATOR_HOST", srv.Addr)
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	s := newSink(t, datastore.Settings{Namespace: "ord"}, true)

	batch := datastoretest.Synthetic(t, 1, 50, 1)
	err := s.Write(t.Context(), batch)
	var partial *datastore.PartialError
	require.ErrorAs(t, err, &partial)
	var retry []datastore.Record
	permanent := 0
	for j, i := range partial.Failed {
		if datastore.IsPermanent(partial.Errs[j]) {
			permanent++
			continue
		}
		retry = append(retry, batch[i])
	}
	require.Positive(t, permanent, "the rejected bundle is permanent")
	require.NotEmpty(t, retry, "records behind the rejected ones wait on the paused key")
	require.NoError(t, s.Write(t.Context(), retry), "the ordering key was resumed")

	var last uint64
	for _, m := range published(srv, "ord_V") {
		idx := datastoretest.SyntheticIndex(t, m.Data)
		require.Greater(t, idx, last)
		last = idx
	}
}
