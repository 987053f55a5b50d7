// Package deadletter is the forwarder's store of records a datastore
// rejected permanently. Each sink has a directory; each WAL partition has one
// append-only file in it, p<partition>.dlq, written only by the process that
// owns the partition for that sink (the partition lock makes it the single
// writer), so no two processes ever append to the same file.
//
// A file is a sequence of frames:
//
//	[4 bytes little-endian payload length][4 bytes CRC-32C of payload][payload]
//
// where the payload is a JSON Letter. Put appends and fsyncs before it
// returns, so a letter acknowledged to the pipeline survives a crash, and the
// pipeline commits its cursor only after that. A torn frame at the end (a
// crash mid-append) is cut off when the file is next opened for writing;
// readers treat an incomplete last frame as not yet written and any other
// damaged frame as corruption.
//
// Letters are numbered from 1 in file order per partition. Replay progress is
// kept per partition in p<partition>.replayed, the number of letters already
// replayed, so `forwarder deadletter replay` resumes where it stopped.
package deadletter
