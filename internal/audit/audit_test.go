package audit

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"xiangyun/internal/db"
	"xiangyun/internal/db/dbtest"
)

// forEachBackend runs fn as a subtest on every backend of the suite.
func forEachBackend(t *testing.T, fn func(t *testing.T, dsn func(testing.TB) string)) {
	for dialect, dsn := range dbtest.TestDSNs(t) {
		t.Run(string(dialect), func(t *testing.T) { fn(t, dsn) })
	}
}

func testKey(t testing.TB) Key {
	t.Helper()
	k, err := NewKey("xiangyun-audit")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func openTestLog(t testing.TB, dsn string) (*Log, *db.DB) {
	t.Helper()
	ctx := context.Background()
	store := dbtest.Open(t, dsn, "audit")
	l, err := Open(ctx, store, testKey(t))
	if err != nil {
		t.Fatal(err)
	}
	return l, store
}

func mustVerify(t testing.TB, l *Log) Report {
	t.Helper()
	rep, err := l.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestAppendConcurrentAndVerify(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(testing.TB) string) {
		ctx := context.Background()
		dsnStr := dsn(t)
		l, store := openTestLog(t, dsnStr)
		if rep := mustVerify(t, l); !rep.OK || rep.Size != 0 {
			t.Fatalf("empty log: %+v %v", rep, rep.First)
		}
		// A second store stands for another process writing the same log.
		store2, err := db.Open(ctx, dsnStr, "audit")
		if err != nil {
			t.Fatal(err)
		}
		defer store2.Close()
		l2, err := Open(ctx, store2, l.key)
		if err != nil {
			t.Fatal(err)
		}
		const workers, each = 8, 25
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			seqs []int64
		)
		errs := make(chan error, workers)
		for w := range workers {
			wg.Go(func() {
				log := l
				if w%2 == 1 {
					log = l2
				}
				for i := range each {
					e, err := log.Append(ctx, Entry{
						ActorID: int64(w + 1), Actor: fmt.Sprintf("user%d", w),
						Action: "org.body.update", Object: fmt.Sprintf("body:%d", i),
						IP: "10.0.0.1", RequestID: fmt.Sprintf("r%d-%d", w, i),
						Detail: map[string]string{"field": "name", "<html>": "a & b"},
					})
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					seqs = append(seqs, e.Seq)
					mu.Unlock()
				}
			})
		}
		// Verify while appends are running: records beyond the head it read
		// must not count as inserted.
		done := make(chan struct{})
		verified := make(chan error, 1)
		go func() {
			for {
				rep, err := l.Verify(ctx)
				if err == nil && !rep.OK {
					err = fmt.Errorf("verify during appends: %v", rep.First)
				}
				select {
				case <-done:
					verified <- err
					return
				default:
				}
				if err != nil {
					verified <- err
					return
				}
			}
		}()
		wg.Wait()
		close(done)
		if err := <-verified; err != nil {
			t.Fatal(err)
		}
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		slices.Sort(seqs)
		for i, s := range seqs {
			if s != int64(i) {
				t.Fatalf("seqs not 0..n-1: %v", seqs)
			}
		}

		rep := mustVerify(t, l)
		if !rep.OK || rep.Size != workers*each || rep.Checked != workers*each {
			t.Fatalf("verify: %+v %v", rep, rep.First)
		}

		size, root, signed, err := l.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n, err := note.Open(signed, note.VerifierList(l.key.Verifier))
		if err != nil {
			t.Fatal(err)
		}
		// A C2SP checkpoint: origin, size, base64 root.
		if want := fmt.Sprintf("xiangyun-audit\n%d\n%s\n", size, base64.StdEncoding.EncodeToString(root[:])); n.Text != want || size != workers*each {
			t.Fatalf("head: size %d root %v note %q, want %q", size, root, n.Text, want)
		}

		// Reopening keeps the head, and a verifier-only key can verify.
		ro, err := Open(ctx, store, Key{Verifier: l.key.Verifier})
		if err != nil {
			t.Fatal(err)
		}
		if rep := mustVerify(t, ro); !rep.OK || rep.Size != size {
			t.Fatalf("read-only verify: %+v %v", rep, rep.First)
		}
		if _, err := ro.Append(ctx, Entry{Action: "x"}); err == nil {
			t.Fatal("append on read-only log succeeded")
		}
	})
}

func TestAppendNormalizes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(testing.TB) string) {
		ctx := context.Background()
		l, _ := openTestLog(t, dsn(t))
		in := map[string]string{
			"Password": "p", "new_password": "p", "accessToken": "t", "client_secret": "s",
			"Cookie": "c", "AUTHORIZATION": "Bearer x", "field": "email", "ua": "curl\x00/8",
		}
		e, err := l.Append(ctx, Entry{Action: "session.login", Detail: in,
			Time: time.Date(2025, 3, 1, 8, 0, 0, 123456789, time.FixedZone("CST", 8*3600))})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"field": "email", "ua": "curl/8"}
		if fmt.Sprint(e.Detail) != fmt.Sprint(want) {
			t.Errorf("returned detail = %v, want %v", e.Detail, want)
		}
		if len(in) != 8 {
			t.Error("Append modified the caller's map")
		}
		if e.Actor != "anonymous" || e.Outcome != OutcomeSuccess {
			t.Errorf("defaults: actor %q outcome %q", e.Actor, e.Outcome)
		}
		if !e.Time.Equal(time.Date(2025, 3, 1, 0, 0, 0, 123456000, time.UTC)) {
			t.Errorf("time = %v", e.Time)
		}
		got, _, err := l.List(ctx, Filter{})
		if err != nil || len(got) != 1 {
			t.Fatalf("list: %v %v", got, err)
		}
		if fmt.Sprint(got[0]) != fmt.Sprint(e) {
			t.Errorf("stored %+v\nreturned %+v", got[0], e)
		}

		for _, bad := range []Entry{{}, {Action: "x", Outcome: "maybe"}, {Action: "x", ActorID: 3}} {
			if _, err := l.Append(ctx, bad); err == nil {
				t.Errorf("Append(%+v) succeeded", bad)
			}
		}
	})
}

