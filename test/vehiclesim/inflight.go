package vehiclesim

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/gorilla/websocket"

	"github.com/fleetrelay/fleetrelay/protos/envelope"
)

// topicBytes avoids a conversion per frame.
var topicBytes = map[string][]byte{TopicV: []byte(TopicV), TopicAlerts: []byte(TopicAlerts), TopicErrors: []byte(TopicErrors)}

// sendNew generates a record, registers it in flight and transmits it. The
// caller holds a window slot for it.
func (v *vehicle) sendNew(conn *websocket.Conn) error {
	now := time.Now()
	v.mu.Lock()
	rec := v.takeFree()
	v.mu.Unlock()
	topic, payload, err := v.gen.next(now, rec.payload[:0])
	if err != nil {
		v.mu.Lock()
		v.free = append(v.free, rec)
		v.mu.Unlock()
		v.slots <- struct{}{}
		return err
	}
	v.seq++
	rec.seq, rec.topic, rec.payload, rec.resent = v.seq, topic, payload, false
	rec.createdAt = uint32(now.Unix())
	rec.txid = strconv.AppendUint(append(rec.txid[:0], v.txPrefix...), v.seq, 10)
	rec.messageID = strconv.AppendUint(append(append(rec.messageID[:0], v.vin...), '-'), v.seq, 10)
	rec.sentAt = now
	v.mu.Lock()
	v.inflight[string(rec.txid)] = rec // before the write: the ack may come at once
	n := len(v.inflight)
	v.mu.Unlock()
	v.stats.sent(n)
	return v.transmit(conn, rec)
}

// takeFree returns a recycled record or a new one. Call with v.mu held.
func (v *vehicle) takeFree() *record {
	if n := len(v.free); n > 0 {
		rec := v.free[n-1]
		v.free = v.free[:n-1]
		return rec
	}
	return &record{}
}

// resend retransmits, in sequence order, every record in flight (all) or
// those sent longer than the resend timeout ago. A resent V record carries
// is_resend; txid and message_id are kept.
func (v *vehicle) resend(conn *websocket.Conn, now time.Time, all bool) error {
	due := v.collectDue(now, all)
	for _, rec := range due {
		if err := v.transmit(conn, rec); err != nil {
			return err
		}
	}
	if len(due) > 0 {
		v.stats.update(func(c *counters) { c.Resends += int64(len(due)) })
	}
	return nil
}

// collectDue marks the records to resend and returns them. The returned
// records may be settled concurrently, but they are recycled only by the
// sender goroutine, after the transmission.
func (v *vehicle) collectDue(now time.Time, all bool) []*record {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.due = v.due[:0]
	cutoff := now.Add(-v.cfg.ResendTimeout)
	for _, rec := range v.inflight {
		if all || !rec.sentAt.After(cutoff) {
			if rec.topic == TopicV && !rec.resent {
				rec.payload, rec.resent = append(rec.payload, isResendTrue...), true
			}
			rec.sentAt = now
			v.due = append(v.due, rec)
		}
	}
	slices.SortFunc(v.due, func(a, b *record) int { return cmp.Compare(a.seq, b.seq) })
	return v.due
}

// transmit writes one record's frame.
func (v *vehicle) transmit(conn *websocket.Conn, rec *record) error {
	frame := v.enc.Stream(rec.txid, topicBytes[rec.topic], rec.messageID, envelope.Stream{
		CreatedAt: rec.createdAt, SenderID: v.senderID, Payload: rec.payload,
		DeviceType: v.devType, DeviceID: v.deviceID,
	})
	if err := conn.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return fmt.Errorf("set write deadline: %w", err)
	}
	if err := conn.WriteMessage(websocket.BinaryMessage, frame); err != nil {
		return fmt.Errorf("write record: %w", err)
	}
	return nil
}

// readLoop settles records as their answers arrive, until the connection fails.
func (v *vehicle) readLoop(conn *websocket.Conn) error {
	var env envelope.Envelope
	for {
		_, r, err := conn.NextReader()
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		v.rbuf.Reset()
		if _, err := v.rbuf.ReadFrom(r); err != nil {
			return fmt.Errorf("read answer: %w", err)
		}
		buf := v.rbuf.Bytes()
		err = envelope.Decode(buf, &env)
		switch {
		case err == nil && env.Type == envelope.TypeStream:
			v.settle(env.TxID, false)
		case errors.Is(err, envelope.ErrNotStream) && env.Type == envelope.TypeStreamAck:
			v.settle(env.TxID, true)
		default:
			v.log.Warn("vehicle_unexpected_answer", "err", err, "type", env.Type, "len", len(buf))
			v.stats.update(func(c *counters) { c.StrayAcks++ })
		}
	}
}

// settle ends a record's flight: an ack (logged to the ack log) or an error
// frame. Answers for no record in flight are counted as stray.
func (v *vehicle) settle(txid []byte, acked bool) {
	now := time.Now()
	v.mu.Lock()
	rec, ok := v.inflight[string(txid)]
	if !ok {
		v.mu.Unlock()
		v.stats.update(func(c *counters) { c.StrayAcks++ })
		return
	}
	delete(v.inflight, string(txid))
	if acked && v.acks != nil {
		v.acks.Record(v.vin, rec.txid, rec.topic)
	}
	latency, n := now.Sub(rec.sentAt), len(v.inflight)
	v.free = append(v.free, rec)
	v.mu.Unlock()
	v.stats.settled(acked, latency, n)
	v.slots <- struct{}{} // never blocks: tokens out = records in flight
}

// drain takes back every window slot, i.e. waits for the answers of all
// records in flight (resending overdue ones), then closes the connection
// normally. It fails if the connection is lost or drainCtx ends first.
func (v *vehicle) drain(drainCtx context.Context, conn *websocket.Conn, done <-chan struct{}) error {
	tick := time.NewTicker(max(v.cfg.ResendTimeout/4, minResendCheck))
	defer tick.Stop()
	for v.held < v.cfg.Window {
		if err := await(drainCtx, v, conn, done, tick, v.slots); err != nil {
			return err
		}
		v.held++
	}
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	_ = conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	return nil
}
