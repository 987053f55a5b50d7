// Command walctl inspects a fleetrelay write-ahead log directory, from any
// process and beside a running writer; it never modifies the log's segments.
//
//	walctl info   -dir D                 partitions, indexes, sizes, consumer positions and lag
//	walctl dump   -dir D [-partition P] [-from I] [-to J] [-since T] [-until T]
//	                                     entries as JSON lines (data in base64)
//	walctl verify -dir D                 check every frame checksum and the segment chain
//	walctl skip   -dir D -consumer C -partition P -index I
//	                                     move consumer C, stopped right before entry I,
//	                                     past it when I is damaged inside its frame
//	                                     (the entry is lost for C; see wal/FORMAT.md)
//
// Exit status: 0 success, 1 failure (including corruption found by verify),
// 2 usage error.
package main
