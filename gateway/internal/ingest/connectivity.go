package ingest

import (
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
	"github.com/fleetrelay/fleetrelay/protos/walpb"
	"github.com/fleetrelay/fleetrelay/shared/record"
)

// Connectivity builds the record the gateway generates itself when a
// vehicle connects or disconnects: a VehicleConnectivity with the
// certificate VIN, the connection id, the X-Network-Interface header,
// created_at = now and the status. Its txid is the connection id and it is
// marked generated (it is never acked). It returns nil when the
// "connectivity" topic is not configured, as the reference then generates
// nothing. Invalid UTF-8 in the connection's strings (request headers) is
// replaced, so the record always encodes; should encoding still fail, the
// failure is logged and nil returned.
func (p *Processor) Connectivity(c *Conn, status vehiclepb.ConnectivityEvent, now time.Time) *walpb.Record {
	if _, ok := p.topics[record.TopicConnectivity]; !ok {
		return nil
	}
	rec := newRecord(c, record.TopicConnectivity, []byte(validUTF8(c.ConnectionID)), now)
	rec.Generated = true
	payload, err := record.Marshal(&vehiclepb.VehicleConnectivity{
		Vin:              rec.Vin,
		ConnectionId:     rec.ConnectionId,
		Status:           status,
		CreatedAt:        timestamppb.New(now),
		NetworkInterface: rec.NetworkInterface,
	})
	if err != nil {
		p.log.Error("connectivity_record_failed", slog.String("vin", rec.Vin), slog.Any("error", fmt.Errorf("connectivity record: %w", err)))
		return nil
	}
	rec.Payload = payload
	p.metrics.generated(status)
	return rec
}
