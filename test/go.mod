module github.com/fleetrelay/fleetrelay/test

go 1.26.0

replace (
	github.com/fleetrelay/fleetrelay/wal => ../wal
	github.com/fleetrelay/fleetrelay/protos => ../protos
	github.com/fleetrelay/fleetrelay/shared => ../shared
	github.com/fleetrelay/fleetrelay/gateway => ../gateway
	github.com/fleetrelay/fleetrelay/forwarder => ../forwarder
)
