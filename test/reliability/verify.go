package reliability

import (
	"context"
	"fmt"
	"time"

	"github.com/fleetrelay/fleetrelay/test/vehiclesim"
)

// sampleMax bounds the examples a report lists.
const sampleMax = 5

// verify compares what the vehicles saw acked with the WAL and with what
// every sink delivered.
func (s *system) verify(ctx context.Context, index *walIndex, rep *Report) error {
	recs, err := vehiclesim.ReadAckLog(s.ackedTo)
	if err != nil {
		return fmt.Errorf("ack log: %w", err)
	}
	acked := make(map[Key]bool, len(recs))
	for _, r := range recs {
		acked[Key{r.VIN, r.TxID, r.Topic}] = true
	}
	rep.Acked = len(acked)
	index.mu.Lock()
	rep.WALEntries, rep.WALUnread, rep.HostileStored = index.entries, index.skipped, index.hostile
	index.mu.Unlock()
	// A record a forwarder delivered was in the WAL, even if retention
	// deleted it before the index read it (the index counts those entries
	// as unread).
	delivered := map[Key]bool{}
	defer func() {
		for k := range acked {
			if _, ok := index.position(k); !ok && !delivered[k] {
				rep.MissingFromWAL++
			}
		}
	}()
	for _, sink := range s.cfg.Sinks {
		if sink == "mqtt" {
			// Wait for the subscriber to receive what the broker holds.
			s.mqttSub.quiet(ctx, 2*time.Second, time.Minute)
			got, total := s.mqttSub.snapshot()
			index.mu.Lock()
			res := checkMQTT(index.mqtt, got, total)
			index.mu.Unlock()
			rep.SinkResults = append(rep.SinkResults, res)
			continue
		}
		var ds []delivery
		var torn int
		switch sink {
		case "logger":
			ds, torn, err = readLoggerFile(s.loggerTo)
		case "kafka":
			ds, err = readKafka(ctx, fmt.Sprintf("127.0.0.1:%d", s.kafkaPort), kafkaTopics)
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", sink, err)
		}
		for _, d := range ds {
			delivered[d.Key] = true
		}
		res := checkSink(sink, acked, ds, index)
		res.Torn = torn
		rep.SinkResults = append(rep.SinkResults, res)
	}
	return nil
}

// checkSink computes losses, duplicates and order for one sink's messages.
// A record counts as in order when its first delivery comes after the
// first deliveries of every earlier WAL record of its VIN in the same
// stream; re-deliveries (duplicates) may come at any point.
func checkSink(sink string, acked map[Key]bool, ds []delivery, index *walIndex) SinkResult {
	res := SinkResult{Sink: sink, Messages: len(ds)}
	seen := make(map[Key]bool, len(ds))
	seenPos := make(map[Pos]bool, len(ds))
	highest := map[string]Pos{} // VIN and stream → highest first-delivered position
	for _, d := range ds {
		pos, ok := d.Pos, d.HasPos
		if ok {
			seenPos[pos] = true
			if k, known := index.keyAt(pos); known && k != d.Key {
				res.Mismatched++
			}
		}
		if first, known := index.position(d.Key); known {
			// The first WAL copy of a record is delivered first.
			pos, ok = first, true
		}
		if !ok {
			// Delivered, at a WAL position unknown to the index: retention
			// deleted the entry before the index read it. It counts as
			// delivered; its order cannot be checked.
			res.Unmapped++
			seen[d.Key] = true
			continue
		}
		if seen[d.Key] {
			res.Duplicates++
			continue
		}
		seen[d.Key] = true
		stream := d.Key.VIN + "\x00" + d.Stream
		if h, has := highest[stream]; has && pos.less(h) {
			res.OrderViolations++
			if len(res.OrderSample) < sampleMax {
				res.OrderSample = append(res.OrderSample, fmt.Sprintf("%s txid %s at %d-%d first delivered after %d-%d",
					d.Key.VIN, d.Key.TxID, pos.Partition, pos.Index, h.Partition, h.Index))
			}
			continue
		}
		highest[stream] = pos
	}
	res.Distinct = len(seen)
	// Every WAL entry is delivered, acked or not: by position where the
	// messages name theirs, else by record.
	index.mu.Lock()
	for pos, k := range index.byPos {
		if (len(seenPos) > 0 && !seenPos[pos]) || (len(seenPos) == 0 && !seen[k]) {
			res.UndeliveredWAL++
		}
	}
	index.mu.Unlock()
	if res.Messages > 0 {
		res.DuplicateRate = float64(res.Duplicates) / float64(res.Messages)
	}
	for k := range acked {
		if !seen[k] {
			res.Lost++
			if len(res.LostSample) < sampleMax {
				res.LostSample = append(res.LostSample, fmt.Sprintf("%s txid %s topic %s", k.VIN, k.TxID, k.Topic))
			}
		}
	}
	return res
}
