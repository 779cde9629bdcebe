package audit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Group commit (成组提交): at gateway rates one transaction and one signed
// tree head per record would bound the platform by the database's commit
// latency. A Committer collects the records appended concurrently into one
// transaction (appendAll: one head signature per batch), and each caller
// waits until the batch holding its record is durable. While a batch is
// being written the next one fills, so under load batches grow by
// themselves; Linger optionally waits a little longer for company.

// ErrCommitterClosed is returned by Append after Close.
var ErrCommitterClosed = errors.New("audit: committer closed")

// Committer batches concurrent appends. It is safe for concurrent use.
type Committer struct {
	log    *Log
	max    int
	linger time.Duration
	in     chan *groupReq
	quit   chan struct{}
	done   chan struct{}
	once   sync.Once

	batches, records atomic.Int64
}

// Stats reports how many batches (transactions) and records the committer
// has written.
func (c *Committer) Stats() (batches, records int64) { return c.batches.Load(), c.records.Load() }

type groupReq struct {
	e    Entry
	out  Entry
	err  error
	done chan struct{}
}

// NewCommitter starts a committer appending to l in batches of at most
// maxBatch records (default 256), waiting up to linger (0: no wait) after
// the first record of a batch for more.
func (l *Log) NewCommitter(maxBatch int, linger time.Duration) *Committer {
	if maxBatch <= 0 {
		maxBatch = 256
	}
	c := &Committer{log: l, max: maxBatch, linger: linger, in: make(chan *groupReq, 4*maxBatch),
		quit: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// Append adds e to the log in the next batch and returns it as stored once
// that batch has committed. An error means the record is not known to be
// in the log: the caller must not act as if it were.
func (c *Committer) Append(ctx context.Context, e Entry) (Entry, error) {
	// Refuse a malformed entry here, so it cannot fail the batch of others.
	n, err := normalize(e)
	if err != nil {
		return Entry{}, err
	}
	if _, err := encodeDetail(n.Detail); err != nil {
		return Entry{}, err
	}
	r := &groupReq{e: n, done: make(chan struct{})}
	select {
	case <-c.quit:
		return Entry{}, ErrCommitterClosed
	default:
	}
	select {
	case c.in <- r:
	case <-c.quit:
		return Entry{}, ErrCommitterClosed
	case <-ctx.Done():
		return Entry{}, ctx.Err()
	}
	select {
	case <-r.done:
		return r.out, r.err
	case <-c.done:
		select {
		case <-r.done: // written by the last drain
			return r.out, r.err
		default:
			return Entry{}, ErrCommitterClosed
		}
	case <-ctx.Done():
		// The record may still be written; the caller learns nothing more.
		return Entry{}, ctx.Err()
	}
}

// Close writes the records already queued and stops the committer.
func (c *Committer) Close() {
	c.once.Do(func() { close(c.quit) })
	<-c.done
}

func (c *Committer) run() {
	defer close(c.done)
	batch := make([]*groupReq, 0, c.max)
	for {
		batch = batch[:0]
		select {
		case r := <-c.in:
			batch = append(batch, r)
		case <-c.quit:
			// Drain what is queued, then stop.
			for {
				select {
				case r := <-c.in:
					batch = append(batch, r)
					if len(batch) == c.max {
						c.commit(batch)
						batch = batch[:0]
					}
					continue
				default:
				}
				break
			}
			if len(batch) > 0 {
				c.commit(batch)
			}
			return
		}
		var timer <-chan time.Time
		if c.linger > 0 {
			timer = time.After(c.linger)
		}
	fill:
		for len(batch) < c.max {
			if timer == nil {
				select {
				case r := <-c.in:
					batch = append(batch, r)
				default:
					break fill
				}
				continue
			}
			select {
			case r := <-c.in:
				batch = append(batch, r)
			case <-timer:
				break fill
			}
		}
		c.commit(batch)
	}
}

// commit writes one batch and wakes its callers.
func (c *Committer) commit(batch []*groupReq) {
	entries := make([]Entry, len(batch))
	for i, r := range batch {
		entries[i] = r.e
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	out, err := c.log.appendAll(ctx, entries, nil)
	cancel()
	if err == nil {
		c.batches.Add(1)
		c.records.Add(int64(len(out)))
	}
	for i, r := range batch {
		if err != nil {
			r.err = err
		} else {
			r.out = out[i]
		}
		close(r.done)
	}
}
