package audit

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// TestCommitterGroupsConcurrentAppends: 20 goroutines × 60 records through
// one committer land as fewer transactions than records, every caller gets
// its own sequence number, and the log verifies; after the store is closed
// Append fails instead of pretending.
func TestCommitterGroupsConcurrentAppends(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(testing.TB) string) {
		ctx := context.Background()
		l, store := openTestLog(t, dsn(t))
		c := l.NewCommitter(64, 0)
		const workers, each = 20, 60 // crosses the checkpoint at 1000
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			seen = map[int64]bool{}
		)
		errc := make(chan error, workers*each)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					e, err := c.Append(ctx, Entry{Action: "gw.call", Actor: "app:1", Object: fmt.Sprintf("entry:%d", w),
						Detail: map[string]string{"n": fmt.Sprint(i)}})
					if err != nil {
						errc <- err
						return
					}
					mu.Lock()
					if seen[e.Seq] {
						errc <- fmt.Errorf("seq %d given twice", e.Seq)
					}
					seen[e.Seq] = true
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		batches, records := c.Stats()
		if records != workers*each || len(seen) != workers*each || batches < 1 || batches > records {
			t.Fatalf("batches=%d records=%d seen=%d", batches, records, len(seen))
		}
		t.Logf("%d records in %d transactions", records, batches)
		rep := mustVerify(t, l)
		if !rep.OK || rep.Size != workers*each {
			t.Fatalf("verify: %+v %v", rep, rep.First)
		}
		var cps int
		if err := store.R.QueryRowContext(ctx, "SELECT COUNT(*) FROM audit_checkpoints WHERE size = 1000").Scan(&cps); err != nil || cps != 1 {
			t.Fatalf("checkpoint at 1000 inside a batch: %d %v", cps, err)
		}
		// A malformed entry is refused alone.
		if _, err := c.Append(ctx, Entry{}); err == nil {
			t.Fatal("entry without action accepted")
		}
		// An unwritable store: the caller learns it.
		_ = store.Close()
		if _, err := c.Append(ctx, Entry{Action: "gw.call"}); err == nil {
			t.Fatal("append on a closed store succeeded")
		}
		c.Close()
		if _, err := c.Append(ctx, Entry{Action: "gw.call"}); err != ErrCommitterClosed {
			t.Fatalf("after close: %v", err)
		}
	})
}
