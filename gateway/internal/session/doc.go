// Package session runs one vehicle websocket connection after the upgrade:
// it reads binary frames, has ingest decide each one, appends records to the
// WAL and answers with acks and errors in record order.
//
// Pipeline: the reader decides a frame and, for a record to store, starts
// its WAL append at once; the frame's answer then joins a FIFO of up to
// gateway.max_in_flight entries. A writer goroutine, running only while the
// FIFO is not empty, takes entries in order, waits for each append, and
// sends the ack only after the append returned, so acks leave in record
// order while several records (the vehicle's window) share group commits.
// A full FIFO stops the reader: backpressure reaches the vehicle through
// TCP. Records of one window are appended concurrently, so their order in
// the WAL may differ from their order on the wire (the WAL offers no
// ordered asynchronous append yet); records of different windows keep
// their order.
//
// An idle connection costs one goroutine (the reader, blocked in a read)
// and a timer that sends the pings.
//
// A record the WAL refuses (disk budget reached, I/O error, shutdown) gets
// no answer: the vehicle resends it. The session then stops reading for
// gateway.wal_retry_delay instead of taking more records it cannot store.
//
// Limits: the read limit is set before the first read; the idle timeout is
// a read deadline renewed by every frame and pong, with pings every third
// of it; every write has a deadline. After a close frame the session
// lingers up to a second, discarding input, so that the close frame and the
// last acks are not destroyed by a TCP reset. A text message closes the TCP
// connection without a close frame, as the reference does. Drain (server
// shutdown) stops reading, finishes the in-flight appends and their acks,
// then sends a 1001 going-away close frame.
package session
