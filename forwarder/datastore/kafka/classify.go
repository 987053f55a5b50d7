package kafka

import (
	"errors"
	"fmt"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
)

// permanentCodes are the errors with which Kafka rejects the record itself:
// sending it again cannot succeed.
var permanentCodes = map[ckafka.ErrorCode]bool{
	ckafka.ErrMsgSizeTooLarge:             true, // broker: message larger than max.message.bytes
	ckafka.ErrInvalidMsgSize:              true, // broker: invalid message size
	ckafka.ErrInvalidMsg:                  true, // broker: CRC or format invalid
	ckafka.ErrTopicException:              true, // broker: invalid topic name
	ckafka.ErrInvalidRecord:               true, // broker: record rejected by validation
	ckafka.ErrPolicyViolation:             true,
	ckafka.ErrRecordListTooLarge:          true,
	ckafka.ErrUnsupportedForMessageFormat: true,
}

// classify wraps a delivery or produce error per the Sink contract.
// Authorization and unknown-topic errors stay transient: an operator can
// fix them and nothing should be dead-lettered for a misconfiguration.
func classify(err error) error {
	var kerr ckafka.Error
	if !errors.As(err, &kerr) {
		return err
	}
	if permanentCodes[kerr.Code()] {
		return datastore.Permanent(err)
	}
	return err
}

// isFatal reports whether err means the producer instance is unusable.
func isFatal(err error) bool {
	var kerr ckafka.Error
	return errors.As(err, &kerr) && (kerr.IsFatal() || kerr.Code() == ckafka.ErrFatal)
}

func recordErr(rec datastore.Record, dest string, err error) error {
	return fmt.Errorf("kafka: record %s to %s: %w", rec.ID(), dest, err)
}
