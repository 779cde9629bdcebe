// Package org holds regions (行政区划, GB/T 2260) and public bodies
// (公共管理和服务机构): administrative agencies, public institutions and
// utilities, each identified by its 统一社会信用代码.
package org

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"slices"
	"strings"
	"time"

	"xiangyun/internal/db"
	"xiangyun/internal/errs"
	"xiangyun/internal/ident"
	"xiangyun/internal/valid"
)

//go:embed migrations
var migrations embed.FS

// Kind is the kind of a public body.
type Kind string

const (
	KindAgency      Kind = "agency"      // 行政机关
	KindInstitution Kind = "institution" // 事业单位
	KindUtility     Kind = "utility"     // 公用企事业单位 [003 §51]
)

// Kinds lists the kinds with their Chinese and English names.
var Kinds = []struct {
	Kind   Kind
	ZH, EN string
}{{KindAgency, "行政机关", "Administrative agency"}, {KindInstitution, "事业单位", "Public institution"}, {KindUtility, "公用企事业单位", "Public utility"}}

// Sector is a utility sector.
type Sector struct{ Code, ZH, EN string }

// Sectors are the utility sectors named in 003 §51, in display order.
var Sectors = []Sector{{"water", "供水", "Water supply"}, {"power", "供电", "Power supply"}, {"gas", "供气", "Gas supply"},
	{"heat", "供热", "Heating"}, {"telecom", "通信", "Telecommunications"}, {"transport", "公共交通", "Public transport"}}

// Region is an administrative division.
type Region struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	ParentCode string `json:"parent_code,omitempty"`
	Level      int    `json:"level"`
}

// Body is a public body.
type Body struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	CreditCode string    `json:"credit_code"`
	Kind       Kind      `json:"kind"`
	Sector     string    `json:"sector,omitempty"`
	RegionCode string    `json:"region_code"`
	RegionName string    `json:"region_name,omitempty"`
	ParentID   int64     `json:"parent_id,omitempty"`
	Enabled    bool      `json:"enabled"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// BodyInput is what a caller supplies to create or update a body.
type BodyInput struct {
	Name       string `json:"name" maxLength:"200"`
	CreditCode string `json:"credit_code" maxLength:"18"`
	Kind       Kind   `json:"kind" enum:"agency,institution,utility"`
	Sector     string `json:"sector,omitempty"`
	RegionCode string `json:"region_code"`
	ParentID   int64  `json:"parent_id,omitempty"`
}

// Service stores regions and bodies.
type Service struct{ db *db.DB }

// Open migrates the org tables and returns the service.
func Open(ctx context.Context, store *db.DB) (*Service, error) {
	if err := store.Migrate(ctx, "org", migrations); err != nil {
		return nil, err
	}
	return &Service{db: store}, nil
}

// ErrBodyNotFound is returned for an unknown body id.
var ErrBodyNotFound = errs.NotFound("org.body_not_found", "机构不存在", "no such body")

// CreateRegion adds a region; its parent must exist unless it is a province.
func (s *Service) CreateRegion(ctx context.Context, r Region) (Region, error) {
	var fs errs.Fields
	r.Name = valid.Line(&fs, "name", "名称", r.Name, 1, 50)
	if err := ident.RegionCode(r.Code); err != nil {
		addIdent(&fs, "code", err)
	}
	if err := fs.Err(); err != nil {
		return Region{}, err
	}
	r.Level = ident.RegionLevel(r.Code)
	r.ParentCode = ident.RegionParent(r.Code)
	var parent any
	if r.ParentCode != "" {
		if _, err := s.Region(ctx, r.ParentCode); lookupFailed(err) != nil {
			return Region{}, lookupFailed(err)
		} else if err != nil {
			return Region{}, errs.Invalid("org.region_parent_missing", "上级行政区划 "+r.ParentCode+" 不存在", "parent region "+r.ParentCode+" does not exist")
		}
		parent = r.ParentCode
	}
	err := s.db.Tx(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO regions(code, name, parent_code, level) VALUES ($1, $2, $3, $4)`, r.Code, r.Name, parent, r.Level)
		return err
	})
	if db.IsUniqueViolation(err) {
		return Region{}, errs.Conflict("org.region_exists", "行政区划代码已存在", "the region code already exists")
	}
	return r, err
}

