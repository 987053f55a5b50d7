package ownership

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Work delivers one partition until ctx is cancelled (then it returns nil
// once its state is committed) or until it fails.
type Work func(ctx context.Context, partition int) error

// Config describes the partitions a Coordinator shares.
type Config struct {
	// Dir is the sink's state directory (lock and member files).
	Dir string
	// Partitions is the WAL's partition count.
	Partitions int
	// Interval is the rebalance period.
	Interval time.Duration
	// RestartDelay is the first wait before Work is run again after it
	// failed; it doubles up to MaxRestartDelay.
	RestartDelay, MaxRestartDelay time.Duration
	// OnRelease, if set, is called when this process gives a partition up,
	// after its worker has returned and before the lock is released.
	OnRelease func(partition int)
	Logger    *slog.Logger
}

// Coordinator owns a fair share of the partitions of one sink and runs Work
// on each partition it owns.
type Coordinator struct {
	cfg    Config
	work   Work
	log    *slog.Logger
	member *Membership

	// seenFree holds the partitions found free at the last rebalance (used
	// by the Run goroutine only).
	seenFree map[int]bool

	mu    sync.Mutex
	owned map[int]*worker
}

type worker struct {
	lock   *Lock
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns a Coordinator that runs work on the partitions it owns.
func New(cfg Config, work Work) (*Coordinator, error) {
	if cfg.Partitions < 1 || cfg.Interval <= 0 || cfg.RestartDelay <= 0 || cfg.MaxRestartDelay < cfg.RestartDelay {
		return nil, fmt.Errorf("ownership: invalid config %+v", cfg)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("ownership: create state dir: %w", err)
	}
	return &Coordinator{cfg: cfg, work: work, log: cfg.Logger, owned: map[int]*worker{}}, nil
}

// Run joins the members, rebalances every interval until ctx is cancelled,
// then stops every worker (each finishes its batch in flight), releases the
// locks and leaves.
func (c *Coordinator) Run(ctx context.Context) error {
	m, err := Join(c.cfg.Dir)
	if err != nil {
		return err
	}
	c.member = m
	t := time.NewTicker(c.cfg.Interval)
	defer t.Stop()
	for {
		if err := c.rebalance(ctx); err != nil {
			c.log.Warn("partition rebalance failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return errors.Join(c.releaseAll(), m.Leave())
		case <-t.C:
		}
	}
}

// Owned returns the partitions this process delivers, sorted.
func (c *Coordinator) Owned() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]int, 0, len(c.owned))
	for p := range c.owned {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// rebalance moves this process toward its fair share ceil(P/N).
func (c *Coordinator) rebalance(ctx context.Context) error {
	others, err := c.member.Others()
	if err != nil {
		return err
	}
	n := len(others) + 1
	floor, ceil := c.cfg.Partitions/n, (c.cfg.Partitions+n-1)/n
	owned := c.Owned()
	excess := len(owned) - ceil
	if excess <= 0 && len(owned) > floor && slices.ContainsFunc(others, func(o int) bool { return o < floor }) {
		excess = 1 // make room for a process below its floor
	}
	for ; excess > 0; excess-- {
		p := owned[len(owned)-1]
		owned = owned[:len(owned)-1]
		c.log.Info("releasing partition to rebalance", "partition", p, "members", n, "share", ceil)
		if err := c.release(p); err != nil {
			return err
		}
	}
	if err := c.acquire(ctx, len(owned), floor, ceil); err != nil {
		return err
	}
	return c.member.Publish(len(c.Owned()))
}

// acquire locks free partitions and starts their workers: any free one
// while this process owns fewer than floor, and beyond that, up to ceil,
// only those already found free at the previous rebalance, so that
// processes below their floor get them first.
func (c *Coordinator) acquire(ctx context.Context, owned, floor, ceil int) error {
	free := map[int]bool{}
	for p := 0; p < c.cfg.Partitions && owned < ceil; p++ {
		if c.owns(p) {
			continue
		}
		l, ok, err := TryLock(c.lockPath(p))
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if owned >= floor && !c.seenFree[p] {
			free[p] = true
			if err := l.Unlock(); err != nil {
				return err
			}
			continue
		}
		c.start(ctx, p, l)
		owned++
	}
	c.seenFree = free
	return nil
}

func (c *Coordinator) lockPath(p int) string {
	return filepath.Join(c.cfg.Dir, fmt.Sprintf("p%03d.lock", p))
}

func (c *Coordinator) owns(p int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.owned[p] != nil
}

// start runs the partition's worker in a goroutine joined by release.
func (c *Coordinator) start(ctx context.Context, p int, l *Lock) {
	wctx, cancel := context.WithCancel(ctx)
	w := &worker{lock: l, cancel: cancel, done: make(chan struct{})}
	c.mu.Lock()
	c.owned[p] = w
	c.mu.Unlock()
	c.log.Info("partition acquired", "partition", p)
	go func() {
		defer close(w.done)
		c.supervise(wctx, p)
	}()
}

// supervise runs Work until ctx ends, restarting it with backoff when it
// fails. The partition stays locked meanwhile: a failure such as a corrupt
// entry must not bounce between processes.
func (c *Coordinator) supervise(ctx context.Context, p int) {
	bo := &backoff.ExponentialBackOff{InitialInterval: c.cfg.RestartDelay, RandomizationFactor: 0.2,
		Multiplier: 2, MaxInterval: c.cfg.MaxRestartDelay}
	bo.Reset()
	for ctx.Err() == nil {
		err := c.work(ctx, p)
		if err == nil || ctx.Err() != nil {
			return
		}
		wait := bo.NextBackOff()
		c.log.Error("partition delivery failed; restarting", "partition", p, "error", err, "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
}

// release stops p's worker, waits for it and unlocks the partition.
func (c *Coordinator) release(p int) error {
	c.mu.Lock()
	w := c.owned[p]
	delete(c.owned, p)
	c.mu.Unlock()
	if w == nil {
		return nil
	}
	w.cancel()
	<-w.done
	if c.cfg.OnRelease != nil {
		c.cfg.OnRelease(p)
	}
	c.log.Info("partition released", "partition", p)
	return w.lock.Unlock()
}

// releaseAll stops every worker concurrently and waits for all of them.
func (c *Coordinator) releaseAll() error {
	owned := c.Owned()
	errs := make([]error, len(owned))
	var wg sync.WaitGroup
	for i, p := range owned {
		wg.Go(func() { errs[i] = c.release(p) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
