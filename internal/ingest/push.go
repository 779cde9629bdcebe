package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"sort"

	"xiangyun/internal/auth"
	"xiangyun/internal/db"
	"xiangyun/internal/errs"
)

// MaxPushBytes bounds one push request.
const MaxPushBytes = 16 << 20

// RecordResult is the outcome of one pushed record.
type RecordResult struct {
	Index    int        `json:"index" doc:"the record's number in the request, from 1"`
	Accepted bool       `json:"accepted"`
	Errors   []RowError `json:"errors,omitempty"`
}

// PushResult answers a push.
type PushResult struct {
	Batch    Batch          `json:"batch"`
	Results  []RecordResult `json:"results"`
	Replayed bool           `json:"replayed,omitempty" doc:"true when the idempotency key was seen before and this is the stored answer"`
}

// Push loads records sent by a system in one batch, synchronously: body is
// a JSON array or NDJSON. The idempotency key makes a retried request answer
// what the first one did instead of loading the records twice.
func (s *Service) Push(ctx context.Context, p *auth.Principal, entryID int64, key, format, mode, onError string, body []byte) (PushResult, error) {
	if key == "" || len(key) > 200 {
		return PushResult{}, errs.Invalid("ingest.idempotency_key", "请在 Idempotency-Key 请求头中提供幂等键（不超过 200 个字符）",
			"send an idempotency key (at most 200 characters) in the Idempotency-Key header")
	}
	e, err := s.entry(ctx, entryID)
	if err != nil {
		return PushResult{}, err
	}
	if !p.HasAt(auth.PermDataUpload, e.ProviderID) {
		return PushResult{}, errNotProvider
	}
	t, err := s.table(ctx, &e)
	if err != nil {
		return PushResult{}, err
	}
	if mode == "" && len(t.Keys) > 0 {
		mode = ModeUpsert
	}
	if mode == ModeReplace {
		return PushResult{}, errs.Invalid("ingest.mode", "实时推送只能追加或按主键更新", "a push may append or upsert, not replace")
	}
	if mode, onError, err = checkMode(mode, onError, t); err != nil {
		return PushResult{}, err
	}
	if format == "" {
		format = FormatJSON
		if b := bytes.TrimLeft(body, " \t\r\n\ufeff"); len(b) > 0 && b[0] == '{' {
			format = FormatNDJSON
		}
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	b := Batch{EntryID: e.ID, Status: StatusRunning, Source: "push", Mode: mode, OnError: onError, Format: format, SHA256: hash,
		Size: int64(len(body)), UserID: p.User.ID, User: p.User.DisplayName}
	var replay *PushResult
	err = s.db.Tx(ctx, func(tx *db.Tx) error {
		var (
			batchID  int64
			prevHash string
			resp     sql.NullString
		)
		err := tx.QueryRow(`SELECT batch_id, body_hash, response FROM ingest_push_keys WHERE entry_id = $1 AND user_id = $2 AND idem_key = $3`+tx.ForUpdate(),
			e.ID, p.User.ID, key).Scan(&batchID, &prevHash, &resp)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case prevHash != hash:
			return errs.Invalid("ingest.idempotency_mismatch", "这个幂等键已用于内容不同的请求", "this idempotency key was used for a different request")
		case resp.Valid:
			var r PushResult
			if err := json.Unmarshal([]byte(resp.String), &r); err != nil {
				return err
			}
			r.Replayed = true
			replay = &r
			return nil
		default:
			var status string
			if err := tx.QueryRow(`SELECT status FROM ingest_batches WHERE id = $1`, batchID).Scan(&status); err != nil {
				return err
			}
			if status == StatusRunning {
				return errs.Conflict("ingest.in_progress", "使用这个幂等键的请求仍在处理中", "a request with this idempotency key is still being processed")
			}
			// The first attempt died before answering: this one takes over.
			if err := tx.Run(`DELETE FROM ingest_push_keys WHERE entry_id = $1 AND user_id = $2 AND idem_key = $3`, e.ID, p.User.ID, key); err != nil {
				return err
			}
		}
		b.StartedAt = tx.Now.Time
		if err := insertBatch(tx, &b); err != nil {
			return err
		}
		return tx.Run(`INSERT INTO ingest_push_keys (entry_id, user_id, idem_key, body_hash, batch_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			e.ID, p.User.ID, key, hash, b.ID, tx.Now)
	})
	if err != nil {
		if db.IsUniqueViolation(err) {
			return PushResult{}, errs.Conflict("ingest.in_progress", "使用这个幂等键的请求仍在处理中", "a request with this idempotency key is still being processed")
		}
		return PushResult{}, err
	}
	if replay != nil {
		return *replay, nil
	}
	j := &job{batch: b, entry: e, results: map[int][]RowError{}, open: func() (source, io.Closer, error) {
		src, err := openSource(format, bytes.NewReader(body))
		return src, io.NopCloser(nil), err
	}}
	// The records are processed in the service's context: a client that
	// disconnects does not leave the batch half done.
	s.wg.Add(1)
	func() {
		defer s.wg.Done()
		s.process(s.ctx, j)
	}()
	out, err := s.batch(ctx, b.ID)
	if err != nil {
		return PushResult{}, err
	}
	res := PushResult{Batch: out, Results: []RecordResult{}}
	idx := make([]int, 0, len(j.results))
	for n := range j.results {
		idx = append(idx, n)
	}
	sort.Ints(idx)
	for _, n := range idx {
		rr := RecordResult{Index: n, Accepted: len(j.results[n]) == 0 && out.Status == StatusPublished, Errors: j.results[n]}
		res.Results = append(res.Results, rr)
	}
	stored, _ := json.Marshal(res)
	if err := s.db.Tx(context.WithoutCancel(ctx), func(tx *db.Tx) error {
		return tx.Run(`UPDATE ingest_push_keys SET response = $1 WHERE entry_id = $2 AND user_id = $3 AND idem_key = $4`, string(stored), e.ID, p.User.ID, key)
	}); err != nil {
		return PushResult{}, err
	}
	return res, nil
}
