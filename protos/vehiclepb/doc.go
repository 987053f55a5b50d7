// Package vehiclepb holds the generated Go code for the vehicle telemetry
// protobuf schemas in protos/vehicleproto, one package for all five files:
//
//   - vehicle_data.proto (telemetry.vehicle_data): Payload, Datum, Value, Field
//     and the signal enums, the records of topic "V";
//   - vehicle_alert.proto (telemetry.vehicle_alerts): VehicleAlerts, topic "alerts";
//   - vehicle_error.proto (telemetry.vehicle_error): VehicleErrors, topic "errors";
//   - vehicle_connectivity.proto (telemetry.vehicle_connectivity):
//     VehicleConnectivity, topic "connectivity";
//   - vehicle_metric.proto (telemetry.vehicle_metrics): VehicleMetrics, unused
//     by the server.
//
// The schemas are the vehicles' wire format: proto package, message, field
// and enum names and numbers match the reference server's exactly, which the
// tests check row for row against the reference tables. Regenerate with
// `make generate`; `make generate-check` fails when the committed code is stale.
package vehiclepb
