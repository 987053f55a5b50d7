package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/fleetrelay/fleetrelay/forwarder/internal/pipeline"
	"github.com/fleetrelay/fleetrelay/wal"
)

// walSource adapts a wal.Tailer to pipeline.Source.
type walSource struct{ t *wal.Tailer }

func (s walSource) Next(ctx context.Context) (pipeline.Entry, error) {
	e, err := s.t.Next(ctx)
	if err != nil {
		if errors.Is(err, wal.ErrCorrupt) {
			return pipeline.Entry{}, fmt.Errorf("%w: %w", pipeline.ErrCorrupt, err)
		}
		return pipeline.Entry{}, err
	}
	return pipeline.Entry{Index: e.Index, AppendedAt: e.AppendedAt, Data: e.Data}, nil
}

func (s walSource) Close() error { return s.t.Close() }

// opener returns the pipeline.OpenSource of one partition. When the cursor
// lies below the first retained entry (the WAL dropped undelivered segments
// under its disk budget), delivery resumes at the first retained entry and
// the loss is logged as an error: the records are gone and waiting cannot
// bring them back.
func opener(dir string, partition int, log *slog.Logger) pipeline.OpenSource {
	return func(after uint64) (pipeline.Source, error) {
		t, err := wal.OpenTailer(dir, partition, after, wal.TailerOptions{Logger: log})
		if errors.Is(err, wal.ErrTruncated) {
			st, serr := wal.StatPartition(dir, partition)
			if serr != nil {
				return nil, errors.Join(err, serr)
			}
			log.Error("WAL entries were deleted before delivery; resuming at the first retained entry",
				"cursor", after, "first_retained", st.FirstIndex, "lost_records", st.FirstIndex-1-after)
			t, err = wal.OpenTailer(dir, partition, st.FirstIndex-1, wal.TailerOptions{Logger: log})
		}
		if err != nil {
			return nil, fmt.Errorf("open tailer: %w", err)
		}
		return walSource{t: t}, nil
	}
}
