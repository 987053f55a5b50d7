module github.com/fleetrelay/fleetrelay/test

go 1.26.0

replace (
	github.com/fleetrelay/fleetrelay/forwarder => ../forwarder
	github.com/fleetrelay/fleetrelay/gateway => ../gateway
	github.com/fleetrelay/fleetrelay/protos => ../protos
	github.com/fleetrelay/fleetrelay/shared => ../shared
	github.com/fleetrelay/fleetrelay/wal => ../wal
)

require (
	github.com/HdrHistogram/hdrhistogram-go v1.1.2
	github.com/eclipse/paho.mqtt.golang v1.5.1
	github.com/fleetrelay/fleetrelay/protos v0.0.0-00010101000000-000000000000
	github.com/fleetrelay/fleetrelay/shared v0.0.0-00010101000000-000000000000
	github.com/fleetrelay/fleetrelay/wal v0.0.0-00010101000000-000000000000
	github.com/gorilla/websocket v1.5.3
	github.com/stretchr/testify v1.12.1
	github.com/twmb/franz-go v1.22.2
	github.com/twmb/franz-go/pkg/kadm v1.19.0
	github.com/twmb/franz-go/pkg/kfake v0.0.0-20260918054303-01f206a7e32c
	go.uber.org/goleak v1.3.0
	google.golang.org/protobuf v1.36.11
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/fsnotify/fsnotify v1.9.0 // indirect
	github.com/google/flatbuffers v25.12.19+incompatible // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/pierrec/lz4/v4 v4.1.33 // indirect
	github.com/tidwall/gjson v1.10.2 // indirect
	github.com/tidwall/match v1.1.1 // indirect
	github.com/tidwall/pretty v1.2.0 // indirect
	github.com/tidwall/tinylru v1.1.0 // indirect
	github.com/tidwall/wal v1.2.1 // indirect
	github.com/twmb/franz-go/pkg/kmsg v1.15.0 // indirect
	go.opentelemetry.io/otel v1.47.0 // indirect
	go.opentelemetry.io/otel/metric v1.47.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/net v0.44.0 // indirect
	golang.org/x/sync v0.17.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
