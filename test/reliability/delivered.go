package reliability

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// delivery is one message a datastore holds, mapped back to its record. Pos
// is set when the message names its WAL position (Kafka's record_id
// header); otherwise the WAL index supplies it. Stream names the ordered
// stream the message is in (a Kafka topic; empty for a single file): order
// per vehicle is promised within a stream.
type delivery struct {
	Key    Key
	Pos    Pos
	HasPos bool
	Stream string
}

// readLoggerFile returns the logger sink's records in file order. A line
// torn by SIGKILL is skipped (its record is delivered again) and counted.
func readLoggerFile(path string) (out []delivery, torn int, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("logger output: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var line struct {
			VIN      string `json:"vin"`
			Metadata struct {
				TxID   string `json:"txid"`
				TxType string `json:"txtype"`
			} `json:"metadata"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.VIN == "" {
			torn++
			continue
		}
		out = append(out, delivery{Key: Key{line.VIN, line.Metadata.TxID, line.Metadata.TxType}})
	}
	if err := sc.Err(); err != nil {
		return nil, torn, fmt.Errorf("logger output %s: %w", path, err)
	}
	return out, torn, nil
}

// readKafka consumes every message of topics from the start up to the end
// offsets at the time of the call, partition by partition in offset order
// (the sink keys by VIN, so one VIN's messages are in one partition).
func readKafka(ctx context.Context, broker string, topics []string) ([]delivery, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker),
		kgo.ConsumeTopics(topics...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("kafka end offsets: %w", err)
	}
	type tp struct {
		topic     string
		partition int32
	}
	want := map[tp]int64{}
	var listErr error
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			// A topic the sink never wrote does not exist.
			if !strings.Contains(o.Err.Error(), "UNKNOWN_TOPIC") {
				listErr = errors.Join(listErr, fmt.Errorf("%s/%d: %w", o.Topic, o.Partition, o.Err))
			}
			return
		}
		if o.Offset > 0 {
			want[tp{o.Topic, o.Partition}] = o.Offset
		}
	})
	if listErr != nil {
		return nil, fmt.Errorf("kafka end offsets: %w", listErr)
	}
	got := map[tp][]delivery{}
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("kafka consume (%d partitions unfinished): %w", len(want), err)
		}
		for _, fe := range fs.Errors() {
			return nil, fmt.Errorf("kafka fetch %s/%d: %w", fe.Topic, fe.Partition, fe.Err)
		}
		var badHeader error
		fs.EachRecord(func(r *kgo.Record) {
			k := tp{r.Topic, r.Partition}
			end, ok := want[k]
			if !ok || r.Offset >= end {
				return
			}
			d, err := kafkaDelivery(r)
			if err != nil {
				badHeader = errors.Join(badHeader, err)
				return
			}
			got[k] = append(got[k], d)
			if r.Offset == end-1 {
				delete(want, k)
			}
		})
		if badHeader != nil {
			return nil, badHeader
		}
	}
	keys := make([]tp, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].topic != keys[j].topic {
			return keys[i].topic < keys[j].topic
		}
		return keys[i].partition < keys[j].partition
	})
	var out []delivery
	for _, k := range keys {
		out = append(out, got[k]...)
	}
	return out, nil
}

// kafkaDelivery maps a Kafka message to its record by its headers.
func kafkaDelivery(r *kgo.Record) (delivery, error) {
	h := map[string]string{}
	for _, x := range r.Headers {
		h[x.Key] = string(x.Value)
	}
	d := delivery{Key: Key{h["vin"], h["txid"], h["txtype"]}, Stream: r.Topic}
	if d.Key.VIN == "" || d.Key.TxID == "" || d.Key.Topic == "" {
		return d, fmt.Errorf("kafka %s/%d@%d: missing vin, txid or txtype header", r.Topic, r.Partition, r.Offset)
	}
	if d.Key.VIN != string(r.Key) {
		return d, fmt.Errorf("kafka %s/%d@%d: key %q is not the vin header %q", r.Topic, r.Partition, r.Offset, r.Key, d.Key.VIN)
	}
	if id, ok := h["record_id"]; ok {
		pos, err := parseRecordID(id)
		if err != nil {
			return d, fmt.Errorf("kafka %s/%d@%d: %w", r.Topic, r.Partition, r.Offset, err)
		}
		d.Pos, d.HasPos = pos, true
	}
	return d, nil
}

// parseRecordID parses "<partition>-<index>".
func parseRecordID(id string) (Pos, error) {
	ps, is, ok := strings.Cut(id, "-")
	p, err1 := strconv.Atoi(ps)
	i, err2 := strconv.ParseUint(is, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return Pos{}, fmt.Errorf("record_id %q is not <partition>-<index>", id)
	}
	return Pos{p, i}, nil
}