// Region returns one region.
func (s *Service) Region(ctx context.Context, code string) (Region, error) {
	var r Region
	var parent sql.NullString
	err := s.db.R.QueryRowContext(ctx, `SELECT code, name, parent_code, level FROM regions WHERE code = $1`, code).Scan(&r.Code, &r.Name, &parent, &r.Level)
	if errors.Is(err, sql.ErrNoRows) {
		return r, errs.NotFound("org.region_not_found", "行政区划不存在", "no such region")
	}
	r.ParentCode = parent.String
	return r, err
}

// Regions lists all regions ordered by code.
func (s *Service) Regions(ctx context.Context) ([]Region, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT code, name, COALESCE(parent_code, ''), level FROM regions ORDER BY code`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Region
	for rows.Next() {
		var r Region
		if err := rows.Scan(&r.Code, &r.Name, &r.ParentCode, &r.Level); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// lookupFailed is err unless it is nil or says "not found": a record that
// could not be read (the database is down) must never be reported to the
// user as one that does not exist.
func lookupFailed(err error) error {
	if err == nil || errs.KindOf(err) == errs.KindNotFound {
		return nil
	}
	return db.Check(err)
}

func (s *Service) checkBody(ctx context.Context, in *BodyInput, selfID int64) error {
	var fs errs.Fields
	in.Name = valid.Line(&fs, "name", "名称", in.Name, 2, 100)
	in.CreditCode = strings.ToUpper(strings.TrimSpace(in.CreditCode))
	if err := ident.CreditCode(in.CreditCode); err != nil {
		addIdent(&fs, "credit_code", err)
	}
	switch in.Kind {
	case KindAgency, KindInstitution:
		in.Sector = ""
	case KindUtility:
		if !slices.ContainsFunc(Sectors, func(x Sector) bool { return x.Code == in.Sector }) {
			fs.Add("sector", "org.sector", "公用企事业单位须选择行业（供水、供电、供气、供热、通信、公共交通）", "a utility needs a sector: water, power, gas, heat, telecom or transport")
		}
	default:
		fs.Add("kind", "org.kind", "机构类型须为行政机关、事业单位或公用企事业单位", "kind must be agency, institution or utility")
	}
	if _, err := s.Region(ctx, in.RegionCode); lookupFailed(err) != nil {
		return lookupFailed(err)
	} else if err != nil {
		fs.Add("region_code", "org.region_not_found", "行政区划不存在", "no such region")
	}
	if in.ParentID != 0 {
		if in.ParentID == selfID {
			fs.Add("parent_id", "org.parent_self", "上级机构不能是自己", "a body cannot be its own parent")
		} else if _, err := s.Body(ctx, in.ParentID); lookupFailed(err) != nil {
			return lookupFailed(err)
		} else if err != nil {
			fs.Add("parent_id", "org.parent_missing", "上级机构不存在", "the parent body does not exist")
		} else if selfID != 0 && s.isDescendant(ctx, in.ParentID, selfID) {
			fs.Add("parent_id", "org.parent_cycle", "上级机构不能是自己的下级", "the parent cannot be one of the body's own descendants")
		}
	}
	return fs.Err()
}

func (s *Service) isDescendant(ctx context.Context, id, ancestor int64) bool {
	for i := 0; id != 0 && i < 64; i++ {
		if id == ancestor {
			return true
		}
		var p sql.NullInt64
		if err := s.db.R.QueryRowContext(ctx, `SELECT parent_id FROM bodies WHERE id = $1`, id).Scan(&p); err != nil {
			return false
		}
		id = p.Int64
	}
	return false
}

// CreateBody adds a public body.
func (s *Service) CreateBody(ctx context.Context, in BodyInput) (Body, error) {
	if err := s.checkBody(ctx, &in, 0); err != nil {
		return Body{}, err
	}
	now := db.Now()
	var id int64
	err := s.db.Tx(ctx, func(tx *db.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO bodies(name, credit_code, kind, sector, region_code, parent_id, enabled, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, $7) RETURNING id`,
			in.Name, in.CreditCode, in.Kind, in.Sector, in.RegionCode, nullID(in.ParentID), now).Scan(&id)
	})
	if err != nil {
		return Body{}, s.bodyConflict(ctx, err, in.CreditCode, id)
	}
	return s.Body(ctx, id)
}

