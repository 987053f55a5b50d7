module github.com/fleetrelay/fleetrelay/wal

go 1.26.0
