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
	github.com/fleetrelay/fleetrelay/protos v0.0.0-00010101000000-000000000000
	github.com/fleetrelay/fleetrelay/shared v0.0.0-00010101000000-000000000000
	github.com/gorilla/websocket v1.5.3
	github.com/stretchr/testify v1.11.1
	google.golang.org/protobuf v1.36.11
)

require (
	github.com/davecgh/go-spew v1.1.1 // indirect
	github.com/google/flatbuffers v25.12.19+incompatible // indirect
	github.com/kr/text v0.2.0 // indirect
	github.com/niemeyer/pretty v0.0.0-20200227124842-a10e7caefd8e // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	gopkg.in/check.v1 v1.0.0-20200227125254-8fa46927fb4f // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
