package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Local keeps blobs in a directory: DIR/ab/abcdef… (the first two hex
// digits fan the files out), written as a temporary file in DIR/tmp that is
// synced and then renamed into place, so a blob appears whole or not at all.
type Local struct {
	dir string
}

// staleTemp is the age after which a temporary file left by a killed
// process is removed when a store is opened.
const staleTemp = time.Hour

// OpenLocal opens (creating it if needed) a local blob directory and
// removes temporary files a killed process left behind.
func OpenLocal(dir string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("blob: no directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(abs, "tmp"), 0o750); err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	l := &Local{dir: abs}
	ents, err := os.ReadDir(l.tmpDir())
	if err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleTemp {
			_ = os.Remove(filepath.Join(l.tmpDir(), e.Name()))
		}
	}
	return l, nil
}

func (l *Local) tmpDir() string { return filepath.Join(l.dir, "tmp") }

// path is the file of a valid key.
func (l *Local) path(key string) string { return filepath.Join(l.dir, key[:2], key) }

func (l *Local) String() string { return "local:" + l.dir }

// Put implements Store.
func (l *Local) Put(ctx context.Context, r io.Reader, size int64) (info Info, err error) {
	f, err := os.CreateTemp(l.tmpDir(), "put-*")
	if err != nil {
		return info, fmt.Errorf("blob: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if f != nil {
			f.Close()
		}
		if err != nil {
			os.Remove(tmp)
		}
	}()
	hr := newHashingReader(ctx, r)
	src := io.Reader(hr)
	if size >= 0 {
		src = io.LimitReader(hr, size)
	}
	if _, err = io.Copy(f, src); err != nil {
		return info, err
	}
	if err = checkEnd(hr, size, hr.n); err != nil {
		return info, err
	}
	if err = f.Sync(); err != nil {
		return info, fmt.Errorf("blob: %w", err)
	}
	err = f.Close()
	f = nil
	if err != nil {
		return info, fmt.Errorf("blob: %w", err)
	}
	key := hr.sum()
	final := l.path(key)
	if fi, serr := os.Stat(final); serr == nil && fi.Size() == hr.n {
		// The same content is stored already.
		os.Remove(tmp)
		return Info{Key: key, Size: fi.Size(), Modified: fi.ModTime()}, nil
	}
	if err = os.MkdirAll(filepath.Dir(final), 0o750); err != nil {
		return info, fmt.Errorf("blob: %w", err)
	}
	// A concurrent Put of the same content renames identical bytes: either
	// rename leaves a whole file.
	if err = os.Rename(tmp, final); err != nil {
		return info, fmt.Errorf("blob: %w", err)
	}
	if err = syncDir(filepath.Dir(final)); err != nil {
		return info, err
	}
	fi, err := os.Stat(final)
	if err != nil {
		return info, fmt.Errorf("blob: %w", err)
	}
	return Info{Key: key, Size: fi.Size(), Modified: fi.ModTime()}, nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("blob: sync %s: %w", dir, err)
	}
	return nil
}

// Get implements Store.
func (l *Local) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	if err := checkKey(key); err != nil {
		return nil, Info{}, err
	}
	f, err := os.Open(l.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Info{}, ErrNotFound
	}
	if err != nil {
		return nil, Info{}, fmt.Errorf("blob: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, Info{}, fmt.Errorf("blob: %w", err)
	}
	info := Info{Key: key, Size: fi.Size(), Modified: fi.ModTime()}
	return verify(f, key, fi.Size()), info, nil
}

// Stat implements Store.
func (l *Local) Stat(ctx context.Context, key string) (Info, error) {
	if err := checkKey(key); err != nil {
		return Info{}, err
	}
	fi, err := os.Stat(l.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return Info{}, ErrNotFound
	}
	if err != nil {
		return Info{}, fmt.Errorf("blob: %w", err)
	}
	return Info{Key: key, Size: fi.Size(), Modified: fi.ModTime()}, nil
}

// Delete implements Store.
func (l *Local) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	err := os.Remove(l.path(key))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob: %w", err)
	}
	return nil
}

// List implements Store.
func (l *Local) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if !validPrefix(prefix) {
		return fmt.Errorf("%w: prefix %q", ErrInvalidKey, truncate(prefix, 80))
	}
	dirs, err := os.ReadDir(l.dir)
	if err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	for _, d := range dirs {
		name := d.Name()
		if !d.IsDir() || len(name) != 2 || !validHex(name) {
			continue // tmp and anything else that is not a fan-out folder
		}
		if len(prefix) >= 2 && name != prefix[:2] || len(prefix) == 1 && name[0] != prefix[0] {
			continue
		}
		files, err := os.ReadDir(filepath.Join(l.dir, name))
		if err != nil {
			return fmt.Errorf("blob: %w", err)
		}
		for _, f := range files {
			key := f.Name()
			if !ValidKey(key) || !strings.HasPrefix(key, prefix) || !f.Type().IsRegular() {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			fi, err := f.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // deleted meanwhile
			}
			if err != nil {
				return fmt.Errorf("blob: %w", err)
			}
			if err := fn(Info{Key: key, Size: fi.Size(), Modified: fi.ModTime()}); err != nil {
				return err
			}
		}
	}
	return nil
}
