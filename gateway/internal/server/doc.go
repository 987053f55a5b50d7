// Package server is the gateway's telemetry listener: an HTTP/1.1 server
// over mutual TLS with the slowloris-safe timeouts the reference lacks, a
// cap on concurrent connections, the reference's `/status` → "mtls ok"
// endpoint, and on every other path the websocket endpoint. The client's
// identity is resolved before the upgrade (a refused client gets an HTTP
// 4xx, not an upgraded socket); each accepted socket runs a
// session.Session, is registered per VIN for the online state, and
// produces connectivity CONNECTED/DISCONNECTED records when the
// connectivity topic is configured.
//
// Shutdown stops accepting, drains every session (in-flight records are
// appended and acked, then a 1001 going-away close frame is sent) and
// returns once all sessions ended or the context expired; the caller then
// closes the WAL.
package server
