package envelope_test

import (
	"errors"
	"fmt"

	"github.com/fleetrelay/fleetrelay/protos/envelope"
)

// A server decodes each vehicle frame and answers with an ack or an error.
// The frame must not come from the Encoder that builds the answer: its
// buffer is reused.
func ExampleDecode() {
	vehicle, server := envelope.NewEncoder(), envelope.NewEncoder()
	frame := vehicle.Stream([]byte("txid-1"), []byte("V"), []byte("msgid-txid-1"), envelope.Stream{
		CreatedAt: 1700000000,
		Payload:   []byte{0x0a, 0x00},
		DeviceID:  []byte("5YJ3E1EA1KF000001"),
	})

	var e envelope.Envelope
	if err := envelope.Decode(frame, &e); err != nil {
		fmt.Println("error frame:", len(server.Error(nil, envelope.ErrorText)), "bytes")
		return
	}
	fmt.Printf("txid=%s topic=%s device=%s payload=%d bytes\n", e.TxID, e.Topic, e.Stream.DeviceID, len(e.Stream.Payload))
	fmt.Println("ack:", len(server.Ack(e.TxID, e.Topic)), "bytes")

	err := envelope.Decode([]byte("D4,test,1234"), &e)
	fmt.Println(errors.Is(err, envelope.ErrMalformed), err)
	// Output:
	// txid=txid-1 topic=V device=5YJ3E1EA1KF000001 payload=2 bytes
	// ack: 80 bytes
	// true envelope: malformed frame: envelope: table offset out of range
}
