module github.com/fleetrelay/fleetrelay/gateway

go 1.26.0

replace (
	github.com/fleetrelay/fleetrelay/wal => ../wal
	github.com/fleetrelay/fleetrelay/protos => ../protos
	github.com/fleetrelay/fleetrelay/shared => ../shared
)
