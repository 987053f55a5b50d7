// Package sinkkill holds the crash and sharing tests of the forwarder
// against every datastore it delivers to: Kafka (kfake), Kinesis
// (kinesalite), Pub/Sub (pstest), MQTT (Mosquitto) and the logger's file.
//
// Each test runs the real forwarder binary, built by the test, as child
// processes on a write-ahead log the test writes, SIGKILLs them while they
// deliver, and then reads back everything the datastore holds to check that
// every WAL record arrived at least once and, keeping only each record's
// last delivery, in WAL order per vehicle. See docs/RELIABILITY.md.
package sinkkill
