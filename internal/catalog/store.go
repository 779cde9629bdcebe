package catalog

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/db"
	"xiangyun/internal/ident"
	"xiangyun/internal/org"
)

// nextCode takes the next sequence number of class and returns the entry
// code: the classification code, "/", the six-digit sequence number. The
// counter row is incremented in the caller's transaction, which serialises
// concurrent writers on both backends.
func nextCode(w *db.Tx, class string) (string, error) {
	var n int64
	err := w.QueryRow(`INSERT INTO class_sequences(class, last) VALUES ($1, 1)
		ON CONFLICT (class) DO UPDATE SET last = class_sequences.last + 1 RETURNING last`, class).Scan(&n)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s/%06d", class, n), nil
}

// scopeOf returns an entry's scope and region from its provider: a
// province-level body's entries are in the province catalog, a city's or
// county's are supplementary entries of its region.
func scopeOf(b *org.Body) (scope, region string) {
	if ident.RegionLevel(b.RegionCode) <= 1 {
		return ScopeProvince, b.RegionCode
	}
	return ScopeSupplementary, b.RegionCode
}

const contentCols = `name, class, abstract, format_class, format_type, share_type, share_condition, share_method, share_channel, open_type, open_condition, cycle, grade`

func contentArgs(c *Content) []any {
	return []any{c.Name, c.Class, c.Abstract, c.FormatClass, c.FormatType, c.ShareType, c.ShareCondition, c.ShareMethod, c.ShareChannel,
		c.OpenType, c.OpenCondition, c.Cycle, c.Grade}
}

// insertVersion writes a version with its items and related codes.
func insertVersion(w *db.Tx, entryID int64, number int, status string, c *Content, p *auth.Principal, reason string, now db.Time) (int64, error) {
	aid, aname := actor(p)
	args := append([]any{entryID, number, status}, contentArgs(c)...)
	args = append(args, aid, aname, reason, now)
	var id int64
	err := w.QueryRow(`INSERT INTO entry_versions(entry_id, number, status, `+contentCols+`, author_id, author, reason, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20) RETURNING id`, args...).Scan(&id)
	if err != nil {
		return 0, err
	}
	return id, writeParts(w, id, c)
}

// updateVersion replaces a draft version's content in place.
func updateVersion(w *db.Tx, versionID int64, c *Content, now db.Time) error {
	args := append(contentArgs(c), now, versionID)
	err := w.Run(`UPDATE entry_versions SET name=$1, class=$2, abstract=$3, format_class=$4, format_type=$5, share_type=$6,
		share_condition=$7, share_method=$8, share_channel=$9, open_type=$10, open_condition=$11, cycle=$12, grade=$13, updated_at=$14
		WHERE id=$15`, args...)
	if err != nil {
		return err
	}
	if err := w.Run(`DELETE FROM entry_items WHERE version_id = $1`, versionID); err != nil {
		return err
	}
	if err := w.Run(`DELETE FROM entry_related WHERE version_id = $1`, versionID); err != nil {
		return err
	}
	return writeParts(w, versionID, c)
}

// itemsPerInsert bounds the rows of one multi-row INSERT of items.
const itemsPerInsert = 50

func writeParts(w *db.Tx, versionID int64, c *Content) error {
	for start := 0; start < len(c.Items); start += itemsPerInsert {
		chunk := c.Items[start:min(start+itemsPerInsert, len(c.Items))]
		var b strings.Builder
		b.WriteString(`INSERT INTO entry_items(version_id, pos, name, en_name, data_type, length, required, is_key, sensitive, mask, code_list) VALUES `)
		args := make([]any, 0, len(chunk)*11)
		for i, it := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			n := len(args)
			fmt.Fprintf(&b, "($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10, n+11)
			args = append(args, versionID, start+i, it.Name, it.EnName, it.DataType, it.Length, it.Required, it.Key, it.Sensitive, it.Mask, it.CodeList)
		}
		if err := w.Run(b.String(), args...); err != nil {
			return err
		}
	}
	for i, r := range c.Related {
		if err := w.Run(`INSERT INTO entry_related(version_id, pos, code) VALUES ($1, $2, $3)`, versionID, i, r); err != nil {
			return err
		}
	}
	return nil
}

