// Package session runs one vehicle websocket connection after the upgrade:
// it reads binary frames, has ingest decide each one, appends records to the
// WAL and answers with acks and errors in record order.
//
// Pipeline: the reader decides a frame and, for a record to store, starts
// its WAL append at once; the frame's answer then joins a FIFO of up to
// gateway.max_in_flight entries. The writer takes entries in order, waits
// for each append, and sends the ack only after the append returned, so
// acks leave in record order while several records (the vehicle's window)
// share group commits. A full FIFO stops the reader: backpressure reaches
// the vehicle through TCP.
//
// A record the WAL refuses (disk budget reached, I/O error, shutdown) gets
// no answer: the vehicle resends it. The session then stops reading for
// gateway.wal_retry_delay instead of taking more records it cannot store.
//
// Limits: the read limit is set before the first read; the idle timeout is
// a read deadline renewed by every frame and pong, with pings every third
// of it; every write has a deadline. A text message closes the TCP
// connection without a close frame, as the reference does. Drain (server
// shutdown) stops reading, finishes the in-flight appends and their acks,
// then sends a 1001 going-away close frame.
package session
