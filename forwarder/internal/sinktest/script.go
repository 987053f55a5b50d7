package sinktest

import (
	"errors"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
)

// ErrUnavailable is the transient error the scripts return.
var ErrUnavailable = errors.New("sinktest: datastore unavailable")

// FailFirst fails the first n calls with err and accepts the rest.
func FailFirst(n int, err error) Script {
	return func(call int, _ []datastore.Record) error {
		if call <= n {
			return err
		}
		return nil
	}
}

// RejectIf fails, with a PartialError, the records for which match returns a
// non-nil error (which may be datastore.Permanent), and accepts the others.
func RejectIf(match func(call int, r datastore.Record) error) Script {
	return func(call int, batch []datastore.Record) error {
		pe := &datastore.PartialError{}
		for i, r := range batch {
			if err := match(call, r); err != nil {
				pe.Failed = append(pe.Failed, i)
				pe.Errs = append(pe.Errs, err)
			}
		}
		if len(pe.Failed) == 0 {
			return nil
		}
		return pe
	}
}

// Seq runs the scripts in order and returns the first non-nil error.
func Seq(scripts ...Script) Script {
	return func(call int, batch []datastore.Record) error {
		for _, s := range scripts {
			if err := s(call, batch); err != nil {
				return err
			}
		}
		return nil
	}
}

// Counts returns how many times each record ID was accepted.
func Counts(recs []datastore.Record) map[string]int {
	out := make(map[string]int, len(recs))
	for _, r := range recs {
		out[r.ID()]++
	}
	return out
}
