package ingest

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"xiangyun/internal/db"
)

// publish applies a staged batch to the entry's records in one transaction:
// either every staged row is published and the batch says so, or nothing
// changes. It returns the batch's final status.
func (s *Service) publish(ctx context.Context, j *job) (status, zh, en string, err error) {
	if j.rejected > 0 && j.batch.OnError == RejectAll {
		return StatusRejected, "有不合格的行，按 reject_all 未发布任何记录", "some rows failed, so nothing was published (reject_all)", nil
	}
	if j.batch.Mode == ModeReplace && j.staged == 0 {
		// A header-only or all-bad file would delete every record.
		return StatusRejected, "全量替换的文件中没有合格的记录，为防止清空数据，未做任何更改",
			"the replacing file holds no valid record; nothing was changed, so that the records are not wiped out", nil
	}
	t, stg := j.t, stagingName(j.batch.ID)
	status = StatusPublished
	err = s.db.Tx(ctx, func(tx *db.Tx) error {
		// One publication per entry at a time; the batch row is locked so that
		// a cancellation either comes first or finds the batch published.
		if tx.Dialect == db.Postgres {
			if err := tx.Run(`SELECT entry_id FROM ingest_tables WHERE entry_id = $1 FOR UPDATE`, j.entry.ID); err != nil {
				return err
			}
		}
		var cancel bool
		if err := tx.QueryRow(`SELECT cancel FROM ingest_batches WHERE id = $1`+tx.ForUpdate(), j.batch.ID).Scan(&cancel); err != nil {
			return err
		}
		if cancel {
			status, zh, en = StatusCancelled, "已取消，未发布任何记录", "cancelled; nothing was published"
			return s.endUnpublished(tx, j, status, zh, en)
		}
		match := func(a, b string) string {
			var on []string
			for _, k := range t.Keys {
				on = append(on, a+"."+k+" = "+b+"."+k)
			}
			return strings.Join(on, " AND ")
		}
		keyed := len(t.Keys) > 0
		if keyed && j.batch.Mode == ModeAppend {
			// Appending a key that is already published is an error of that row.
			conflict := `EXISTS (SELECT 1 FROM ` + t.Name + ` t WHERE ` + match("t", stg) + ` AND t._deleted = FALSE)`
			if j.results != nil {
				if err := markConflicts(tx, j, `SELECT _row FROM `+stg+` WHERE `+conflict); err != nil {
					return err
				}
			}
			res, err := tx.Exec(`INSERT INTO ingest_errors (batch_id, row_num, col, value, rule, message_zh, message_en)
				SELECT $1, _row, $2, `+keyText(stg, t.Keys)+`, 'unique', $3, $4 FROM `+stg+` WHERE `+conflict,
				j.batch.ID, j.keyNames(), "主键已存在于已发布的记录中（追加模式不覆盖，请用 upsert）", "the key is already published (append does not overwrite; use upsert)")
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			if n > 0 {
				j.rejected += n
				j.perRule["unique"] += int(n)
				if j.batch.OnError == RejectAll {
					status, zh, en = StatusRejected, "有不合格的行，按 reject_all 未发布任何记录", "some rows failed, so nothing was published (reject_all)"
					return s.endUnpublished(tx, j, status, zh, en)
				}
				if err := tx.Run(`DELETE FROM ` + stg + ` WHERE ` + conflict); err != nil {
					return err
				}
			}
		}
		var cols []string
		for _, c := range j.cols {
			cols = append(cols, c.Col)
		}
		hist := historyJSON(tx.Dialect, t, "t")
		if j.batch.Mode == ModeReplace {
			cond := `t._deleted = FALSE`
			if keyed {
				cond += ` AND NOT EXISTS (SELECT 1 FROM ` + stg + ` WHERE ` + match("t", stg) + `)`
			}
			if err := tx.Run(`INSERT INTO ingest_history (entry_id, record_id, batch_id, old_values, old_batch, old_version, changed_at)
				SELECT $1, t._id, $2, `+hist+`, t._batch, t._version, $3 FROM `+t.Name+` t WHERE `+cond, j.entry.ID, j.batch.ID, tx.Now); err != nil {
				return err
			}
			if err := tx.Run(`UPDATE `+t.Name+` SET _deleted = TRUE, _batch = $1, _received = $2, _version = _version + 1 WHERE _id IN (SELECT t._id FROM `+
				t.Name+` t WHERE `+cond+`)`, j.batch.ID, tx.Now); err != nil {
				return err
			}
		}
		if keyed {
			var differs []string
			for _, c := range cols {
				differs = append(differs, "t."+c+" IS DISTINCT FROM "+stg+"."+c)
			}
			differs = append(differs, "t._deleted")
			if err := tx.Run(`INSERT INTO ingest_history (entry_id, record_id, batch_id, old_values, old_batch, old_version, changed_at)
				SELECT $1, t._id, $2, `+hist+`, t._batch, t._version, $3 FROM `+t.Name+` t JOIN `+stg+` ON `+match("t", stg)+
				` WHERE `+strings.Join(differs, " OR "), j.entry.ID, j.batch.ID, tx.Now); err != nil {
				return err
			}
			var set []string
			for _, c := range cols {
				set = append(set, c+" = excluded."+c)
			}
			set = append(set, "_batch = excluded._batch", "_received = excluded._received", "_version = "+t.Name+"._version + 1", "_deleted = FALSE")
			if err := tx.Run(`INSERT INTO `+t.Name+` (`+strings.Join(cols, ", ")+`, _batch, _received, _version, _disputed, _deleted)
				SELECT `+strings.Join(cols, ", ")+`, $1, $2, 1, FALSE, FALSE FROM `+stg+` WHERE TRUE
				ON CONFLICT (`+strings.Join(t.Keys, ", ")+`) DO UPDATE SET `+strings.Join(set, ", "), j.batch.ID, tx.Now); err != nil {
				return err
			}
		} else if err := tx.Run(`INSERT INTO `+t.Name+` (`+strings.Join(cols, ", ")+`, _batch, _received, _version, _disputed, _deleted)
				SELECT `+strings.Join(cols, ", ")+`, $1, $2, 1, FALSE, FALSE FROM `+stg+` ORDER BY _seq, _row`, j.batch.ID, tx.Now); err != nil {
			return err
		}
		var accepted int64
		if err := tx.QueryRow(`SELECT COUNT(*) FROM ` + stg).Scan(&accepted); err != nil {
			return err
		}
		j.staged = accepted
		if err := tx.Run(`DROP TABLE ` + stg); err != nil {
			return err
		}
		if err := tx.Run(`UPDATE ingest_batches SET status = $1, rows_read = $2, accepted = $3, rejected = $4, encoding = $5, finished_at = $6,
			message_zh = '', message_en = '' WHERE id = $7`, StatusPublished, j.rows, accepted, j.rejected, j.encoding, tx.Now, j.batch.ID); err != nil {
			return err
		}
		if s.opts.Quality != nil && status == StatusPublished {
			// Quality keeps its results in the control store: the message
			// commits with the records and is delivered after (again after a crash).
			msg, err := json.Marshal(qualityMsg{EntryID: j.entry.ID, BatchID: j.batch.ID, Rows: int(j.rows), Rejected: int(j.rejected), PerRule: j.perRule})
			if err != nil {
				return err
			}
			if _, err := tx.Emit(topicQuality, msg); err != nil {
				return err
			}
			tx.AfterCommit(func() {
				if err := s.deliverQuality(context.WithoutCancel(ctx)); err != nil {
					s.log.Error("ingest: delivering batch results to quality", "batch", j.batch.ID, "err", err)
				}
			})
		}
		return nil
	})
	if err == nil {
		j.batch.Status = status
	}
	return status, zh, en, err
}

