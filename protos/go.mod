module github.com/fleetrelay/fleetrelay/protos

go 1.26.0

tool google.golang.org/protobuf/cmd/protoc-gen-go

require (
	github.com/fleetrelay/fleetrelay/shared v0.0.0-00010101000000-000000000000
	github.com/google/flatbuffers v25.12.19+incompatible
	github.com/stretchr/testify v1.12.1
	google.golang.org/protobuf v1.36.11
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect

replace github.com/fleetrelay/fleetrelay/shared => ../shared
