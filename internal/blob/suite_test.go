package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// impl is one implementation under the common suite.
type impl struct {
	// open returns an empty store of its own.
	open func(t *testing.T) Store
	// corrupt changes the stored bytes of key behind the store's back.
	corrupt func(t *testing.T, s Store, key string)
	// leftovers lists what a failed Put may have left in the store's own
	// space (temporary files or objects) that is not a blob.
	leftovers func(t *testing.T, s Store) []string
}

func sum(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func readAll(t *testing.T, s Store, key string) ([]byte, Info) {
	t.Helper()
	rc, info, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get %s: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %s: %v", key, err)
	}
	return b, info
}

func keys(t *testing.T, s Store, prefix string) []string {
	t.Helper()
	var out []string
	if err := s.List(context.Background(), prefix, func(i Info) error { out = append(out, i.Key); return nil }); err != nil {
		t.Fatalf("List %q: %v", prefix, err)
	}
	slices.Sort(out)
	return out
}

// failingReader yields n bytes of data and then fails, as a connection
// that breaks in the middle of an upload.
type failingReader struct {
	data []byte
	n    int
}

var errBroken = errors.New("connection reset in the middle of the upload")

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errBroken
	}
	m := copy(p[:min(len(p), f.n)], f.data)
	f.data, f.n = f.data[m:], f.n-m
	return m, nil
}