// endUnpublished ends a batch without publishing, inside tx.
func (s *Service) endUnpublished(tx *db.Tx, j *job, status, zh, en string) error {
	if err := tx.Run(`DROP TABLE IF EXISTS ` + stagingName(j.batch.ID)); err != nil {
		return err
	}
	return tx.Run(`UPDATE ingest_batches SET status = $1, message_zh = $2, message_en = $3, rows_read = $4, accepted = 0, rejected = $5, encoding = $6,
		finished_at = $7 WHERE id = $8`, status, zh, en, j.rows, j.rejected, j.encoding, tx.Now, j.batch.ID)
}

// keyText is an SQL expression of a staged row's key as text.
func keyText(tbl string, keys []string) string {
	var parts []string
	for _, k := range keys {
		parts = append(parts, "COALESCE(CAST("+tbl+"."+k+" AS TEXT), '')")
	}
	return strings.Join(parts, " || '|' || ")
}

// historyJSON is an SQL expression of a record's values as a JSON object
// keyed by generated column (binary columns are left out).
func historyJSON(d db.Dialect, t *table, alias string) string {
	var args []string
	for _, c := range t.Cols {
		if c.DataType == "G" {
			continue
		}
		args = append(args, "'"+c.Col+"', "+alias+"."+c.Col)
	}
	if len(args) == 0 {
		return "'{}'"
	}
	if d == db.Postgres {
		return "CAST(json_build_object(" + strings.Join(args, ", ") + ") AS TEXT)"
	}
	return "json_object(" + strings.Join(args, ", ") + ")"
}

// markConflicts records, for a push's per-record results, the rows whose
// key is already published.
func markConflicts(tx *db.Tx, j *job, q string) error {
	rows, err := tx.QueryContext(tx.Ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return err
		}
		j.results[int(n)] = append(j.results[int(n)], RowError{Row: n, Column: j.keyNames(), Rule: "unique",
			MessageZH: "主键已存在于已发布的记录中", MessageEN: "the key is already published"})
	}
	return rows.Err()
}

const topicQuality = "ingest.quality"

// qualityMsg carries a published batch's results to quality.RecordBatch.
type qualityMsg struct {
	EntryID  int64          `json:"entry_id"`
	BatchID  int64          `json:"batch_id"`
	Rows     int            `json:"rows"`
	Rejected int            `json:"rejected"`
	PerRule  map[string]int `json:"per_rule"`
}

// deliverQuality hands the results of published batches to quality, each in
// a control-store transaction, and acknowledges them. RecordBatch is
// idempotent per batch, so a message delivered twice (a crash between the
// two stores' commits) is harmless.
func (s *Service) deliverQuality(ctx context.Context) error {
	if s.opts.Quality == nil || s.opts.Control == nil {
		return nil
	}
	s.qmu.Lock()
	defer s.qmu.Unlock()
	for {
		msgs, err := s.db.Outbox(ctx, topicQuality, time.Time{}, 100)
		if err != nil || len(msgs) == 0 {
			return err
		}
		for _, m := range msgs {
			var q qualityMsg
			if err := json.Unmarshal(m.Payload, &q); err != nil {
				return err
			}
			if q.Rejected > q.Rows {
				q.Rejected = q.Rows
			}
			if err := s.opts.Control.Tx(ctx, func(tx *db.Tx) error {
				return s.opts.Quality.RecordBatch(tx, q.EntryID, q.BatchID, q.Rows, q.Rejected, q.PerRule)
			}); err != nil {
				return err
			}
			if err := s.db.Ack(ctx, m.ID); err != nil {
				return err
			}
		}
	}
}
