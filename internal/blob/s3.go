package blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config configures an S3-compatible store.
type S3Config struct {
	Endpoint  string // host:port, without a scheme
	Bucket    string
	Prefix    string // optional folder inside the bucket, e.g. "xiangyun/"
	Region    string // optional
	AccessKey string // empty with SecretKey: anonymous requests
	SecretKey string
	TLS       bool // https
	// PartSize is the size of the parts a stream of unknown length is sent
	// in, and so the memory one Put holds (default 16 MiB).
	PartSize uint64
	// Create makes the bucket when it does not exist.
	Create bool
}

// S3 keeps blobs in an S3-compatible bucket as PREFIX/sha256/<key>. A Put
// streams to a temporary object PREFIX/tmp/<random> while hashing, then
// copies it to its key on the server and removes it, so the key object
// appears whole or not at all.
type S3 struct {
	c      *minio.Client
	cfg    S3Config
	bucket string
}

// OpenS3 connects to the store, checks (or creates) the bucket and removes
// temporary objects a killed process left behind.
func OpenS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("blob: S3 needs an endpoint and a bucket")
	}
	if strings.Contains(cfg.Endpoint, "://") {
		return nil, fmt.Errorf("blob: S3 endpoint %q: give host:port without a scheme (TLS is a separate setting)", cfg.Endpoint)
	}
	if cfg.Prefix != "" && !strings.HasSuffix(cfg.Prefix, "/") {
		cfg.Prefix += "/"
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = 16 << 20
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.TLS,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("blob: S3 %s: %w", cfg.Endpoint, err)
	}
	s := &S3{c: c, cfg: cfg, bucket: cfg.Bucket}
	ok, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("blob: S3 %s: bucket %s: %w", cfg.Endpoint, cfg.Bucket, err)
	}
	if !ok {
		if !cfg.Create {
			return nil, fmt.Errorf("blob: S3 %s: bucket %s does not exist", cfg.Endpoint, cfg.Bucket)
		}
		if err := c.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
			return nil, fmt.Errorf("blob: S3 %s: creating bucket %s: %w", cfg.Endpoint, cfg.Bucket, err)
		}
	}
	for o := range c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: cfg.Prefix + "tmp/", Recursive: true}) {
		if o.Err != nil {
			return nil, fmt.Errorf("blob: S3 %s: %w", cfg.Endpoint, o.Err)
		}
		if time.Since(o.LastModified) > staleTemp {
			_ = c.RemoveObject(ctx, s.bucket, o.Key, minio.RemoveObjectOptions{})
		}
	}
	return s, nil
}

func (s *S3) String() string {
	scheme := "http"
	if s.cfg.TLS {
		scheme = "https"
	}
	return "s3:" + scheme + "://" + s.cfg.Endpoint + "/" + s.bucket + "/" + s.cfg.Prefix
}

func (s *S3) object(key string) string { return s.cfg.Prefix + "sha256/" + key }

// notFound reports whether err says the object does not exist.
func notFound(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.Code == "NoSuchKey" || r.StatusCode == http.StatusNotFound
}

// Put implements Store.
func (s *S3) Put(ctx context.Context, r io.Reader, size int64) (info Info, err error) {
	var rnd [16]byte
	_, _ = rand.Read(rnd[:])
	tmp := s.cfg.Prefix + "tmp/" + hex.EncodeToString(rnd[:])
	defer func() {
		// Also after a failure or cancellation (a part may have been
		// stored): a context of its own.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if rerr := s.c.RemoveObject(cctx, s.bucket, tmp, minio.RemoveObjectOptions{}); rerr != nil && err == nil && !notFound(rerr) {
			err = fmt.Errorf("blob: removing %s: %w", tmp, rerr)
		}
	}()
	hr := newHashingReader(ctx, r)
	src := io.Reader(hr)
	if size >= 0 {
		src = io.LimitReader(hr, size)
	}
	opts := minio.PutObjectOptions{ContentType: "application/octet-stream", PartSize: s.cfg.PartSize}
	if _, err = s.c.PutObject(ctx, s.bucket, tmp, src, size, opts); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			err = cerr
		}
		return info, fmt.Errorf("blob: S3 put: %w", err)
	}
	if err = checkEnd(hr, size, hr.n); err != nil {
		return info, err
	}
	key := hr.sum()
	if st, serr := s.c.StatObject(ctx, s.bucket, s.object(key), minio.StatObjectOptions{}); serr == nil && st.Size == hr.n {
		return Info{Key: key, Size: st.Size, Modified: st.LastModified}, nil // stored already
	} else if serr != nil && !notFound(serr) {
		return info, fmt.Errorf("blob: S3 stat: %w", serr)
	}
	// A server-side copy: small objects in one request, large ones in parts.
	up, err := s.c.ComposeObject(ctx, minio.CopyDestOptions{Bucket: s.bucket, Object: s.object(key)},
		minio.CopySrcOptions{Bucket: s.bucket, Object: tmp})
	if err != nil {
		return info, fmt.Errorf("blob: S3 copy: %w", err)
	}
	mod := up.LastModified
	if mod.IsZero() {
		mod = time.Now()
	}
	return Info{Key: key, Size: hr.n, Modified: mod}, nil
}

// Get implements Store.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	if err := checkKey(key); err != nil {
		return nil, Info{}, err
	}
	o, err := s.c.GetObject(ctx, s.bucket, s.object(key), minio.GetObjectOptions{})
	if err != nil {
		return nil, Info{}, fmt.Errorf("blob: S3 get: %w", err)
	}
	st, err := o.Stat()
	if err != nil {
		o.Close()
		if notFound(err) {
			return nil, Info{}, ErrNotFound
		}
		return nil, Info{}, fmt.Errorf("blob: S3 get: %w", err)
	}
	return verify(o, key, st.Size), Info{Key: key, Size: st.Size, Modified: st.LastModified}, nil
}

// Stat implements Store.
func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	if err := checkKey(key); err != nil {
		return Info{}, err
	}
	st, err := s.c.StatObject(ctx, s.bucket, s.object(key), minio.StatObjectOptions{})
	if notFound(err) {
		return Info{}, ErrNotFound
	}
	if err != nil {
		return Info{}, fmt.Errorf("blob: S3 stat: %w", err)
	}
	return Info{Key: key, Size: st.Size, Modified: st.LastModified}, nil
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := s.c.RemoveObject(ctx, s.bucket, s.object(key), minio.RemoveObjectOptions{}); err != nil && !notFound(err) {
		return fmt.Errorf("blob: S3 delete: %w", err)
	}
	return nil
}

// List implements Store.
func (s *S3) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if !validPrefix(prefix) {
		return fmt.Errorf("%w: prefix %q", ErrInvalidKey, truncate(prefix, 80))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing when fn fails
	base := s.object("")
	for o := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: base + prefix, Recursive: true}) {
		if o.Err != nil {
			return fmt.Errorf("blob: S3 list: %w", o.Err)
		}
		key := strings.TrimPrefix(o.Key, base)
		if !ValidKey(key) {
			continue
		}
		if err := fn(Info{Key: key, Size: o.Size, Modified: o.LastModified}); err != nil {
			return err
		}
	}
	return ctx.Err()
}
