package audit

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/mod/sumdb/tlog"
)

// Kinds of Problem.
const (
	ProblemChanged       = "changed"        // the record (or its stored hash) no longer matches what was logged
	ProblemRemoved       = "removed"        // the record is missing
	ProblemReordered     = "reordered"      // the record holds the content logged at another seq
	ProblemInserted      = "inserted"       // a record that was never logged
	ProblemHeadSignature = "head_signature" // a tree head or checkpoint is not signed by the key
	ProblemHeadMismatch  = "head_mismatch"  // the records do not hash to a signed root
	ProblemAnchor        = "anchor"         // the log does not extend the checkpoint anchored outside its database
)

// Problem is one integrity failure found by Verify.
type Problem struct {
	Seq     int64  // the first record affected
	Kind    string // one of the Problem* kinds
	Message string
}

func (p *Problem) String() string {
	return fmt.Sprintf("seq %d: %s: %s", p.Seq, p.Kind, p.Message)
}

// Report is the result of Verify.
type Report struct {
	Size     int64    // records in the signed tree head
	Checked  int64    // records whose hash was recomputed
	OK       bool     // no problem was found
	First    *Problem // the problem at the lowest seq, nil when OK
	Anchored int64    // size of the anchored checkpoint the log extends (see SetAnchor); 0 when none
}