func TestListAndEach(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(testing.TB) string) {
		ctx := context.Background()
		l, _ := openTestLog(t, dsn(t))
		base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		entries := []Entry{
			{Actor: "alice", ActorID: 1, Action: "session.login", Object: "user:1", IP: "10.0.0.1"},
			{Actor: "bob", ActorID: 2, Action: "session.login_failed", Object: "user:2", Outcome: OutcomeFailure, IP: "10.0.0.2"},
			{Actor: "alice", ActorID: 1, Action: "org.body.create", Object: "body:12", Detail: map[string]string{"name": "Statistics 100% Bureau"}},
			{Actor: "alice", ActorID: 1, Action: "auth.role.grant", Object: "user:2", Detail: map[string]string{"role": "Editor"}},
			{Actor: "bob", ActorID: 2, Action: "catalog.entry.publish", Object: "entry:7", Outcome: OutcomeDenied},
			{Actor: "system", Action: "session_x.cleanup", Object: "session:all"},
		}
		for i, e := range entries {
			e.Time = base.Add(time.Duration(i) * time.Hour)
			if _, err := l.Append(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			name string
			f    Filter
			want []int64 // seqs, newest first
		}{
			{"all", Filter{}, []int64{5, 4, 3, 2, 1, 0}},
			{"actor", Filter{Actor: "alice"}, []int64{3, 2, 0}},
			{"action prefix", Filter{Action: "session."}, []int64{1, 0}},
			{"action prefix is literal", Filter{Action: "session_"}, []int64{5}},
			{"action exact", Filter{Action: "auth.role.grant"}, []int64{3}},
			{"object", Filter{Object: "user:2"}, []int64{3, 1}},
			{"outcome", Filter{Outcome: OutcomeFailure}, []int64{1}},
			{"ip", Filter{IP: "10.0.0.2"}, []int64{1}},
			{"time range", Filter{From: base.Add(time.Hour), To: base.Add(3 * time.Hour)}, []int64{2, 1}},
			{"q actor", Filter{Q: "BOB"}, []int64{4, 1}},
			{"q detail", Filter{Q: "editor"}, []int64{3}},
			{"q wildcard is literal", Filter{Q: "100%"}, []int64{2}},
			{"q object", Filter{Q: "body:"}, []int64{2}},
			{"combined", Filter{Actor: "alice", Action: "session"}, []int64{0}},
			{"none", Filter{Actor: "mallory"}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, total, err := l.List(ctx, tt.f)
				if err != nil {
					t.Fatal(err)
				}
				if total != len(tt.want) || fmt.Sprint(seqsOf(got)) != fmt.Sprint(tt.want) {
					t.Errorf("List = %v (total %d), want %v", seqsOf(got), total, tt.want)
				}
				var each []int64
				if err := l.Each(ctx, tt.f, func(e Entry) error { each = append(each, e.Seq); return nil }); err != nil {
					t.Fatal(err)
				}
				slices.Reverse(each)
				if fmt.Sprint(each) != fmt.Sprint(tt.want) {
					t.Errorf("Each = %v, want reversed %v", each, tt.want)
				}
			})
		}

		got, total, err := l.List(ctx, Filter{Offset: 2, Limit: 3})
		if err != nil || total != 6 || fmt.Sprint(seqsOf(got)) != "[3 2 1]" {
			t.Errorf("page = %v total %d err %v", seqsOf(got), total, err)
		}
		got, _, err = l.List(ctx, Filter{Offset: 10})
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("page past end = %#v, %v", got, err)
		}
		var each []int64
		err = l.Each(ctx, Filter{Offset: 4}, func(e Entry) error { each = append(each, e.Seq); return nil })
		if err != nil || fmt.Sprint(each) != "[4 5]" {
			t.Errorf("Each with offset = %v, %v", each, err)
		}
		stop := fmt.Errorf("stop")
		if err := l.Each(ctx, Filter{}, func(Entry) error { return stop }); err != stop {
			t.Errorf("Each did not pass on fn's error: %v", err)
		}
	})
}

func seqsOf(es []Entry) []int64 {
	var s []int64
	for _, e := range es {
		s = append(s, e.Seq)
	}
	return s
}

func TestLeafDataIncludesSeqAndIsUnambiguous(t *testing.T) {
	a := Entry{Seq: 1, Action: "a", Actor: "b\nc"}
	b := a
	b.Seq = 2
	if leafHash(&a) == leafHash(&b) {
		t.Error("seq not in leaf")
	}
	c := Entry{Seq: 1, Action: "a\nactor 1\nb", Actor: "c"}
	d := Entry{Seq: 1, Action: "a", Actor: "b\nactor 1\nc"}
	if leafHash(&c) == leafHash(&d) {
		t.Error("field boundaries are ambiguous")
	}
	if !strings.HasPrefix(string(leafData(&a)), leafVersion) {
		t.Error("missing version line")
	}
}
