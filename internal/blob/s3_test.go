package blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/minio/minio-go/v7"

	"xiangyun/internal/blob/blobtest"
)

// One SeaweedFS server for the package's S3 tests, with signed requests
// (the production set-up); each store gets a prefix of its own.
var (
	weedOnce sync.Once
	weed     *blobtest.Weed
)

func sharedWeed(t *testing.T) *blobtest.Weed {
	t.Helper()
	blobtest.Binary(t) // skips, or fails under CI, before anything starts
	weedOnce.Do(func() {
		weed = blobtest.StartShared(t, blobtest.Options{AccessKey: "xiangyun-test", SecretKey: "xiangyun-test-secret-0123456789"})
	})
	if weed == nil {
		t.Fatal("weed did not start (see the first S3 test)")
	}
	return weed
}

func TestMain(m *testing.M) {
	code := m.Run()
	blobtest.StopShared()
	os.Exit(code)
}

func randomPrefix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "t" + hex.EncodeToString(b[:]) + "/"
}

func s3Config(w *blobtest.Weed, prefix string) S3Config {
	return S3Config{Endpoint: w.Endpoint, Bucket: "xiangyun-test", Prefix: prefix, AccessKey: w.AccessKey, SecretKey: w.SecretKey,
		Create: true, PartSize: 5 << 20}
}

func s3Impl() impl {
	return impl{
		open: func(t *testing.T) Store {
			w := sharedWeed(t)
			s, err := OpenS3(context.Background(), s3Config(w, randomPrefix()))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		corrupt: func(t *testing.T, s Store, key string) {
			st := s.(*S3)
			if _, err := st.c.PutObject(context.Background(), st.bucket, st.object(key), strings.NewReader(strings.Repeat("tampered", 12500)), 100000,
				minio.PutObjectOptions{}); err != nil {
				t.Fatal(err)
			}
		},
		leftovers: func(t *testing.T, s Store) []string {
			st := s.(*S3)
			var out []string
			for o := range st.c.ListObjects(context.Background(), st.bucket, minio.ListObjectsOptions{Prefix: st.cfg.Prefix + "tmp/", Recursive: true}) {
				if o.Err != nil {
					t.Fatal(o.Err)
				}
				out = append(out, o.Key)
			}
			return out
		},
	}
}

// TestS3 runs the suite against a real S3 server (SeaweedFS); parts of
// 5 MiB make the larger puts multipart uploads.
func TestS3(t *testing.T) { runSuite(t, s3Impl()) }

// TestS3KilledPut kills a process in the middle of a Put to S3: the
// object never appears.
func TestS3KilledPut(t *testing.T) {
	w := sharedWeed(t)
	prefix := randomPrefix()
	killedPut(t, "TestHelperS3Put", []string{"BLOB_TEST_S3=" + w.Endpoint, "BLOB_TEST_S3_PREFIX=" + prefix,
		"BLOB_TEST_S3_KEYS=" + w.AccessKey + ":" + w.SecretKey}, func() Store {
		s, err := OpenS3(context.Background(), s3Config(w, prefix))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestHelperS3Put is the process TestS3KilledPut kills.
func TestHelperS3Put(t *testing.T) {
	ep := os.Getenv("BLOB_TEST_S3")
	if ep == "" {
		t.Skip("helper process only")
	}
	ak, sk, _ := strings.Cut(os.Getenv("BLOB_TEST_S3_KEYS"), ":")
	s, err := OpenS3(context.Background(), S3Config{Endpoint: ep, Bucket: "xiangyun-test", Prefix: os.Getenv("BLOB_TEST_S3_PREFIX"),
		AccessKey: ak, SecretKey: sk, Create: true, PartSize: 5 << 20})
	if err != nil {
		t.Fatal(err)
	}
	helperPut(t, s)
}

// TestS3Refused: a wrong secret, a missing bucket and an endpoint with a
// scheme are refused when the store opens.
func TestS3Refused(t *testing.T) {
	w := sharedWeed(t)
	ctx := context.Background()
	cfg := s3Config(w, "")
	cfg.SecretKey = "wrong"
	if _, err := OpenS3(ctx, cfg); err == nil {
		t.Fatal("a wrong secret key was accepted")
	}
	cfg = s3Config(w, "")
	cfg.Bucket, cfg.Create = "no-such-bucket", false
	if _, err := OpenS3(ctx, cfg); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("a missing bucket: %v", err)
	}
	cfg = s3Config(w, "")
	cfg.Endpoint = "http://" + w.Endpoint
	if _, err := OpenS3(ctx, cfg); err == nil {
		t.Fatal("an endpoint with a scheme was accepted")
	}
}
