package audit

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"xiangyun/internal/db"
)

// Anchoring: the log's checkpoints also live outside its database, so that
// whoever controls the database cannot wipe the log, roll it back to an
// older head or re-sign it with another key unnoticed. Each checkpoint
// (signed head) is appended to a checkpoint file and, when configured, sent
// to a witness (https://c2sp.org/tlog-witness) with a consistency proof from
// the last size the witness saw. At start-up and in Verify the log must be
// consistent with the largest anchored checkpoint (CheckAnchor).

// Anchor says where the log's checkpoints are kept outside its database.
type Anchor struct {
	File    string       // checkpoint file, appended to; "" = none
	Witness string       // base URL of a tlog-witness; "" = none
	Client  *http.Client // for the witness; nil = a client with a 10 s timeout
}

type anchorState struct {
	mu          sync.Mutex
	cfg         Anchor
	loaded      bool
	last        *Checkpoint // the largest anchored checkpoint
	witnessSize int64       // the size the witness last accepted
}

// SetAnchor makes the log anchor its checkpoints as a says. Call it before
// CheckAnchor and before the log is used.
func (l *Log) SetAnchor(a Anchor) {
	l.anchor.mu.Lock()
	defer l.anchor.mu.Unlock()
	if a.Client == nil {
		a.Client = &http.Client{Timeout: 10 * time.Second}
	}
	l.anchor.cfg, l.anchor.loaded, l.anchor.last, l.anchor.witnessSize = a, false, nil, 0
}

// ReadCheckpoints opens every checkpoint in the file at path (a missing file
// holds none). Each must be signed by the log's key.
func (l *Log) ReadCheckpoints(path string) ([]Checkpoint, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: checkpoint file: %w", err)
	}
	var out []Checkpoint
	for i, msg := range splitNotes(b) {
		cp, err := l.OpenCheckpoint(msg)
		if err != nil {
			return nil, fmt.Errorf("audit: checkpoint %d in %s: %w", i+1, path, err)
		}
		out = append(out, cp)
	}
	return out, nil
}

// largestCheckpoint opens the largest checkpoint in the file at path. Only
// that one's signature is checked: the file grows by a checkpoint a minute,
// and whoever could add a forged one could as well truncate the file.
func (l *Log) largestCheckpoint(path string) (*Checkpoint, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: checkpoint file: %w", err)
	}
	var (
		best     []byte
		bestSize int64 = -1
		bestN    int
	)
	for i, msg := range splitNotes(b) {
		text, _, _ := bytes.Cut(msg, []byte("\n\n"))
		_, tree, err := parseCheckpointText(string(text) + "\n")
		if err != nil {
			return nil, fmt.Errorf("audit: checkpoint %d in %s: %w", i+1, path, err)
		}
		if tree.N > bestSize {
			best, bestSize, bestN = msg, tree.N, i+1
		}
	}
	if best == nil {
		return nil, nil
	}
	cp, err := l.OpenCheckpoint(best)
	if err != nil {
		return nil, fmt.Errorf("audit: checkpoint %d in %s: %w", bestN, path, err)
	}
	return &cp, nil
}

// CheckAnchor checks the log against the largest checkpoint in the anchor
// file and returns it (nil when none was anchored yet). A log shorter than
// it, or not consistent with it, or an anchored checkpoint signed by another
// key, is ErrTampered.
func (l *Log) CheckAnchor(ctx context.Context) (*Checkpoint, error) {
	l.anchor.mu.Lock()
	defer l.anchor.mu.Unlock()
	return l.checkAnchorLocked(ctx)
}

func (l *Log) checkAnchorLocked(ctx context.Context) (*Checkpoint, error) {
	a := &l.anchor
	if a.cfg.File == "" {
		a.loaded = true
		return nil, nil
	}
	last, err := l.largestCheckpoint(a.cfg.File)
	if err != nil {
		return nil, err
	}
	if last != nil {
		if err := l.Consistent(ctx, *last); err != nil {
			return nil, fmt.Errorf("%w (anchored in %s)", err, a.cfg.File)
		}
	}
	a.last, a.loaded = last, true
	return last, nil
}

