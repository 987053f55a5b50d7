module github.com/fleetrelay/fleetrelay/shared

go 1.26.0

replace github.com/fleetrelay/fleetrelay/protos => ../protos
