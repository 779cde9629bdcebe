package audit

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Signed tree heads are checkpoints in the C2SP format
// (https://c2sp.org/tlog-checkpoint): a signed note (golang.org/x/mod/sumdb/note)
// whose text is the log's origin, its size in decimal and its root hash in
// base64, one per line. The origin is the signing key's name. Heads signed
// before this format was used (tlog.FormatTree, origin "go.sum database
// tree") are still accepted when verifying.

const legacyTreeOrigin = "go.sum database tree"

// ErrTampered marks a verification failure that means the log was altered:
// shorter than, or inconsistent with, a checkpoint signed earlier, or signed
// by another key.
var ErrTampered = errors.New("audit log tampered with")

// Checkpoint is a verified signed tree head.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
	Note   []byte // the signed note, with any cosignatures
}

// checkpointText is the note text of the checkpoint of a tree.
func checkpointText(origin string, n int64, root tlog.Hash) string {
	return origin + "\n" + strconv.FormatInt(n, 10) + "\n" + base64.StdEncoding.EncodeToString(root[:]) + "\n"
}

// parseCheckpointText parses a checkpoint's note text (or a legacy tlog tree
// note's).
func parseCheckpointText(text string) (string, tlog.Tree, error) {
	if strings.HasPrefix(text, legacyTreeOrigin+"\n") {
		t, err := tlog.ParseTree([]byte(text))
		return legacyTreeOrigin, t, err
	}
	lines := strings.SplitN(text, "\n", 4)
	if len(lines) < 4 || lines[0] == "" || !strings.HasSuffix(text, "\n") {
		return "", tlog.Tree{}, errors.New("malformed checkpoint")
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != lines[1] {
		return "", tlog.Tree{}, fmt.Errorf("malformed checkpoint size %q", lines[1])
	}
	h, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(h) != tlog.HashSize {
		return "", tlog.Tree{}, fmt.Errorf("malformed checkpoint root hash %q", lines[2])
	}
	return lines[0], tlog.Tree{N: n, Hash: tlog.Hash(h)}, nil
}

// OpenCheckpoint checks that msg is a checkpoint of this log signed by its
// key and returns it. A checkpoint signed by another key, or of another
// origin, is ErrTampered: this log's heads were signed by its key only.
func (l *Log) OpenCheckpoint(msg []byte) (Checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(l.key.Verifier))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unverified) {
			var keys []string
			for _, s := range unverified.Note.UnverifiedSigs {
				keys = append(keys, fmt.Sprintf("%s+%08x", s.Name, s.Hash))
			}
			return Checkpoint{}, fmt.Errorf("%w: checkpoint signed by key %s, not by the audit key %s+%08x",
				ErrTampered, strings.Join(keys, ", "), l.key.Verifier.Name(), l.key.Verifier.KeyHash())
		}
		return Checkpoint{}, fmt.Errorf("checkpoint: %w", err)
	}
	origin, tree, err := parseCheckpointText(n.Text)
	if err != nil {
		return Checkpoint{}, err
	}
	if origin != legacyTreeOrigin && origin != l.key.Verifier.Name() {
		return Checkpoint{}, fmt.Errorf("%w: checkpoint of log %q, not %q", ErrTampered, origin, l.key.Verifier.Name())
	}
	return Checkpoint{Origin: origin, Size: tree.N, Root: tree.Hash, Note: msg}, nil
}

// splitNotes splits a file of signed notes written one after another (each
// text, a blank line, signature lines) into the notes. Blank lines between
// notes are ignored.
func splitNotes(b []byte) [][]byte {
	var (
		out   [][]byte
		cur   []byte
		state int // 0 between notes, 1 in text, 2 in signatures
	)
	flush := func() {
		if len(cur) > 0 {
			out = append(out, cur)
		}
		cur, state = nil, 0
	}
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i+1], b[i+1:]
		} else {
			line, b = append(b[:len(b):len(b)], '\n'), nil
		}
		blank := len(bytes.TrimSpace(line)) == 0
		isSig := bytes.HasPrefix(line, []byte("\u2014 "))
		switch {
		case state == 0 && blank:
		case state == 0:
			cur, state = append(cur, line...), 1
		case state == 1 && blank:
			cur, state = append(cur, line...), 2
		case state == 1:
			cur = append(cur, line...)
		case state == 2 && isSig:
			cur = append(cur, line...)
		default: // the next note begins
			flush()
			if !blank {
				cur, state = append(cur, line...), 1
			}
		}
	}
	flush()
	return out
}