// Consistent checks that the log's signed head extends cp: it is at least as
// large and a consistency proof from the stored tree hashes links cp's root
// to the head's. Any failure to do so is ErrTampered.
func (l *Log) Consistent(ctx context.Context, cp Checkpoint) error {
	h, err := l.readHead(ctx)
	if errors.Is(err, errNoHead) {
		return fmt.Errorf("%w: the log has no tree head but a checkpoint covers %d records: the log was wiped", ErrTampered, cp.Size)
	}
	if err != nil {
		return err
	}
	head, err := l.OpenCheckpoint([]byte(h.note))
	if err != nil {
		if errors.Is(err, ErrTampered) {
			return fmt.Errorf("tree head: %w", err)
		}
		return fmt.Errorf("%w: tree head: %v", ErrTampered, err)
	}
	switch {
	case head.Size < cp.Size:
		return fmt.Errorf("%w: the log holds %d records but a checkpoint signed earlier covers %d: records %d–%d were removed or the log was rolled back",
			ErrTampered, head.Size, cp.Size, head.Size, cp.Size-1)
	case head.Size == cp.Size && head.Root != cp.Root:
		return fmt.Errorf("%w: the log's head at size %d has another root than a checkpoint signed earlier: the log was rewritten", ErrTampered, cp.Size)
	case head.Size == cp.Size:
		return nil
	case cp.Size == 0: // every tree extends the empty one
		if empty, _ := tlog.TreeHash(0, nil); cp.Root != empty {
			return fmt.Errorf("%w: a checkpoint of the empty log has a wrong root", ErrTampered)
		}
		return nil
	}
	proof, err := tlog.ProveTree(head.Size, cp.Size, &dbHashReader{ctx: ctx, l: l})
	if err == nil {
		err = tlog.CheckTree(proof, head.Size, head.Root, cp.Size, cp.Root)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: the log (size %d) is not consistent with a checkpoint signed earlier at size %d: records before %d were rewritten (%v)",
			ErrTampered, head.Size, cp.Size, cp.Size, err)
	}
	return nil
}

// CurrentCheckpoint returns the log's signed tree head as a checkpoint, for
// an auditor to keep and later check with Consistent.
func (l *Log) CurrentCheckpoint(ctx context.Context) ([]byte, error) {
	h, err := l.readHead(ctx)
	if err != nil {
		return nil, err
	}
	return []byte(h.note), nil
}

// AnchorHead appends the current signed head to the checkpoint file (and
// sends it to the witness) unless it was anchored already. It refuses to
// anchor a head that is not consistent with the last anchored checkpoint.
func (l *Log) AnchorHead(ctx context.Context) error {
	h, err := l.readHead(ctx)
	if err != nil {
		return err
	}
	return l.anchorNote(ctx, []byte(h.note))
}

// anchorNote anchors the signed checkpoint msg of this log, if it is larger
// than the last anchored one. The log's head must extend both.
func (l *Log) anchorNote(ctx context.Context, msg []byte) error {
	a := &l.anchor
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cfg.File == "" && a.cfg.Witness == "" {
		return nil
	}
	if !a.loaded {
		if _, err := l.checkAnchorLocked(ctx); err != nil {
			return err
		}
	}
	cp, err := l.OpenCheckpoint(msg)
	if err != nil {
		return fmt.Errorf("audit: anchor: %w", err)
	}
	if cp.Origin == legacyTreeOrigin {
		return nil // re-signed as a checkpoint when the log is next opened with its key
	}
	if a.last != nil {
		if err := l.Consistent(ctx, *a.last); err != nil {
			return fmt.Errorf("audit: anchor: %w", err)
		}
		if cp.Size <= a.last.Size {
			return nil
		}
	}
	if err := l.Consistent(ctx, cp); err != nil {
		return fmt.Errorf("audit: anchor: %w", err)
	}
	if a.cfg.Witness != "" {
		cosigs, err := l.witness(ctx, cp)
		if err != nil {
			// The file still anchors the checkpoint; the next one retries.
			err = fmt.Errorf("audit: witness %s: %w", a.cfg.Witness, err)
			if a.cfg.File == "" {
				return err
			}
			l.witnessErr(err)
		} else {
			cp.Note = append(bytes.Clone(cp.Note), cosigs...)
		}
	}
	if a.cfg.File != "" {
		if err := appendFile(a.cfg.File, cp.Note); err != nil {
			return fmt.Errorf("audit: checkpoint file: %w", err)
		}
	}
	a.last = &cp
	return nil
}

