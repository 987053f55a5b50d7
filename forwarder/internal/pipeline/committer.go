package pipeline

import (
	"fmt"
	"sync"
)

// committer moves the durable cursor up to the settled prefix in the
// background, so that a slow cursor fsync does not hold up the next batch.
// Commits coalesce: while one is being written, further settled batches
// are folded into the next. The cursor therefore never covers an unsettled
// entry, and may trail the settled prefix by the batches of one fsync.
type committer struct {
	cur   Cursor
	state *state
	kick  chan struct{}

	mu        sync.Mutex
	settled   uint64
	committed uint64
	err       error
}

func newCommitter(cur Cursor, st *state, from uint64) *committer {
	return &committer{cur: cur, state: st, kick: make(chan struct{}, 1), settled: from, committed: from}
}

// settle records that every entry up to index is settled.
func (c *committer) settle(index uint64) {
	c.mu.Lock()
	c.settled = index
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// failed returns the error of a failed commit, if any.
func (c *committer) failed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// run commits on every kick until done is closed, then commits once more
// and returns. It stops at the first failed commit.
func (c *committer) run(done <-chan struct{}) error {
	for {
		select {
		case <-c.kick:
		case <-done:
			return c.flush()
		}
		if err := c.flush(); err != nil {
			return err
		}
	}
}

func (c *committer) flush() error {
	c.mu.Lock()
	index, committed := c.settled, c.committed
	c.mu.Unlock()
	if index <= committed {
		return nil
	}
	err := c.cur.Commit(index)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.err = fmt.Errorf("commit cursor %d: %w", index, err)
		return c.err
	}
	c.committed = index
	c.state.setCursor(index)
	return nil
}
