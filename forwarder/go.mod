module github.com/fleetrelay/fleetrelay/forwarder

go 1.26.0

replace (
	github.com/fleetrelay/fleetrelay/protos => ../protos
	github.com/fleetrelay/fleetrelay/shared => ../shared
	github.com/fleetrelay/fleetrelay/wal => ../wal
)

require (
	github.com/cenkalti/backoff/v5 v5.0.3
	github.com/fleetrelay/fleetrelay/protos v0.0.0-00010101000000-000000000000
	github.com/fleetrelay/fleetrelay/shared v0.0.0-00010101000000-000000000000
	github.com/stretchr/testify v1.12.1
	go.opentelemetry.io/otel v1.47.0
	go.opentelemetry.io/otel/metric v1.47.0
	google.golang.org/protobuf v1.36.12
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)
