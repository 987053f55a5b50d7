module github.com/fleetrelay/fleetrelay/shared

go 1.26.0

replace github.com/fleetrelay/fleetrelay/protos => ../protos

require (
	github.com/fleetrelay/fleetrelay/protos v0.0.0-00010101000000-000000000000 // indirect
	github.com/stretchr/testify v1.11.1 // indirect
	google.golang.org/protobuf v1.36.11 // indirect
)