// witnessErr reports a witness failure that did not stop anchoring.
func (l *Log) witnessErr(err error) {
	if l.logf != nil {
		l.logf(err)
	}
}

// SetErrorLog makes the log report background failures (a witness that does
// not answer) to logf.
func (l *Log) SetErrorLog(logf func(error)) { l.logf = logf }

// appendFile appends msg followed by a blank line to the file at path in one
// write, and syncs it.
func appendFile(path string, msg []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(append(bytes.Clone(msg), '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// witness sends head to the witness as a tlog-witness add-checkpoint
// request: "old N", the consistency proof from N, a blank line and the
// checkpoint. It returns the witness's cosignature lines. When the witness
// knows another old size (409), the request is repeated from that size.
func (l *Log) witness(ctx context.Context, head Checkpoint) ([]byte, error) {
	a := &l.anchor
	for attempt := 0; ; attempt++ {
		old := a.witnessSize
		if old > head.Size {
			return nil, fmt.Errorf("the witness has size %d, beyond the log's %d", old, head.Size)
		}
		var body bytes.Buffer
		fmt.Fprintf(&body, "old %d\n", old)
		if old > 0 && old < head.Size {
			proof, err := tlog.ProveTree(head.Size, old, &dbHashReader{ctx: ctx, l: l})
			if err != nil {
				return nil, err
			}
			for _, h := range proof {
				body.WriteString(base64.StdEncoding.EncodeToString(h[:]) + "\n")
			}
		}
		body.WriteString("\n")
		body.Write(head.Note)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(a.cfg.Witness, "/")+"/add-checkpoint", &body)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "text/plain; charset=utf-8")
		res, err := a.cfg.Client.Do(req)
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
		res.Body.Close()
		if err != nil {
			return nil, err
		}
		switch {
		case res.StatusCode == http.StatusOK:
			a.witnessSize = head.Size
			return b, nil
		case res.StatusCode == http.StatusConflict && attempt == 0:
			n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("conflict without a size: %q", b)
			}
			a.witnessSize = n
		default:
			return nil, fmt.Errorf("%s: %s", res.Status, strings.TrimSpace(string(b)))
		}
	}
}

// RunAnchor anchors the head every interval (when it grew) until ctx ends,
// and once more at the end. Failures are reported to logf.
func (l *Log) RunAnchor(ctx context.Context, interval time.Duration, logf func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := l.AnchorHead(context.WithoutCancel(ctx)); err != nil && logf != nil {
				logf(err)
			}
			return
		case <-t.C:
		}
		if err := l.AnchorHead(ctx); err != nil && ctx.Err() == nil && logf != nil {
			logf(err)
		}
	}
}

// dbHashReader reads the stored tree hashes outside a transaction.
type dbHashReader struct {
	ctx context.Context
	l   *Log
}

func (r *dbHashReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	q, args := db.InList("SELECT id, hash FROM audit_hashes WHERE id IN ", indexes)
	rows, err := r.l.db.R.QueryContext(r.ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	found := make(map[int64]tlog.Hash, len(indexes))
	for rows.Next() {
		var (
			id int64
			b  []byte
		)
		if err := rows.Scan(&id, &b); err != nil {
			return nil, err
		}
		if len(b) == tlog.HashSize {
			found[id] = tlog.Hash(b)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		h, ok := found[idx]
		if !ok {
			return nil, fmt.Errorf("stored hash %d is missing", idx)
		}
		out[i] = h
	}
	return out, nil
}