// UpdateBody changes a body's details.
func (s *Service) UpdateBody(ctx context.Context, id int64, in BodyInput) (Body, error) {
	if _, err := s.Body(ctx, id); err != nil {
		return Body{}, err
	}
	if err := s.checkBody(ctx, &in, id); err != nil {
		return Body{}, err
	}
	err := s.db.Tx(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE bodies SET name=$1, credit_code=$2, kind=$3, sector=$4, region_code=$5, parent_id=$6, updated_at=$7 WHERE id=$8`,
			in.Name, in.CreditCode, in.Kind, in.Sector, in.RegionCode, nullID(in.ParentID), db.Now(), id)
		return err
	})
	if err != nil {
		return Body{}, s.bodyConflict(ctx, err, in.CreditCode, id)
	}
	return s.Body(ctx, id)
}

// SetBodyEnabled enables or disables a body.
func (s *Service) SetBodyEnabled(ctx context.Context, id int64, enabled bool) (Body, error) {
	if _, err := s.Body(ctx, id); err != nil {
		return Body{}, err
	}
	err := s.db.Tx(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE bodies SET enabled=$1, updated_at=$2 WHERE id=$3`, enabled, db.Now(), id)
		return err
	})
	if err != nil {
		return Body{}, err
	}
	return s.Body(ctx, id)
}

// bodyConflict names the unique value a write of a body (id, 0 when new)
// collided on: the drivers' messages are not an interface, so it asks
// whether another body holds the credit code.
func (s *Service) bodyConflict(ctx context.Context, err error, creditCode string, id int64) error {
	if !db.IsUniqueViolation(err) {
		return err
	}
	var taken bool
	if err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) > 0 FROM bodies WHERE credit_code = $1 AND id <> $2`, creditCode, id).Scan(&taken); err != nil {
		return db.Check(err)
	}
	if taken {
		return errs.Conflict("org.credit_code_exists", "该统一社会信用代码已被其他机构使用", "another body already has this unified social credit code")
	}
	return errs.Conflict("org.name_exists", "机构名称已存在", "a body with this name already exists")
}

const bodyCols = `b.id, b.name, b.credit_code, b.kind, b.sector, b.region_code, COALESCE(r.name, ''), COALESCE(b.parent_id, 0), b.enabled, b.created_at, b.updated_at`

func scanBody(sc interface{ Scan(...any) error }) (Body, error) {
	var b Body
	var c, u db.Time
	err := sc.Scan(&b.ID, &b.Name, &b.CreditCode, &b.Kind, &b.Sector, &b.RegionCode, &b.RegionName, &b.ParentID, &b.Enabled, &c, &u)
	b.CreatedAt, b.UpdatedAt = c.Time, u.Time
	return b, err
}

// Body returns one body.
func (s *Service) Body(ctx context.Context, id int64) (Body, error) {
	b, err := scanBody(s.db.R.QueryRowContext(ctx, `SELECT `+bodyCols+` FROM bodies b LEFT JOIN regions r ON r.code = b.region_code WHERE b.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return b, ErrBodyNotFound
	}
	return b, err
}

