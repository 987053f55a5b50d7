package pipeline

import (
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v5"
	"google.golang.org/protobuf/proto"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
)

// Failure reasons, the values of the `reason` metric label.
const (
	reasonTransient = "transient"
	reasonThrottled = "throttled"
	reasonPermanent = "permanent"
)

// rejection is a record the datastore refused permanently, with its error
// (nil: the batch's error applies).
type rejection struct {
	rec datastore.Record
	err error
}

// outcome is what one Sink.Write did to a batch.
type outcome struct {
	delivered []datastore.Record // accepted and not sent again
	retry     []datastore.Record // to write again, in WAL order
	followers int                // records of retry that were accepted but are resent for VIN order
	dead      []rejection
	throttle  time.Duration // the longest wait the datastore asked for
	reason    string        // why retry is not empty
}

// wait is the pause before the next attempt: the backoff's next interval,
// or the datastore's requested wait when that is longer.
func (o outcome) wait(bo backoff.BackOff) time.Duration {
	return max(bo.NextBackOff(), o.throttle)
}

// classify sorts the records of a Write by the error it returned.
func classify(recs []datastore.Record, err error) outcome {
	if err == nil {
		return outcome{delivered: recs}
	}
	var pe *datastore.PartialError
	if errors.As(err, &pe) {
		if o, ok := partial(recs, pe); ok {
			return o
		}
		err = fmt.Errorf("%w: %w", errInvalidPartial, err)
	}
	if datastore.IsPermanent(err) {
		dead := make([]rejection, len(recs))
		for i, r := range recs {
			dead[i] = rejection{rec: r}
		}
		return outcome{dead: dead}
	}
	return outcome{retry: recs, throttle: throttleOf(err), reason: transientReason(err)}
}

// partial applies a PartialError. A failed record is retried (or
// dead-lettered if its error is permanent); every later record of the same
// VIN is retried after it even if it was accepted, so that the last delivery
// of each record of a VIN is in WAL order. ok is false when pe does not
// describe recs.
func partial(recs []datastore.Record, pe *datastore.PartialError) (outcome, bool) {
	failed, ok := failedSet(len(recs), pe)
	if !ok {
		return outcome{}, false
	}
	o := outcome{reason: reasonTransient}
	blocked := make(map[string]bool)
	for i, r := range recs {
		ferr, isFailed := failed[i]
		vin := r.WAL.GetVin()
		switch {
		case isFailed && datastore.IsPermanent(ferr):
			o.dead = append(o.dead, rejection{rec: r, err: ferr})
		case isFailed:
			o.retry = append(o.retry, r)
			blocked[vin] = true
			o.throttle = max(o.throttle, throttleOf(ferr))
		case blocked[vin]:
			o.retry = append(o.retry, r)
			o.followers++
		default:
			o.delivered = append(o.delivered, r)
		}
	}
	if o.throttle > 0 {
		o.reason = reasonThrottled
	}
	return o, true
}

// failedSet maps each failed batch position to its error.
func failedSet(n int, pe *datastore.PartialError) (map[int]error, bool) {
	if len(pe.Failed) == 0 || (len(pe.Errs) != 0 && len(pe.Errs) != len(pe.Failed)) {
		return nil, false
	}
	failed := make(map[int]error, len(pe.Failed))
	for i, idx := range pe.Failed {
		if idx < 0 || idx >= n {
			return nil, false
		}
		err := errors.New("record not accepted")
		if len(pe.Errs) != 0 && pe.Errs[i] != nil {
			err = pe.Errs[i]
		}
		failed[idx] = err
	}
	return failed, true
}

func throttleOf(err error) time.Duration {
	var te *datastore.ThrottledError
	if errors.As(err, &te) {
		return te.After
	}
	return 0
}

func transientReason(err error) string {
	if throttleOf(err) > 0 {
		return reasonThrottled
	}
	return reasonTransient
}

func marshal(r datastore.Record) ([]byte, error) {
	b, err := proto.Marshal(r.WAL)
	if err != nil {
		return nil, fmt.Errorf("marshal record %s: %w", r.ID(), err)
	}
	return b, nil
}
