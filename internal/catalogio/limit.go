package catalogio

import (
	"context"
	"time"

	"xiangyun/internal/errs"
)

// Limiter bounds the catalog imports running at once. An import holds its
// whole file, every row and the search index batch in memory (hundreds of
// megabytes for a file near the size limit), so the API and the console
// share one limiter: a busy platform answers "try again shortly" instead of
// running out of memory.
type Limiter struct{ slots chan struct{} }

// NewLimiter allows n imports at once.
func NewLimiter(n int) *Limiter { return &Limiter{slots: make(chan struct{}, max(n, 1))} }

// Imports is the default limiter, for callers not given one: two at once
// on the two cores the platform is sized for. The server gives the API and
// the console one limiter of its own, sized for its database.
var Imports = NewLimiter(2)

// ImportWait is how long a request waits for a free slot before it is
// told the platform is busy; RetryAfter is what the busy answer suggests
// (seconds).
const (
	ImportWait = 2 * time.Second
	RetryAfter = 30
)

// ErrBusy answers an import while every slot is taken (429 with
// Retry-After).
var ErrBusy = errs.New(errs.KindTooMany, "catalogio.busy", "当前同时进行的导入已达上限，请约半分钟后重试",
	"too many imports are running right now; try again in about half a minute")

// Begin takes a slot, waiting at most wait for one. The caller must call
// release when its import is done. It fails with ErrBusy when no slot
// frees in time, or with the context's error.
func (l *Limiter) Begin(ctx context.Context, wait time.Duration) (release func(), err error) {
	select {
	case l.slots <- struct{}{}:
		return l.release, nil
	default:
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return l.release, nil
	case <-t.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, ErrBusy
	}
}

func (l *Limiter) release() { <-l.slots }