// Verify checks the whole log and reports its first problem by seq:
//
//  1. The tree head and every checkpoint must carry a valid signature by the
//     key and agree with their rows; the records must be exactly the seqs
//     0..size-1 (a missing seq is "removed", an extra one "inserted").
//  2. Each record's canonical leaf hash is recomputed and compared with the
//     stored level-0 hash of its seq ("changed"; "reordered" when the
//     original content of that seq turns up at another seq).
//  3. The tree is rebuilt from the stored leaf hashes and its root compared
//     with the signed head and every checkpoint. A mismatch means records
//     were rewritten together with their leaf hashes: it is reported at the
//     first stored interior hash that no longer matches, or else at the
//     start of the range after the last matching checkpoint.
//
// Records and hashes are streamed in order; memory stays O(log n). Records
// appended while Verify runs are beyond the head it read and are skipped.
func (l *Log) Verify(ctx context.Context) (Report, error) {
	v := &verification{}
	head, err := l.readHead(ctx)
	if errors.Is(err, errNoHead) {
		return Report{First: &Problem{Kind: ProblemRemoved, Message: "the log has no signed tree head: its tables were wiped"}}, nil
	}
	if err != nil {
		return Report{}, err
	}

	// Step 1: signed heads.
	size := head.size
	var targets []signedRoot
	if tree, err := l.openTree(head.note); err != nil {
		v.report(head.size, ProblemHeadSignature, "tree head at size %d: %v", head.size, err)
	} else {
		if tree.N != head.size || hexHash(tree.Hash) != head.root {
			v.report(min(tree.N, head.size), ProblemHeadMismatch,
				"tree head row (size %d, root %s) differs from its signed note (size %d, root %s)",
				head.size, head.root, tree.N, hexHash(tree.Hash))
		}
		size = tree.N
		targets = append(targets, signedRoot{tree.N, tree.Hash, "signed tree head"})
	}
	cps, err := l.readCheckpoints(ctx)
	if err != nil {
		return Report{}, err
	}
	for _, cp := range cps {
		tree, err := l.openTree(cp.note)
		if err != nil {
			v.report(cp.size, ProblemHeadSignature, "checkpoint at size %d: %v", cp.size, err)
			continue
		}
		if tree.N != cp.size || hexHash(tree.Hash) != cp.root {
			v.report(min(tree.N, cp.size), ProblemHeadMismatch,
				"checkpoint row (size %d, root %s) differs from its signed note (size %d, root %s)",
				cp.size, cp.root, tree.N, hexHash(tree.Hash))
		}
		if tree.N > size {
			v.report(size, ProblemRemoved,
				"a signed checkpoint covers %d records but the tree head only %d: records from seq %d on were removed or the head was rolled back",
				tree.N, size, size)
			continue
		}
		targets = append(targets, signedRoot{tree.N, tree.Hash, fmt.Sprintf("signed checkpoint at size %d", tree.N)})
	}
	slices.SortFunc(targets, func(a, b signedRoot) int { return cmp.Compare(a.size, b.size) })

	// Steps 2 and 3, streaming records and stored hashes side by side.
	recRows, err := l.db.R.QueryContext(ctx, "SELECT "+recordColumns+" FROM audit_records ORDER BY seq")
	if err != nil {
		return Report{}, fmt.Errorf("audit: verify: %w", err)
	}
	defer recRows.Close()
	hashRows, err := l.db.R.QueryContext(ctx, "SELECT id, hash FROM audit_hashes WHERE id < $1 ORDER BY id", tlog.StoredHashCount(size))
	if err != nil {
		return Report{}, fmt.Errorf("audit: verify: %w", err)
	}
	defer hashRows.Close()
	recs := &recordCursor{rows: recRows}
	hashes := &hashCursor{rows: hashRows}
	recs.next()
	hashes.next()

	var (
		tree     compactTree
		lastGood int64 // size of the last signed root that matched
	)
	checkRoots := func(n int64) {
		for len(targets) > 0 && targets[0].size == n {
			t := targets[0]
			targets = targets[1:]
			if tree.root() == t.root {
				lastGood = n
				continue
			}
			if v.first != nil && v.first.Seq < n {
				continue // explained by an earlier problem
			}
			seq, end := lastGood, n
			if p := v.stale; p != nil && p.end > lastGood {
				seq, end = max(p.start, lastGood), min(p.end, n)
			}
			v.stale = nil
			v.report(seq, ProblemHeadMismatch,
				"a record in seq %d–%d was rewritten together with its stored hashes: the first %d records no longer hash to the root of the %s",
				seq, end-1, n, t.what)
		}
	}
	checkRoots(0)

	for i := int64(0); i < size; i++ {
		// Records below i are negative seqs: never logged.
		for recs.ok && recs.cur.Seq < i {
			v.report(recs.cur.Seq, ProblemInserted, "record with seq %d is not part of the log", recs.cur.Seq)
			recs.next()
		}
		stored, haveStored := hashes.get(tlog.StoredHashIndex(0, i))
		leaf := stored
		if recs.ok && recs.cur.Seq == i {
			r := recs.cur
			recs.next()
			v.checked++
			got := leafHash(&r.Entry)
			switch {
			case r.detailErr != nil:
				v.report(i, ProblemChanged, "record %d: detail is not a JSON object of strings: %v", i, r.detailErr)
			case !haveStored:
				v.report(i, ProblemChanged, "record %d: its stored leaf hash is missing", i)
				leaf = got
			case got != stored:
				if v.report(i, ProblemChanged, "record %d does not match its stored leaf hash", i) {
					v.moved = &movedCheck{seq: i, hash: stored}
				}
			case r.leafHash != hexHash(got):
				v.report(i, ProblemChanged, "record %d: its leaf_hash column was altered", i)
			}
			v.checkMoved(&r)
		} else {
			v.report(i, ProblemRemoved, "record %d is missing", i)
		}
		// The tree is rebuilt from the stored leaf hashes; record problems
		// were reported above, so a root mismatch means the leaves changed.
		for _, n := range tree.push(leaf) {
			s, ok := hashes.get(tlog.StoredHashIndex(n.level, i>>n.level))
			if ok && s == n.hash {
				continue
			}
			start := i >> n.level << n.level
			end := start + 1<<n.level
			if v.stale == nil && (v.first == nil || v.first.Seq >= end) {
				v.stale = &span{start, end}
			}
		}
		checkRoots(i + 1)
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return Report{}, err
			}
		}
	}

	// Records beyond the head: appended since we read it, or inserted.
	if recs.ok {
		now := size
		if h, err := l.readHead(ctx); err == nil {
			if t, err := l.openTree(h.note); err == nil {
				now = max(now, t.N)
			}
		}
		for ; recs.ok; recs.next() {
			if recs.cur.Seq >= now {
				v.report(recs.cur.Seq, ProblemInserted, "record with seq %d is beyond the signed tree head (size %d)", recs.cur.Seq, now)
				break
			}
			v.checkMoved(&recs.cur)
		}
	}
	if err := recs.err(); err != nil {
		return Report{}, fmt.Errorf("audit: verify: %w", err)
	}
	if err := hashes.err(); err != nil {
		return Report{}, fmt.Errorf("audit: verify: %w", err)
	}
	if p := v.stale; p != nil {
		v.report(p.start, ProblemChanged,
			"stored tree hash over records %d–%d does not match the records' leaf hashes", p.start, p.end-1)
	}
	rep := Report{Size: size, Checked: v.checked, OK: v.first == nil, First: v.first}
	// A log that verifies by itself may still have been wiped, rolled back
	// or re-signed: it must extend the checkpoint anchored outside it.
	if rep.OK {
		cp, err := l.CheckAnchor(ctx)
		switch {
		case errors.Is(err, ErrTampered):
			rep.OK, rep.First = false, &Problem{Seq: size, Kind: ProblemAnchor, Message: err.Error()}
		case err != nil:
			return Report{}, err
		case cp != nil:
			rep.Anchored = cp.Size
		}
	}
	return rep, nil
}

// verification is the running state of Verify.
type verification struct {
	first   *Problem
	checked int64
	moved   *movedCheck // looks for the original content of the first changed record
	stale   *span       // first stored interior hash that does not match
}

type movedCheck struct {
	seq  int64
	hash tlog.Hash // the stored leaf hash at seq
}

type span struct{ start, end int64 }

