package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"xiangyun/internal/db"
)

// The audit outbox: a change and its audit record commit together.
//
// The audit log lives in its own store, so it cannot share a transaction
// with a change to the control (or data) store. Instead the change's
// transaction writes the record's intent to its own store's outbox (Intent);
// after commit the intent is appended to the log (Deliver, with the final
// outcome and details the request learnt), and whatever a crash left behind
// is appended by Drain, which runs at start-up and then periodically. Each
// record carries its origin ("control:1234"), so an intent delivered twice is
// recorded once.

// topic is the outbox topic of audit intents.
const topic = "audit"

// Intent writes e to the outbox of tx's store, in tx. It returns the
// intent's origin, to pass to Deliver after the commit.
func Intent(tx *db.Tx, e Entry) (string, error) {
	if e.Time.IsZero() {
		e.Time = tx.Now.Time
	}
	e, err := normalize(e)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(intent{e.Time, e.ActorID, e.Actor, e.Action, e.Object, e.Outcome, e.IP, e.RequestID, e.Detail})
	if err != nil {
		return "", err
	}
	id, err := tx.Emit(topic, b)
	if err != nil {
		return "", err
	}
	return tx.Store + ":" + strconv.FormatInt(id, 10), nil
}

type intent struct {
	Time      time.Time         `json:"time"`
	ActorID   int64             `json:"actor_id,omitempty"`
	Actor     string            `json:"actor"`
	Action    string            `json:"action"`
	Object    string            `json:"object,omitempty"`
	Outcome   string            `json:"outcome"`
	IP        string            `json:"ip,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
	Detail    map[string]string `json:"detail,omitempty"`
}

// sources are the stores whose outboxes the log drains.
type sources struct {
	mu sync.Mutex
	m  map[string]*db.DB
}

// Watch makes the log drain store's outbox (Drain, Deliver).
func (l *Log) Watch(store *db.DB) {
	l.src.mu.Lock()
	defer l.src.mu.Unlock()
	if l.src.m == nil {
		l.src.m = map[string]*db.DB{}
	}
	l.src.m[store.Name] = store
}

func (l *Log) source(origin string) (*db.DB, int64, error) {
	name, n, _ := strings.Cut(origin, ":")
	id, err := strconv.ParseInt(n, 10, 64)
	l.src.mu.Lock()
	store := l.src.m[name]
	l.src.mu.Unlock()
	if err != nil || store == nil {
		return nil, 0, fmt.Errorf("audit: unknown origin %q", origin)
	}
	return store, id, nil
}

// Deliver appends e as the record of the committed intent origin and
// removes the intent from its outbox. If the intent was already delivered
// (by Drain), the log keeps the record it has.
func (l *Log) Deliver(ctx context.Context, origin string, e Entry) error {
	store, id, err := l.source(origin)
	if err != nil {
		return err
	}
	if _, err := l.appendAll(ctx, []Entry{e}, []string{origin}); err != nil {
		return err
	}
	return store.Ack(ctx, id)
}

// Drain appends every intent left in the watched outboxes that was written
// before before (so that requests still finishing deliver their own) and
// returns how many records it appended.
func (l *Log) Drain(ctx context.Context, before time.Time) (int, error) {
	l.src.mu.Lock()
	stores := make([]*db.DB, 0, len(l.src.m))
	for _, s := range l.src.m {
		stores = append(stores, s)
	}
	l.src.mu.Unlock()
	total := 0
	for _, store := range stores {
		for {
			msgs, err := store.Outbox(ctx, topic, before, 500)
			if err != nil {
				return total, err
			}
			if len(msgs) == 0 {
				break
			}
			entries := make([]Entry, 0, len(msgs))
			origins := make([]string, 0, len(msgs))
			ids := make([]int64, 0, len(msgs))
			for _, m := range msgs {
				ids = append(ids, m.ID)
				var in intent
				if err := json.Unmarshal(m.Payload, &in); err != nil {
					// Unreadable intents are kept out of the log but not lost
					// silently: the record says so.
					in = intent{Time: m.Created, Actor: "system", Action: "audit.intent.unreadable", Outcome: OutcomeFailure}
				}
				entries = append(entries, Entry{Time: in.Time, ActorID: in.ActorID, Actor: in.Actor, Action: in.Action, Object: in.Object,
					Outcome: in.Outcome, IP: in.IP, RequestID: in.RequestID, Detail: in.Detail})
				origins = append(origins, store.Name+":"+strconv.FormatInt(m.ID, 10))
			}
			n, err := l.appendAll(ctx, entries, origins)
			if err != nil {
				return total, err
			}
			total += len(n)
			if err := store.Ack(ctx, ids...); err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

// RunDrainer drains the outboxes every interval until ctx ends, taking
// intents older than grace (younger ones are still being delivered by their
// requests). Failures are reported to logf and retried.
func (l *Log) RunDrainer(ctx context.Context, interval, grace time.Duration, logf func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := l.Drain(ctx, time.Now().Add(-grace)); err != nil && ctx.Err() == nil && logf != nil {
			logf(err)
		}
	}
}
