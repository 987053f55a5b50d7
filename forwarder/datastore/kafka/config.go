package kafka

import (
	"errors"
	"fmt"
	"math"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/fleetrelay/fleetrelay/shared/config"
)

// defaults are the producer properties fleetrelay sets unless the `kafka`
// section does: an idempotent producer acknowledged by all in-sync
// replicas, so that librdkafka's own retries neither lose nor duplicate nor
// reorder records.
var defaults = ckafka.ConfigMap{
	"enable.idempotence": true,
	"acks":               "all",
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
	for k, v := range defaults {
		out[k] = v
	}
	for k, v := range cfg {
		out[k] = convert(v)
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
