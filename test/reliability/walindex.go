package reliability

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/fleetrelay/fleetrelay/protos/walpb"
	"github.com/fleetrelay/fleetrelay/wal"
)

// Key identifies one vehicle record end to end.
type Key struct{ VIN, TxID, Topic string }

// Pos is a position in the WAL.
type Pos struct {
	Partition int
	Index     uint64
}

// less orders positions of one VIN (a VIN lives in one partition).
func (p Pos) less(q Pos) bool {
	if p.Partition != q.Partition {
		return p.Partition < q.Partition
	}
	return p.Index < q.Index
}

// walIndex reads the WAL as it grows, from this process, and remembers
// where each record first appears. It must read every entry before
// retention deletes its segment, so it is polled often; entries it could
// not read are counted as Skipped.
type walIndex struct {
	dir        string
	partitions int

	pollMu sync.Mutex // one poll at a time

	mu      sync.Mutex
	next    []uint64 // per partition: last index read
	first   map[Key]Pos
	byPos   map[Pos]Key
	entries int
	skipped uint64
	// hostile counts stored records whose txid carries the hostile prefix.
	hostile int
	// mqtt, when non-nil, counts the MQTT messages the records call for,
	// per MQTT topic.
	mqtt map[string]int
}

func newWALIndex(dir string) (*walIndex, error) {
	meta, err := wal.ReadMeta(dir)
	if err != nil {
		return nil, fmt.Errorf("wal index: %w", err)
	}
	return &walIndex{
		dir: dir, partitions: meta.Partitions, next: make([]uint64, meta.Partitions),
		first: map[Key]Pos{}, byPos: map[Pos]Key{},
	}, nil
}

// poll reads every partition to its current end.
func (w *walIndex) poll() error {
	w.pollMu.Lock()
	defer w.pollMu.Unlock()
	var errs []error
	for p := range w.partitions {
		if err := w.pollPartition(p); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (w *walIndex) pollPartition(p int) error {
	w.mu.Lock()
	after := w.next[p]
	w.mu.Unlock()
	st, err := wal.StatPartition(w.dir, p)
	if err != nil {
		return fmt.Errorf("wal index: stat partition %d: %w", p, err)
	}
	if st.LastIndex <= after {
		return nil
	}
	if st.FirstIndex > after+1 {
		// Retention deleted entries before they were read.
		w.mu.Lock()
		w.skipped += st.FirstIndex - after - 1
		w.mu.Unlock()
		after = st.FirstIndex - 1
	}
	r, err := wal.OpenReader(w.dir, p, after)
	if err != nil {
		return fmt.Errorf("wal index: open partition %d after %d: %w", p, after, err)
	}
	defer r.Close()
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("wal index: partition %d after %d: %w", p, after, err)
		}
		var rec walpb.Record
		if err := proto.Unmarshal(e.Data, &rec); err != nil {
			return fmt.Errorf("wal index: partition %d index %d: %w", p, e.Index, err)
		}
		k := Key{rec.GetVin(), string(rec.GetTxid()), rec.GetTopic()}
		pos := Pos{p, e.Index}
		w.mu.Lock()
		if e.Index > w.next[p]+1 {
			w.skipped += e.Index - w.next[p] - 1
		}
		w.next[p] = e.Index
		w.entries++
		if _, ok := w.first[k]; !ok {
			w.first[k] = pos
		}
		w.byPos[pos] = k
		if w.mqtt != nil {
			topics, err := mqttTopics(k.VIN, k.Topic, rec.GetPayload())
			if err != nil {
				w.mu.Unlock()
				return fmt.Errorf("wal index: partition %d index %d: %w", p, e.Index, err)
			}
			for _, t := range topics {
				w.mqtt[t]++
			}
		}
		if strings.HasPrefix(k.TxID, hostileTxIDPrefix) {
			w.hostile++
		}
		w.mu.Unlock()
	}
}

// position returns where k first appears in the WAL.
func (w *walIndex) position(k Key) (Pos, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p, ok := w.first[k]
	return p, ok
}

// keyAt returns the record at pos.
func (w *walIndex) keyAt(pos Pos) (Key, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	k, ok := w.byPos[pos]
	return k, ok
}

// lag returns, for a sink, the entries of the WAL its cursors have not yet
// passed (summed over partitions).
func lag(dir string, partitions int, sink string) (uint64, error) {
	var total uint64
	for p := range partitions {
		st, err := wal.StatPartition(dir, p)
		if err != nil {
			return 0, fmt.Errorf("lag: stat partition %d: %w", p, err)
		}
		c, err := wal.LoadCursor(dir, sink, p)
		if err != nil {
			return 0, fmt.Errorf("lag: cursor %s/%d: %w", sink, p, err)
		}
		if st.LastIndex > c {
			total += st.LastIndex - c
		}
	}
	return total, nil
}
