// Package pubsub is the `pubsub` sink: every record is published to the
// Google Cloud Pub/Sub topic "<namespace>_<topic>" of `gcp_project_id`,
// with the reference's metadata plus fleetrelay's record_id as attributes
// and the VIN as ordering key (message ordering on, so one vehicle's records
// keep their order for subscriptions with ordering enabled). Write returns
// nil only when every PublishResult has succeeded. The client retries a
// publish for at most 10 s; give Write a longer context, or a publish
// abandoned by an expired context may still land after its retry.
//
// When a publish fails the client pauses that ordering key; the sink
// resumes it after reporting the failure, so that the retried records (and
// the later ones of that VIN, which failed with it) go out in order.
//
// PUBSUB_EMULATOR_HOST is honoured by the client library. As in the
// reference, setting it together with GOOGLE_APPLICATION_CREDENTIALS is a
// configuration error. With `create_topics` (default true, the reference
// creates topics at startup) a missing topic is created before the first
// publish to it, and again if it disappears.
package pubsub

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	gpubsub "cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/message"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/sinkmetrics"
	"github.com/fleetrelay/fleetrelay/shared/config"
)

// Name is the dispatcher name of this sink.
const Name = "pubsub"

// publishTimeout bounds the client library's own retries of a publish, so
// that a Write whose context outlives it always learns every outcome and
// leaves no message in flight behind it.
const publishTimeout = 10 * time.Second

// ErrEmulatorWithCredentials is returned by New when both
// PUBSUB_EMULATOR_HOST and GOOGLE_APPLICATION_CREDENTIALS are set.
var ErrEmulatorWithCredentials = errors.New("pubsub: PUBSUB_EMULATOR_HOST and GOOGLE_APPLICATION_CREDENTIALS are both set, use one")

// Sink publishes records to Pub/Sub.
type Sink struct {
	client  *gpubsub.Client
	project string
	create  bool
	set     datastore.Settings
	builder message.Builder
	metrics *sinkmetrics.Metrics

	mu         sync.Mutex
	publishers map[string]*gpubsub.Publisher
	created    map[string]bool
	closed     bool
}

// New returns a Pub/Sub sink for the `pubsub` section; opts are passed to
// the client (credentials, endpoint, ...).
func New(ctx context.Context, cfg *config.PubSubConfig, set datastore.Settings, opts ...option.ClientOption) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if os.Getenv("PUBSUB_EMULATOR_HOST") != "" && os.Getenv("GOOGLE_APPLICATION_CREDENTIALS") != "" {
		return nil, ErrEmulatorWithCredentials
	}
	cfg = cfg.WithDefaults()
	set = set.WithDefaults()
	m, err := sinkmetrics.New(set.MeterProvider, Name)
	if err != nil {
		return nil, err
	}
	client, err := gpubsub.NewClient(ctx, cfg.GCPProjectID, opts...)
	if err != nil {
		return nil, fmt.Errorf("pubsub: new client: %w", err)
	}
	return &Sink{
		client: client, project: cfg.GCPProjectID, create: *cfg.CreateTopics,
		set: set, builder: message.NewBuilder(set), metrics: m,
		publishers: map[string]*gpubsub.Publisher{}, created: map[string]bool{},
	}, nil
}

// Name returns "pubsub".
func (s *Sink) Name() string { return Name }

// publisher returns the publisher of topic id, creating the topic first
// when configured to (outside the lock: it is a network call).
func (s *Sink) publisher(ctx context.Context, id string) (*gpubsub.Publisher, error) {
	p, needTopic, err := s.lookup(id)
	if err != nil || !needTopic {
		return p, err
	}
	if err := s.createTopic(ctx, id); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.created[id] = true
	return p, nil
}

// lookup returns the publisher of id (made on first use) and whether the
// topic still has to be created.
func (s *Sink) lookup(id string) (*gpubsub.Publisher, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, false, datastore.ErrClosed
	}
	p := s.publishers[id]
	if p == nil {
		p = s.client.Publisher(id)
		p.EnableMessageOrdering = true
		p.PublishSettings.Timeout = publishTimeout
		s.publishers[id] = p
	}
	return p, s.create && !s.created[id], nil
}

func (s *Sink) createTopic(ctx context.Context, id string) error {
	name := fmt.Sprintf("projects/%s/topics/%s", s.project, id)
	_, err := s.client.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: name})
	switch status.Code(err) {
	case codes.OK:
		s.set.Logger.Info("pubsub topic created", "topic", name)
		return nil
	case codes.AlreadyExists:
		return nil
	case codes.PermissionDenied:
		// The topic may exist; publishing will tell.
		s.set.Logger.Warn("pubsub topic not created", "topic", name, "error", err)
		return nil
	default:
		return classify(fmt.Errorf("pubsub: create topic %s: %w", name, err))
	}
}

// forgetTopic makes the next Write create topic id again (it was deleted,
// or the emulator restarted).
func (s *Sink) forgetTopic(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.created, id)
}

// Close stops every publisher (flushing what is pending) and closes the
// client; safe to call twice.
func (s *Sink) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	for _, p := range s.publishers {
		p.Stop()
	}
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("pubsub: close: %w", err)
	}
	return nil
}
