package vehiclesim

import (
	"testing"
	"time"

	"github.com/fleetrelay/fleetrelay/protos/envelope"
)

// BenchmarkBuildFrame measures a vehicle's cost of one new record: drive
// step, payload marshal and envelope encoding.
func BenchmarkBuildFrame(b *testing.B) {
	for _, mix := range []Mix{{TopicV: 1}, DefaultMix()} {
		b.Run("topics="+mix.String(), func(b *testing.B) {
			g := newGenerator(testVIN, 1, mix)
			enc := envelope.NewEncoder()
			sender, device := []byte("vehicle_device."+testVIN), []byte(testVIN)
			var buf []byte
			now := time.Now()
			b.ReportAllocs()
			for b.Loop() {
				topic, payload, err := g.next(now, buf[:0])
				if err != nil {
					b.Fatal(err)
				}
				buf = payload
				frame := enc.Stream([]byte("txid-1"), topicBytes[topic], []byte("msg-1"), envelope.Stream{
					CreatedAt: uint32(now.Unix()), SenderID: sender, Payload: payload,
					DeviceType: []byte(deviceType), DeviceID: device,
				})
				b.SetBytes(int64(len(frame)))
			}
		})
	}
}
