package deadletter

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"
)

// Letter is one dead-lettered record.
type Letter struct {
	// Partition and Index locate the record in the WAL.
	Partition int    `json:"partition"`
	Index     uint64 `json:"index"`
	// Data is the WAL entry as read: a marshalled walpb.Record (or the
	// undecodable bytes that were found).
	Data []byte `json:"data"`
	// Reason is the datastore's (or decoder's) error.
	Reason string `json:"reason"`
	// At is when the record was dead-lettered.
	At time.Time `json:"at"`
}

// ErrCorrupt is matched by errors reading a damaged frame.
var ErrCorrupt = errors.New("deadletter: corrupt frame")

const (
	headerSize = 8
	// maxFrame bounds a payload: a WAL record is at most a few MiB.
	maxFrame = 64 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encode returns the frame of l.
func encode(l Letter) ([]byte, error) {
	payload, err := json.Marshal(l)
	if err != nil {
		return nil, fmt.Errorf("deadletter: encode letter %d-%d: %w", l.Partition, l.Index, err)
	}
	frame := make([]byte, headerSize, headerSize+len(payload))
	binary.LittleEndian.PutUint32(frame[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint32(frame[4:8], crc32.Checksum(payload, castagnoli))
	return append(frame, payload...), nil
}

// errTorn reports a frame cut short by the end of the file.
var errTorn = errors.New("deadletter: incomplete frame")

// decode reads the next frame from r. It returns io.EOF at a clean end,
// errTorn for a frame cut short, and an error matching ErrCorrupt for a
// damaged one. n is the number of bytes the frame occupies.
func decode(r io.Reader) (l Letter, n int, err error) {
	var h [headerSize]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return Letter{}, 0, io.EOF
		}
		return Letter{}, 0, errTorn
	}
	size := binary.LittleEndian.Uint32(h[0:4])
	if size > maxFrame {
		return Letter{}, 0, fmt.Errorf("%w: length %d", ErrCorrupt, size)
	}
	payload := make([]byte, size)
	if _, err := io.ReadFull(r, payload); err != nil {
		return Letter{}, 0, errTorn
	}
	if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(h[4:8]) {
		return Letter{}, 0, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	if err := json.Unmarshal(payload, &l); err != nil {
		return Letter{}, 0, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return l, headerSize + int(size), nil
}
