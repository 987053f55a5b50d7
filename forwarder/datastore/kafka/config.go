package kafka

import (
	"errors"
	"fmt"
	"math"
	"slices"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/fleetrelay/fleetrelay/shared/config"
)

// defaults are the producer properties fleetrelay sets unless the `kafka`
// section does: an idempotent producer acknowledged by all in-sync
// replicas, so that librdkafka's own retries neither lose nor duplicate nor
// reorder records.
//
// One produce request in flight per broker connection: with librdkafka's
// default of five, its broker threads called poll() with a zero timeout
// 3.3 to 5.7 million times while a million records were delivered to
// kfake (perf, syscalls:sys_enter_poll), a busy loop that was the larger
// part of the producer's CPU; with one, 45,000 to 57,000 times. Records
// that arrive while a request is in flight go out together in the next
// one, so batching follows the broker's round trip, and the sink keeps
// several batches in flight itself (forwarder.prefetch_batches).
//
// lz4 compression of each produce batch: consumers decompress it
// transparently (message values, keys and headers are unchanged), and the
// broker stores and copies fewer bytes. Draining a 1,000,000-record WAL
// backlog into kfake went from 65-78k to 83-100k records/s (2 alternate
// rounds each, quiet machine, docs/BENCHMARKS.md); "none" turns it off.
var defaults = []struct {
	// names are the property and its librdkafka aliases: a default applies
	// only when the section sets none of them, since librdkafka would take
	// whichever of two aliases it happened to apply last.
	names []string
	value ckafka.ConfigValue
}{
	{[]string{"enable.idempotence"}, true},
	{[]string{"acks", "request.required.acks"}, "all"},
	{[]string{"max.in.flight.requests.per.connection", "max.in.flight"}, 1},
	{[]string{"compression.type", "compression.codec"}, "lz4"},
}

// configMap turns the `kafka` section into librdkafka properties: values
// pass through, whole JSON numbers become ints (as the reference converts
// them), the defaults above fill gaps, and delivery reports are forced on
// (without the key and value) because Write depends on them.
func configMap(cfg config.KafkaConfig) (ckafka.ConfigMap, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	out := ckafka.ConfigMap{}
	for k, v := range cfg {
		out[k] = convert(v)
	}
	for _, d := range defaults {
		if !slices.ContainsFunc(d.names, func(n string) bool { _, ok := out[n]; return ok }) {
			out[d.names[0]] = d.value
		}
	}
	if v, ok := out["go.delivery.reports"]; ok && v != true {
		return nil, errors.New("kafka.go.delivery.reports: must be true, delivery reports confirm every record")
	}
	out["go.delivery.reports"] = true
	if _, ok := out["go.delivery.report.fields"]; ok {
		return nil, fmt.Errorf("kafka.go.delivery.report.fields: not supported, the sink sets it")
	}
	// A delivery report needs only the topic, the error and the opaque
	// batch position, which confluent-kafka-go always fills; not copying the
	// key and value back out of librdkafka saves two allocations per record.
	out["go.delivery.report.fields"] = "none"
	return out, nil
}

func convert(v any) ckafka.ConfigValue {
	if f, ok := v.(float64); ok && f == math.Trunc(f) && math.Abs(f) < math.MaxInt32 {
		return int(f)
	}
	return v
}