type signedRoot struct {
	size int64
	root tlog.Hash
	what string
}

// report records a problem and tells whether it became the first one.
func (v *verification) report(seq int64, kind, format string, args ...any) bool {
	if v.first != nil && v.first.Seq <= seq {
		return false
	}
	v.first = &Problem{Seq: seq, Kind: kind, Message: fmt.Sprintf(format, args...)}
	v.moved = nil
	return true
}

// checkMoved upgrades the first problem from "changed" to "reordered" when r,
// placed at the changed seq, hashes to that seq's stored leaf hash.
func (v *verification) checkMoved(r *record) {
	m := v.moved
	if m == nil || r.Seq == m.seq || r.detailErr != nil {
		return
	}
	e := r.Entry
	e.Seq = m.seq
	if leafHash(&e) == m.hash {
		v.first.Kind = ProblemReordered
		v.first.Message = fmt.Sprintf("record %d holds other content; the record logged at seq %d is now at seq %d", m.seq, m.seq, r.Seq)
		v.moved = nil
	}
}

// openTree checks a signed tree note and parses its tree.
func (l *Log) openTree(text string) (tlog.Tree, error) {
	cp, err := l.OpenCheckpoint([]byte(text))
	if err != nil {
		return tlog.Tree{}, err
	}
	return tlog.Tree{N: cp.Size, Hash: cp.Root}, nil
}

type checkpointRow struct {
	size int64
	root string
	note string
}

func (l *Log) readCheckpoints(ctx context.Context) ([]checkpointRow, error) {
	rows, err := l.db.R.QueryContext(ctx, "SELECT size, root, note FROM audit_checkpoints ORDER BY size")
	if err != nil {
		return nil, fmt.Errorf("audit: read checkpoints: %w", err)
	}
	defer rows.Close()
	var out []checkpointRow
	for rows.Next() {
		var c checkpointRow
		if err := rows.Scan(&c.size, &c.root, &c.note); err != nil {
			return nil, fmt.Errorf("audit: read checkpoints: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: read checkpoints: %w", err)
	}
	return out, nil
}

// compactTree holds the roots of the perfect subtrees of a growing RFC 6962
// tree, largest first: O(log n) hashes.
type compactTree struct{ nodes []treeNode }

type treeNode struct {
	level int
	hash  tlog.Hash
}

// push adds a leaf and returns the interior nodes it completes, lowest level
// first: the same hashes, in the same order, that tlog.StoredHashes stores
// after the leaf.
func (t *compactTree) push(leaf tlog.Hash) []treeNode {
	t.nodes = append(t.nodes, treeNode{0, leaf})
	var done []treeNode
	for n := len(t.nodes); n >= 2 && t.nodes[n-2].level == t.nodes[n-1].level; n = len(t.nodes) {
		left, right := t.nodes[n-2], t.nodes[n-1]
		node := treeNode{left.level + 1, tlog.NodeHash(left.hash, right.hash)}
		t.nodes = append(t.nodes[:n-2], node)
		done = append(done, node)
	}
	return done
}

// root is the tree hash of the leaves pushed so far.
func (t *compactTree) root() tlog.Hash {
	if len(t.nodes) == 0 {
		h, _ := tlog.TreeHash(0, nil)
		return h
	}
	h := t.nodes[len(t.nodes)-1].hash
	for i := len(t.nodes) - 2; i >= 0; i-- {
		h = tlog.NodeHash(t.nodes[i].hash, h)
	}
	return h
}

// recordCursor streams audit_records in seq order.
type recordCursor struct {
	rows *sql.Rows
	cur  record
	ok   bool
	scan error
}

func (c *recordCursor) next() {
	c.ok = c.scan == nil && c.rows.Next()
	if c.ok {
		c.cur = record{}
		if c.scan = c.cur.scan(c.rows); c.scan != nil {
			c.ok = false
		}
	}
}

func (c *recordCursor) err() error {
	if c.scan != nil {
		return c.scan
	}
	return c.rows.Err()
}

// hashCursor streams audit_hashes in index order.
type hashCursor struct {
	rows *sql.Rows
	id   int64
	hash []byte
	ok   bool
	scan error
}

func (c *hashCursor) next() {
	c.ok = c.scan == nil && c.rows.Next()
	if c.ok {
		if c.scan = c.rows.Scan(&c.id, &c.hash); c.scan != nil {
			c.ok = false
		}
	}
}

// get returns the stored hash at index idx; calls must ask for increasing
// indexes.
func (c *hashCursor) get(idx int64) (tlog.Hash, bool) {
	for c.ok && c.id < idx {
		c.next()
	}
	if !c.ok || c.id != idx || len(c.hash) != tlog.HashSize {
		return tlog.Hash{}, false
	}
	return tlog.Hash(c.hash), true
}

func (c *hashCursor) err() error {
	if c.scan != nil {
		return c.scan
	}
	return c.rows.Err()
}