// event records one step of an entry's history.
func event(w *db.Tx, entryID int64, version int, action string, p *auth.Principal, comment, detail string, now db.Time) error {
	aid, aname := actor(p)
	return w.Run(`INSERT INTO entry_events(entry_id, version, action, actor_id, actor, comment, detail, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		entryID, version, action, aid, aname, comment, detail, now)
}

// entryRow is an entry's identity and workflow pointers, read (and on
// PostgreSQL locked) at the start of a transition.
type entryRow struct {
	id, provider, rev           int64
	code, class, status         string
	current, published, draft   int64
	versions                    int
	draftStatus, draftSubmitted string
	everPublished               bool
}

func (s *Service) lockEntry(w *db.Tx, id int64) (entryRow, error) {
	var e entryRow
	var first db.Time
	err := w.QueryRow(`SELECT id, revision, provider_id, code, class, status, COALESCE(current_version_id, 0), COALESCE(published_version_id, 0),
		COALESCE(draft_version_id, 0), versions, first_published_at FROM entries WHERE id = $1`+w.ForUpdate(), id).
		Scan(&e.id, &e.rev, &e.provider, &e.code, &e.class, &e.status, &e.current, &e.published, &e.draft, &e.versions, &first)
	if isNoRows(err) {
		return e, ErrNotFound
	}
	if err != nil {
		return e, db.Check(err)
	}
	e.everPublished = !first.IsZero()
	if e.draft != 0 {
		if err := w.QueryRow(`SELECT status FROM entry_versions WHERE id = $1`, e.draft).Scan(&e.draftStatus); err != nil {
			return e, err
		}
	}
	return e, nil
}

const entrySelect = `SELECT e.id, e.code, e.revision, e.provider_id, e.region_code, e.scope, e.status, e.published_at, e.first_published_at,
	e.created_at, e.updated_at, COALESCE(e.current_version_id, 0), COALESCE(e.published_version_id, 0), COALESCE(e.draft_version_id, 0),
	COALESCE(d.status, ''), v.number, v.name, v.class, v.abstract, v.format_class, v.format_type, v.share_type, v.share_condition,
	v.share_method, v.share_channel, v.open_type, v.open_condition, v.cycle, v.grade
	FROM entries e JOIN entry_versions v ON v.id = e.current_version_id LEFT JOIN entry_versions d ON d.id = e.draft_version_id`

func scanEntry(sc interface{ Scan(...any) error }) (Entry, error) {
	var e Entry
	var pub, first, created, updated db.Time
	var draftStatus string
	c := &e.Content
	err := sc.Scan(&e.ID, &e.Code, &e.Rev, &e.ProviderID, &e.RegionCode, &e.Scope, &e.Status, &pub, &first, &created, &updated,
		&e.currentID, &e.publishedID, &e.draftID, &draftStatus, &e.Version, &c.Name, &c.Class, &c.Abstract, &c.FormatClass,
		&c.FormatType, &c.ShareType, &c.ShareCondition, &c.ShareMethod, &c.ShareChannel, &c.OpenType, &c.OpenCondition, &c.Cycle, &c.Grade)
	if err != nil {
		return e, err
	}
	e.PublishedAt, e.FirstPublAt, e.CreatedAt, e.UpdatedAt = timePtr(pub), timePtr(first), created.Time, updated.Time
	if e.draftID != 0 && e.draftID != e.currentID {
		e.RevisionStatus = draftStatus
	}
	if a, ok := attributeOf(c.Class[:min(1, len(c.Class))]); ok {
		e.Attribute = a.Code
	}
	return e, nil
}

// names caches provider and region names for one batch of entries; with
// shared set (searches), also across requests.
type names struct {
	s       *Service
	bodies  map[int64]org.Body
	regions map[string]string
	shared  *labelCache
}

func (s *Service) names() *names {
	return &names{s: s, bodies: map[int64]org.Body{}, regions: map[string]string{}}
}

func (n *names) body(ctx context.Context, id int64) org.Body {
	b, ok := n.bodies[id]
	if !ok {
		if b, ok = n.shared.body(id); !ok {
			b, _ = n.s.orgs.Body(ctx, id)
			n.shared.putBodies(map[int64]org.Body{id: b})
		}
		n.bodies[id] = b
	}
	return b
}

func (n *names) region(ctx context.Context, code string) string {
	r, ok := n.regions[code]
	if !ok {
		if r, ok = n.shared.region(code); !ok {
			reg, _ := n.s.orgs.Region(ctx, code)
			r = reg.Name
			n.shared.putRegions(map[string]string{code: r})
		}
		n.regions[code] = r
	}
	return r
}

// prefetch loads the names of these bodies and regions that are not known
// yet, in one query each, so that a page of results costs two queries
// rather than one per row and facet value.
//
// A failed lookup is returned: a page without its names would pass a
// storage failure off as nameless data.
func (n *names) prefetch(ctx context.Context, bodyIDs []int64, regionCodes []string) error {
	bodyIDs = slices.DeleteFunc(slices.Clone(bodyIDs), func(id int64) bool {
		_, ok := n.bodies[id]
		if !ok {
			var b org.Body
			if b, ok = n.shared.body(id); ok {
				n.bodies[id] = b
			}
		}
		return ok
	})
	slices.Sort(bodyIDs)
	if bodyIDs = slices.Compact(bodyIDs); len(bodyIDs) > 0 {
		bs, err := n.s.orgs.BodiesByID(ctx, padShape(bodyIDs))
		if err != nil {
			return db.Check(err)
		}
		for _, id := range bodyIDs {
			n.bodies[id] = bs[id] // unknown ids stay unknown, not asked again
		}
		n.shared.putBodies(bs)
	}
	regionCodes = slices.DeleteFunc(slices.Clone(regionCodes), func(c string) bool {
		_, ok := n.regions[c]
		if !ok {
			var r string
			if r, ok = n.shared.region(c); ok {
				n.regions[c] = r
			}
		}
		return ok
	})
	slices.Sort(regionCodes)
	if regionCodes = slices.Compact(regionCodes); len(regionCodes) > 0 {
		rs, err := n.s.orgs.RegionNames(ctx, padShape(regionCodes))
		if err != nil {
			return db.Check(err)
		}
		for _, c := range regionCodes {
			n.regions[c] = rs[c]
		}
		n.shared.putRegions(rs)
	}
	return nil
}

func (n *names) fill(ctx context.Context, e *Entry) {
	b := n.body(ctx, e.ProviderID)
	e.Provider, e.ProviderCode = b.Name, b.CreditCode
	e.RegionName = n.region(ctx, e.RegionCode)
}

// loadEntries reads entries by id, in the order of ids (unknown ids are
// left out), with the items and related codes of their current versions
// when withItems is set.
func (s *Service) loadEntries(ctx context.Context, q queryer, ids []int64, withItems bool, nm *names) ([]Entry, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if nm == nil {
		nm = s.names()
	}
	query, args := db.InList(entrySelect+` WHERE e.id IN `, padShape(ids))
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]*Entry, len(ids))
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		byID[e.ID] = &e
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	bodyIDs, regionCodes := make([]int64, 0, len(byID)), make([]string, 0, len(byID))
	for _, e := range byID {
		bodyIDs, regionCodes = append(bodyIDs, e.ProviderID), append(regionCodes, e.RegionCode)
	}
	if err := nm.prefetch(ctx, bodyIDs, regionCodes); err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(byID))
	for _, id := range ids {
		if e, ok := byID[id]; ok {
			nm.fill(ctx, e)
			out = append(out, *e)
		}
	}
	if withItems {
		vids := make([]int64, len(out))
		for i := range out {
			vids[i] = out[i].currentID
		}
		parts, err := loadParts(ctx, q, vids)
		if err != nil {
			return nil, err
		}
		for i := range out {
			p := parts[out[i].currentID]
			out[i].Items, out[i].Related = p.items, p.related
		}
	}
	return out, nil
}

type versionParts struct {
	items   []Item
	related []string
}

// loadParts reads the items and related codes of versions.
func loadParts(ctx context.Context, q queryer, vids []int64) (map[int64]*versionParts, error) {
	out := make(map[int64]*versionParts, len(vids))
	for _, id := range vids {
		out[id] = &versionParts{items: []Item{}}
	}
	if len(vids) == 0 {
		return out, nil
	}
	query, args := db.InList(`SELECT version_id, name, en_name, data_type, length, required, is_key, sensitive, mask, code_list
		FROM entry_items WHERE version_id IN `, vids)
	rows, err := q.QueryContext(ctx, query+` ORDER BY version_id, pos`, args...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var vid int64
		var it Item
		if err := rows.Scan(&vid, &it.Name, &it.EnName, &it.DataType, &it.Length, &it.Required, &it.Key, &it.Sensitive, &it.Mask, &it.CodeList); err != nil {
			rows.Close()
			return nil, err
		}
		out[vid].items = append(out[vid].items, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	query, args = db.InList(`SELECT version_id, code FROM entry_related WHERE version_id IN `, vids)
	rows, err = q.QueryContext(ctx, query+` ORDER BY version_id, pos`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var vid int64
		var code string
		if err := rows.Scan(&vid, &code); err != nil {
			return nil, err
		}
		out[vid].related = append(out[vid].related, code)
	}
	return out, rows.Err()
}

const versionSelect = `SELECT id, entry_id, number, status, ` + contentCols + `, author_id, author, reason, created_at, updated_at,
	submitted_at, submitter, reviewed_at, reviewer, review_comment, published_at, closed_at, closed_by, closed_reason FROM entry_versions`

func scanVersion(sc interface{ Scan(...any) error }) (Version, error) {
	var v Version
	var created, updated, submitted, reviewed, published, closed db.Time
	c := &v.Content
	err := sc.Scan(&v.ID, &v.EntryID, &v.Number, &v.Status, &c.Name, &c.Class, &c.Abstract, &c.FormatClass, &c.FormatType, &c.ShareType,
		&c.ShareCondition, &c.ShareMethod, &c.ShareChannel, &c.OpenType, &c.OpenCondition, &c.Cycle, &c.Grade,
		&v.AuthorID, &v.Author, &v.Reason, &created, &updated, &submitted, &v.Submitter, &reviewed, &v.Reviewer, &v.ReviewComment,
		&published, &closed, &v.ClosedBy, &v.ClosedReason)
	v.CreatedAt, v.UpdatedAt = created.Time, updated.Time
	v.SubmittedAt, v.ReviewedAt, v.PublishedAt, v.ClosedAt = timePtr(submitted), timePtr(reviewed), timePtr(published), timePtr(closed)
	return v, err
}

// versions reads versions of one entry (all when numbers is empty) with
// their items, ordered by number.
func (s *Service) versions(ctx context.Context, q queryer, entryID int64, numbers ...int) ([]Version, error) {
	query, args := versionSelect+` WHERE entry_id = $1`, []any{entryID}
	if len(numbers) > 0 {
		query += ` AND number IN ` + db.Placeholders(2, len(numbers))
		for _, n := range numbers {
			args = append(args, n)
		}
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY number`, args...)
	if err != nil {
		return nil, err
	}
	var out []Version
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	vids := make([]int64, len(out))
	for i := range out {
		vids[i] = out[i].ID
	}
	parts, err := loadParts(ctx, q, vids)
	if err != nil {
		return nil, err
	}
	for i := range out {
		p := parts[out[i].ID]
		out[i].Items, out[i].Related = p.items, p.related
	}
	return out, nil
}

// versionByID reads one version with its items.
func (s *Service) versionByID(ctx context.Context, q queryer, id int64) (Version, error) {
	v, err := scanVersion(q.QueryRowContext(ctx, versionSelect+` WHERE id = $1`, id))
	if isNoRows(err) {
		return v, errVersion
	}
	if err != nil {
		return v, db.Check(err)
	}
	parts, err := loadParts(ctx, q, []int64{id})
	if err != nil {
		return v, err
	}
	v.Items, v.Related = parts[id].items, parts[id].related
	return v, nil
}

func dbTime(t time.Time) db.Time { return db.Time{Time: t} }
