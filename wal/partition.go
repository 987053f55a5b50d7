package wal

import (
	"fmt"
	"hash/fnv"
	"path/filepath"
)

// PartitionFor returns the partition of a record key in a log of n
// partitions: FNV-1a (32 bit) of the key modulo n. It is stable across
// versions and processes, so all records of one key stay in order in one
// partition. It returns 0 when n <= 1.
func PartitionFor(key []byte, n int) int {
	if n <= 1 {
		return 0
	}
	h := fnv.New32a()
	_, _ = h.Write(key) // never fails
	return int(h.Sum32() % uint32(n))
}

// partitionDir returns the directory of partition p in the log at dir.
func partitionDir(dir string, p int) string {
	return filepath.Join(dir, fmt.Sprintf("p%03d", p))
}
