package audit

import (
	"context"
	"errors"
	"testing"
	"time"

	"xiangyun/internal/db"
	"xiangyun/internal/db/dbtest"
)

// countAction counts the log's records of action and checks the log.
func countAction(t *testing.T, l *Log, action string) int {
	t.Helper()
	_, n, err := l.List(context.Background(), Filter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	if rep := mustVerify(t, l); !rep.OK {
		t.Fatalf("verify: %v", rep.First)
	}
	return n
}

func TestOutboxIntentDeliverDrain(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(testing.TB) string) {
		ctx := context.Background()
		d := dsn(t)
		l, _ := openTestLog(t, d)
		control := dbtest.Open(t, d, "control")
		l.Watch(control)
		// change commits a change with its intent and returns the origin.
		change := func(action string, fail bool) (string, error) {
			var origin string
			err := control.Tx(ctx, func(tx *db.Tx) error {
				var err error
				if origin, err = Intent(tx, Entry{Action: action, Actor: "ops", Object: "thing:1", Detail: map[string]string{"status": "committed"}}); err != nil {
					return err
				}
				if fail {
					return errors.New("the change failed")
				}
				return nil
			})
			return origin, err
		}

		t.Run("rolled back", func(t *testing.T) {
			if _, err := change("test.rolledback", true); err == nil {
				t.Fatal("the failing change committed")
			}
			if n, err := l.Drain(ctx, time.Time{}); err != nil || n != 0 {
				t.Fatalf("drain after a rollback: %d %v", n, err)
			}
			if n := countAction(t, l, "test.rolledback"); n != 0 {
				t.Fatalf("a rolled-back change has %d records", n)
			}
		})
		t.Run("delivered once", func(t *testing.T) {
			origin, err := change("test.delivered", false)
			if err != nil {
				t.Fatal(err)
			}
			final := Entry{Action: "test.delivered", Actor: "ops", Object: "thing:1", Detail: map[string]string{"status": "OK"}}
			for i := 0; i < 2; i++ {
				if err := l.Deliver(ctx, origin, final); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := l.Drain(ctx, time.Time{}); err != nil || n != 0 {
				t.Fatalf("drain after delivery: %d %v", n, err)
			}
			recs, _, _ := l.List(ctx, Filter{Action: "test.delivered"})
			if len(recs) != 1 || recs[0].Detail["status"] != "OK" {
				t.Fatalf("delivered records: %+v", recs)
			}
		})
		t.Run("drained once", func(t *testing.T) {
			// A crash after the commit: nobody delivers; the drainer does,
			// once, with the intent as it was committed.
			if _, err := change("test.drained", false); err != nil {
				t.Fatal(err)
			}
			if n, err := l.Drain(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
				t.Fatalf("drain of intents younger than before: %d %v", n, err)
			}
			if n, err := l.Drain(ctx, time.Time{}); err != nil || n != 1 {
				t.Fatalf("first drain: %d %v", n, err)
			}
			if n, err := l.Drain(ctx, time.Time{}); err != nil || n != 0 {
				t.Fatalf("second drain: %d %v", n, err)
			}
			recs, _, _ := l.List(ctx, Filter{Action: "test.drained"})
			if len(recs) != 1 || recs[0].Detail["status"] != "committed" || recs[0].Actor != "ops" {
				t.Fatalf("drained records: %+v", recs)
			}
		})
		t.Run("delivered after drain", func(t *testing.T) {
			// The drainer got there first; the late delivery adds nothing.
			origin, err := change("test.late", false)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := l.Drain(ctx, time.Time{}); err != nil || n != 1 {
				t.Fatalf("drain: %d %v", n, err)
			}
			if err := l.Deliver(ctx, origin, Entry{Action: "test.late", Actor: "ops", Detail: map[string]string{"status": "OK"}}); err != nil {
				t.Fatal(err)
			}
			if n := countAction(t, l, "test.late"); n != 1 {
				t.Fatalf("%d records after drain and delivery", n)
			}
		})
		t.Run("concurrent drains and deliveries", func(t *testing.T) {
			var origins []string
			for i := 0; i < 30; i++ {
				o, err := change("test.race", false)
				if err != nil {
					t.Fatal(err)
				}
				origins = append(origins, o)
			}
			errs := make(chan error, 40)
			for _, o := range origins {
				go func() { errs <- l.Deliver(ctx, o, Entry{Action: "test.race", Actor: "ops"}) }()
			}
			for i := 0; i < 3; i++ {
				go func() { _, err := l.Drain(ctx, time.Time{}); errs <- err }()
			}
			for i := 0; i < 33; i++ {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			if n := countAction(t, l, "test.race"); n != 30 {
				t.Fatalf("%d records for 30 committed changes", n)
			}
		})
	})
}
