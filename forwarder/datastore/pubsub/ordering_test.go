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
// record is permanent and pauses its ordering key in the client; because the
// sink resumes the key, the next Write on the same VIN is published, in
// order.
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
	err := s.Write(t.Context(), batch[:1])
	var partial *datastore.PartialError
	require.ErrorAs(t, err, &partial)
	require.True(t, datastore.IsPermanent(partial.Errs[0]), "%v", partial.Errs[0])
	require.NoError(t, s.Write(t.Context(), batch[1:]), "the ordering key was resumed")

	got := published(srv, "ord_V")
	require.Len(t, got, 49)
	for i, m := range got {
		require.Equal(t, uint64(i+2), datastoretest.SyntheticIndex(t, m.Data))
		require.Equal(t, datastoretest.VIN(0), m.OrderingKey)
	}
}
