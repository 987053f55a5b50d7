module github.com/fleetrelay/fleetrelay/forwarder

go 1.26.0

replace (
	github.com/fleetrelay/fleetrelay/protos => ../protos
	github.com/fleetrelay/fleetrelay/shared => ../shared
	github.com/fleetrelay/fleetrelay/wal => ../wal
)

require github.com/fleetrelay/fleetrelay/protos v0.0.0-00010101000000-000000000000

require google.golang.org/protobuf v1.36.11 // indirect
