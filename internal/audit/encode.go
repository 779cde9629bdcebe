package audit

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"xiangyun/internal/db"
)

// leafVersion starts every leaf so that the encoding can evolve.
const leafVersion = "xiangyun audit record v1\n"

// leafData returns the canonical bytes of e that the Merkle tree commits to.
// Every field, the seq included, is written as "name len\nvalue\n", so the
// encoding is unambiguous and does not depend on any library's formatting.
// Detail is written as its key count followed by its pairs in key order.
func leafData(e *Entry) []byte {
	b := make([]byte, 0, 256)
	b = append(b, leafVersion...)
	field := func(name, v string) {
		b = append(b, name...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(len(v)), 10)
		b = append(b, '\n')
		b = append(b, v...)
		b = append(b, '\n')
	}
	field("seq", strconv.FormatInt(e.Seq, 10))
	field("time", db.FormatTime(e.Time))
	field("actor_id", strconv.FormatInt(e.ActorID, 10))
	field("actor", e.Actor)
	field("action", e.Action)
	field("object", e.Object)
	field("outcome", e.Outcome)
	field("ip", e.IP)
	field("request_id", e.RequestID)
	keys := make([]string, 0, len(e.Detail))
	for k := range e.Detail {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	field("detail", strconv.Itoa(len(keys)))
	for _, k := range keys {
		field("k", k)
		field("v", e.Detail[k])
	}
	return b
}

// leafHash is the tlog record hash of e.
func leafHash(e *Entry) tlog.Hash { return tlog.RecordHash(leafData(e)) }

// encodeDetail renders d as JSON with sorted keys and without HTML escaping,
// so that the stored text is searchable as written.
func encodeDetail(d map[string]string) (string, error) {
	if len(d) == 0 {
		return "{}", nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil { // encoding/json sorts map keys
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

func decodeDetail(s string) (map[string]string, error) {
	var d map[string]string
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		return nil, err
	}
	if len(d) == 0 {
		return nil, nil
	}
	return d, nil
}

// secretWords mark Detail keys that are dropped because their values are
// likely credentials.
var secretWords = []string{"password", "passwd", "token", "secret", "cookie", "authorization", "credential", "api_key", "apikey"}

func isSecretKey(k string) bool {
	k = strings.ToLower(k)
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// clean makes s storable on both backends: valid UTF-8 without NUL bytes
// (which PostgreSQL rejects in TEXT). Storing exactly what is hashed keeps
// the leaf reproducible from the row.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}