// BodiesByID returns the bodies with these ids, in one query per 500 ids;
// unknown ids are left out. Pages that list many records name their bodies
// with it instead of one query per row.
func (s *Service) BodiesByID(ctx context.Context, ids []int64) (map[int64]Body, error) {
	out := make(map[int64]Body, len(ids))
	for chunk := range slices.Chunk(ids, 500) {
		q, args := db.InList(`SELECT `+bodyCols+` FROM bodies b LEFT JOIN regions r ON r.code = b.region_code WHERE b.id IN `, chunk)
		rows, err := s.db.R.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			b, err := scanBody(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[b.ID] = b
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// RegionNames returns the names of the regions with these codes in one
// query; unknown codes are left out.
func (s *Service) RegionNames(ctx context.Context, codes []string) (map[string]string, error) {
	out := make(map[string]string, len(codes))
	if len(codes) == 0 {
		return out, nil
	}
	q, args := db.InList(`SELECT code, name FROM regions WHERE code IN `, codes)
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var code, name string
		if err := rows.Scan(&code, &name); err != nil {
			return nil, err
		}
		out[code] = name
	}
	return out, rows.Err()
}

// BodyByName returns the body with exactly this name.
func (s *Service) BodyByName(ctx context.Context, name string) (Body, error) {
	b, err := scanBody(s.db.R.QueryRowContext(ctx, `SELECT `+bodyCols+` FROM bodies b LEFT JOIN regions r ON r.code = b.region_code WHERE b.name = $1`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return b, ErrBodyNotFound
	}
	return b, err
}

// BodyFilter narrows a body listing.
type BodyFilter struct {
	Q          string // name or credit code contains
	RegionCode string // the region and its descendants (by code prefix)
	Kind       Kind
	ParentID   int64
	Enabled    *bool
	Offset     int
	Limit      int // 0 = all
}

// Bodies lists bodies ordered by region then name, with the total count.
func (s *Service) Bodies(ctx context.Context, f BodyFilter) ([]Body, int, error) {
	where := []string{"1=1"}
	var args db.Args
	arg := args.Add
	if f.Q != "" {
		p := arg(db.Like(f.Q))
		where = append(where, "("+s.db.Dialect.ILike("b.name", p)+" OR "+s.db.Dialect.ILike("b.credit_code", p)+")")
	}
	if f.RegionCode != "" {
		where = append(where, "b.region_code LIKE "+arg(regionPrefix(f.RegionCode)+"%"))
	}
	if f.Kind != "" {
		where = append(where, "b.kind = "+arg(string(f.Kind)))
	}
	if f.ParentID != 0 {
		where = append(where, "b.parent_id = "+arg(f.ParentID))
	}
	if f.Enabled != nil {
		where = append(where, "b.enabled = "+arg(*f.Enabled))
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM bodies b WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	q := `SELECT ` + bodyCols + ` FROM bodies b LEFT JOIN regions r ON r.code = b.region_code WHERE ` + cond + ` ORDER BY b.region_code, b.id`
	if f.Limit > 0 {
		q += " LIMIT " + arg(f.Limit) + " OFFSET " + arg(f.Offset)
	}
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Body
	for rows.Next() {
		b, err := scanBody(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, b)
	}
	return out, total, rows.Err()
}

// regionPrefix trims a region code's trailing zero levels: 220000 → 22,
// 220100 → 2201, so that a prefix match finds every descendant.
func regionPrefix(code string) string {
	switch {
	case strings.HasSuffix(code, "0000"):
		return code[:2]
	case strings.HasSuffix(code, "00"):
		return code[:4]
	}
	return code
}

// RegionPrefix is exported for other packages that filter by region.
func RegionPrefix(code string) string { return regionPrefix(code) }

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func addIdent(fs *errs.Fields, field string, err error) {
	var ie *ident.Error
	if errors.As(err, &ie) {
		fs.Add(field, ie.Code, ie.ZH, ie.EN)
		return
	}
	fs.Add(field, "invalid", "格式不正确", err.Error())
}