// runSuite runs the same tests against an implementation.
func runSuite(t *testing.T, im impl) {
	ctx := context.Background()

	t.Run("round trip", func(t *testing.T) {
		s := im.open(t)
		for _, n := range []int{0, 1, 4096, 1<<20 + 7} {
			data := randomBytes(uint64(n), n)
			for _, size := range []int64{int64(n), -1} {
				info, err := s.Put(ctx, bytes.NewReader(data), size)
				if err != nil {
					t.Fatalf("Put %d bytes (size %d): %v", n, size, err)
				}
				if info.Key != sum(data) || info.SHA256() != info.Key || info.Size != int64(n) {
					t.Fatalf("Put %d bytes: info %+v, want key %s", n, info, sum(data))
				}
				got, gi := readAll(t, s, info.Key)
				if !bytes.Equal(got, data) || gi.Size != int64(n) || gi.Key != info.Key {
					t.Fatalf("Get %d bytes: %d bytes back, info %+v", n, len(got), gi)
				}
				st, err := s.Stat(ctx, info.Key)
				if err != nil || st.Size != int64(n) || st.Modified.IsZero() {
					t.Fatalf("Stat: %+v %v", st, err)
				}
			}
		}
		if got := keys(t, s, ""); len(got) != 4 {
			t.Fatalf("List: %d blobs, want 4 (same content stored once): %v", len(got), got)
		}
	})

	t.Run("announced size must match", func(t *testing.T) {
		s := im.open(t)
		data := randomBytes(2, 10000)
		if _, err := s.Put(ctx, bytes.NewReader(data), 10001); err == nil {
			t.Fatal("a stream shorter than announced was stored")
		}
		if _, err := s.Put(ctx, bytes.NewReader(data), 9999); !errors.Is(err, ErrSize) {
			t.Fatalf("a stream longer than announced: %v, want ErrSize", err)
		}
		if got := keys(t, s, ""); len(got) != 0 {
			t.Fatalf("failed puts left blobs: %v", got)
		}
		if got := im.leftovers(t, s); len(got) != 0 {
			t.Fatalf("failed puts left temporary data: %v", got)
		}
	})

	t.Run("a put that fails midway leaves nothing", func(t *testing.T) {
		s := im.open(t)
		data := randomBytes(3, 3<<20)
		for _, size := range []int64{int64(len(data)), -1} {
			_, err := s.Put(ctx, &failingReader{data: data, n: 2 << 20}, size)
			if !errors.Is(err, errBroken) {
				t.Fatalf("size %d: Put over a broken stream: %v, want the stream's error", size, err)
			}
			for _, k := range []string{sum(data), sum(data[:2<<20])} {
				if _, err := s.Stat(ctx, k); !errors.Is(err, ErrNotFound) {
					t.Fatalf("size %d: Stat after a failed put: %v, want ErrNotFound", size, err)
				}
			}
		}
		if got := keys(t, s, ""); len(got) != 0 {
			t.Fatalf("a failed put is visible: %v", got)
		}
		if got := im.leftovers(t, s); len(got) != 0 {
			t.Fatalf("a failed put left temporary data: %v", got)
		}
		// Cancellation midway is the same.
		cctx, cancel := context.WithCancel(ctx)
		pr, pw := io.Pipe()
		go func() {
			_, _ = pw.Write(data[:1<<20])
			cancel()
			_, _ = pw.Write(data[1<<20:])
			pw.Close()
		}()
		if _, err := s.Put(cctx, pr, -1); err == nil {
			t.Fatal("a cancelled put succeeded")
		}
		pr.CloseWithError(errors.New("done"))
		if got := keys(t, s, ""); len(got) != 0 {
			t.Fatalf("a cancelled put is visible: %v", got)
		}
	})

	t.Run("concurrent puts of the same content", func(t *testing.T) {
		s := im.open(t)
		data := randomBytes(4, 1<<20+123)
		const n = 8
		var wg sync.WaitGroup
		infos := make([]Info, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				size := int64(len(data))
				if i%2 == 1 {
					size = -1
				}
				infos[i], errs[i] = s.Put(ctx, bytes.NewReader(data), size)
			})
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil || infos[i].Key != sum(data) || infos[i].Size != int64(len(data)) {
				t.Fatalf("put %d: %+v %v", i, infos[i], errs[i])
			}
		}
		if got := keys(t, s, ""); !slices.Equal(got, []string{sum(data)}) {
			t.Fatalf("List after concurrent puts: %v", got)
		}
		if got, _ := readAll(t, s, sum(data)); !bytes.Equal(got, data) {
			t.Fatal("the content read back differs")
		}
		if got := im.leftovers(t, s); len(got) != 0 {
			t.Fatalf("concurrent puts left temporary data: %v", got)
		}
	})

	t.Run("concurrent puts of different content", func(t *testing.T) {
		s := im.open(t)
		const n = 8
		var wg sync.WaitGroup
		want := make([]string, n)
		for i := range n {
			data := randomBytes(uint64(100+i), 50000+i)
			want[i] = sum(data)
			wg.Go(func() {
				if _, err := s.Put(ctx, bytes.NewReader(data), -1); err != nil {
					t.Errorf("put %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		slices.Sort(want)
		if got := keys(t, s, ""); !slices.Equal(got, want) {
			t.Fatalf("List: %v, want %v", got, want)
		}
	})

	t.Run("keys cannot leave the store", func(t *testing.T) {
		s := im.open(t)
		info, err := s.Put(ctx, bytes.NewReader([]byte("x")), 1)
		if err != nil {
			t.Fatal(err)
		}
		bad := []string{"", "../../../etc/passwd", "..", "/etc/passwd", info.Key[:63], info.Key + "0", "tmp/" + info.Key[:60],
			"AB" + info.Key[2:], info.Key[:62] + "/.", info.Key[:63] + "\x00", info.Key[:2] + "/../" + info.Key[6:], "sha256/" + info.Key[7:]}
		for _, k := range bad {
			if _, _, err := s.Get(ctx, k); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Get %q: %v, want ErrInvalidKey", k, err)
			}
			if _, err := s.Stat(ctx, k); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Stat %q: %v, want ErrInvalidKey", k, err)
			}
			if err := s.Delete(ctx, k); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Delete %q: %v, want ErrInvalidKey", k, err)
			}
		}
		for _, p := range []string{"../", "tmp/", "X", info.Key + "0"} {
			if err := s.List(ctx, p, func(Info) error { return nil }); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("List %q: %v, want ErrInvalidKey", p, err)
			}
		}
		if _, err := s.Stat(ctx, info.Key); err != nil {
			t.Fatalf("the blob is gone: %v", err)
		}
	})

	t.Run("missing, delete and list by prefix", func(t *testing.T) {
		s := im.open(t)
		missing := sum([]byte("never stored"))
		if _, err := s.Stat(ctx, missing); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Stat missing: %v", err)
		}
		if _, _, err := s.Get(ctx, missing); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get missing: %v", err)
		}
		if err := s.Delete(ctx, missing); err != nil {
			t.Fatalf("Delete missing: %v", err)
		}
		var all []string
		for i := range 20 {
			info, err := s.Put(ctx, bytes.NewReader([]byte(fmt.Sprint("blob ", i))), -1)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, info.Key)
		}
		slices.Sort(all)
		if got := keys(t, s, ""); !slices.Equal(got, all) {
			t.Fatalf("List: %v", got)
		}
		for _, p := range []string{all[0][:1], all[3][:2], all[5][:3], all[7]} {
			var want []string
			for _, k := range all {
				if len(k) >= len(p) && k[:len(p)] == p {
					want = append(want, k)
				}
			}
			if got := keys(t, s, p); !slices.Equal(got, want) {
				t.Fatalf("List %q: %v, want %v", p, got, want)
			}
		}
		stop := errors.New("enough")
		n := 0
		if err := s.List(ctx, "", func(Info) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
			t.Fatalf("List stopping at once: %v after %d", err, n)
		}
		if err := s.Delete(ctx, all[0]); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Stat(ctx, all[0]); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Stat after Delete: %v", err)
		}
		if got := keys(t, s, ""); !slices.Equal(got, all[1:]) {
			t.Fatalf("List after Delete: %v", got)
		}
	})

	t.Run("corruption is detected on read", func(t *testing.T) {
		s := im.open(t)
		data := randomBytes(5, 100000)
		info, err := s.Put(ctx, bytes.NewReader(data), -1)
		if err != nil {
			t.Fatal(err)
		}
		im.corrupt(t, s, info.Key)
		rc, _, err := s.Get(ctx, info.Key)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		if _, err := io.ReadAll(rc); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("reading a corrupted blob: %v, want ErrCorrupt", err)
		}
	})
}
