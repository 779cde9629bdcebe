package share

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"xiangyun/internal/auth"
	"xiangyun/internal/catalog"
	"xiangyun/internal/db"
	"xiangyun/internal/errs"
	"xiangyun/internal/valid"
)

// Scenario is an application scenario (应用场景, §26) such as 新生儿出生"一件事"
// or 企业开办: the entries and items a service needs. A request within its
// bounds is granted directly.
type Scenario struct {
	ID          int64           `json:"id"`
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Bodies      []int64         `json:"bodies" doc:"the consuming bodies it serves; empty: any"`
	Entries     []ScenarioEntry `json:"entries"`
	Revision    int64           `json:"revision"`
	CreatedBy   string          `json:"created_by"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// ScenarioEntry is one entry of a scenario with the items it may give.
type ScenarioEntry struct {
	EntryID   int64    `json:"entry_id"`
	EntryCode string   `json:"entry_code,omitempty" readOnly:"true"`
	EntryName string   `json:"entry_name,omitempty" readOnly:"true"`
	Items     []string `json:"items"`
}

// ScenarioInput creates or replaces a scenario.
type ScenarioInput struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Bodies      []int64         `json:"bodies,omitempty"`
	Entries     []ScenarioEntry `json:"entries"`
}

var errScenarioNotFound = errs.NotFound("share.scenario_not_found", "应用场景不存在", "no such scenario")

// covers says why a request of body on entry for items is outside the
// scenario's bounds, or nil when it is inside.
func (sc Scenario) covers(body, entry int64, items []string) error {
	if len(sc.Bodies) > 0 && !slices.Contains(sc.Bodies, body) {
		return errs.Invalid("share.scenario_body", "该应用场景不适用于本单位", "the scenario does not serve this body")
	}
	for _, e := range sc.Entries {
		if e.EntryID != entry {
			continue
		}
		for _, it := range items {
			if !slices.Contains(e.Items, it) {
				return errs.Invalid("share.scenario_items", "信息项超出应用场景范围："+it, "data item outside the scenario's bounds: "+it)
			}
		}
		return nil
	}
	return errs.Invalid("share.scenario_entry", "该目录不在应用场景之内", "the entry is not part of the scenario")
}

func (s *Service) checkScenario(ctx context.Context, in *ScenarioInput) error {
	var fs errs.Fields
	in.Name = valid.Line(&fs, "name", "场景名称", in.Name, 2, 100)
	in.Description = valid.Text(&fs, "description", in.Description, 0, 2000)
	if len(in.Entries) == 0 {
		fs.Add("entries", "share.scenario_entries", "应用场景须列出目录", "a scenario lists its entries")
	}
	seen := map[int64]bool{}
	for i := range in.Entries {
		se := &in.Entries[i]
		if seen[se.EntryID] {
			fs.Add("entries", "share.scenario_entry_twice", "目录重复", "an entry is listed twice")
			continue
		}
		seen[se.EntryID] = true
		e, err := s.catalog.Get(ctx, catalog.System, se.EntryID)
		if err != nil {
			if db.IsUnavailable(err) {
				return err
			}
			fs.Add("entries", "share.unknown_entry", "目录不存在", "no such entry")
			continue
		}
		if e.Status != catalog.StatusPublished || e.ShareType == catalog.ShareNone {
			fs.Add("entries", "share.scenario_not_shareable", "目录未发布或不予共享："+e.Name, "the entry is not published or not shared: "+e.Name)
		}
		se.Items = normItems(&fs, "entries", se.Items)
		if len(se.Items) == 0 {
			fs.Add("entries", "share.items_required", "请为每个目录选择信息项", "choose items for each entry")
		}
		for _, it := range se.Items {
			if !slices.ContainsFunc(e.Items, func(x catalog.Item) bool { return x.Name == it }) {
				fs.Add("entries", "share.unknown_item", "目录没有信息项："+it, "the entry has no data item "+it)
			}
		}
	}
	for _, b := range in.Bodies {
		if _, err := s.orgs.Body(ctx, b); err != nil {
			if db.IsUnavailable(err) {
				return err
			}
			fs.Add("bodies", "share.unknown_body", "单位不存在", "no such body")
		}
	}
	return fs.Err()
}

func (s *Service) mayScenario(p *auth.Principal) error {
	if p == System || isReviewer(p) {
		return nil
	}
	return ErrForbidden
}

func (s *Service) writeEntries(tx *db.Tx, id int64, es []ScenarioEntry) error {
	if err := tx.Run(`DELETE FROM share_scenario_entries WHERE scenario_id = $1`, id); err != nil {
		return err
	}
	for _, e := range es {
		if err := tx.Run(`INSERT INTO share_scenario_entries (scenario_id, entry_id, items) VALUES ($1, $2, $3)`, id, e.EntryID, jsonText(e.Items)); err != nil {
			return err
		}
	}
	return nil
}

func scenarioConflict(err error) error {
	if db.IsUniqueViolation(err) {
		return errs.Conflict("share.scenario_name", "已有同名的应用场景", "a scenario of that name exists")
	}
	return err
}

// CreateScenario defines a scenario (platform reviewers).
func (s *Service) CreateScenario(ctx context.Context, p *auth.Principal, in ScenarioInput) (Scenario, error) {
	if err := s.mayScenario(p); err != nil {
		return Scenario{}, err
	}
	if err := s.checkScenario(ctx, &in); err != nil {
		return Scenario{}, err
	}
	if in.Bodies == nil {
		in.Bodies = []int64{}
	}
	_, who := actor(p)
	var id int64
	err := s.db.Tx(ctx, func(tx *db.Tx) error {
		if err := tx.QueryRow(`INSERT INTO share_scenarios (name, description, bodies, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id`,
			in.Name, in.Description, jsonText(in.Bodies), who, tx.Now).Scan(&id); err != nil {
			return err
		}
		return s.writeEntries(tx, id, in.Entries)
	})
	if err != nil {
		return Scenario{}, db.Check(scenarioConflict(err))
	}
	return s.Scenario(ctx, id)
}

// UpdateScenario replaces a scenario, refused when it changed since rev
// (0: no check).
func (s *Service) UpdateScenario(ctx context.Context, p *auth.Principal, id int64, in ScenarioInput, rev int64) (Scenario, error) {
	if err := s.mayScenario(p); err != nil {
		return Scenario{}, err
	}
	if err := s.checkScenario(ctx, &in); err != nil {
		return Scenario{}, err
	}
	if in.Bodies == nil {
		in.Bodies = []int64{}
	}
	err := s.db.Tx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(`UPDATE share_scenarios SET name = $1, description = $2, bodies = $3, updated_at = $4, revision = revision + 1
			WHERE id = $5 AND ($6 = 0 OR revision = $6)`, in.Name, in.Description, jsonText(in.Bodies), tx.Now, id, rev)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			var x int64
			if err := tx.QueryRow(`SELECT id FROM share_scenarios WHERE id = $1`, id).Scan(&x); isNoRows(err) {
				return errScenarioNotFound
			}
			return errs.Conflict("share.scenario_stale", "应用场景已被他人修改，请刷新后重试", "the scenario was changed meanwhile; reload and try again")
		}
		return s.writeEntries(tx, id, in.Entries)
	})
	if err != nil {
		return Scenario{}, db.Check(scenarioConflict(err))
	}
	return s.Scenario(ctx, id)
}

// DeleteScenario removes a scenario; requests made through it keep their
// grants.
func (s *Service) DeleteScenario(ctx context.Context, p *auth.Principal, id int64) error {
	if err := s.mayScenario(p); err != nil {
		return err
	}
	return db.Check(s.db.Tx(ctx, func(tx *db.Tx) error {
		if err := tx.Run(`DELETE FROM share_scenario_entries WHERE scenario_id = $1`, id); err != nil {
			return err
		}
		if err := tx.Run(`UPDATE share_requests SET scenario_id = NULL WHERE scenario_id = $1`, id); err != nil {
			return err
		}
		res, err := tx.Exec(`DELETE FROM share_scenarios WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errScenarioNotFound
		}
		return nil
	}))
}

// Scenario returns one scenario.
func (s *Service) Scenario(ctx context.Context, id int64) (Scenario, error) {
	scs, err := s.scenarios(ctx, ` WHERE id = $1`, id)
	if err != nil {
		return Scenario{}, err
	}
	if len(scs) == 0 {
		return Scenario{}, errScenarioNotFound
	}
	return scs[0], nil
}

// Scenarios lists every scenario by name.
func (s *Service) Scenarios(ctx context.Context) ([]Scenario, error) {
	return s.scenarios(ctx, ` ORDER BY name`)
}

func (s *Service) scenarios(ctx context.Context, tail string, args ...any) ([]Scenario, error) {
	rctx, cancel := s.db.Ctx(ctx)
	defer cancel()
	rows, err := s.db.R.QueryContext(rctx, `SELECT id, name, description, bodies, revision, created_by, created_at, updated_at FROM share_scenarios`+tail, args...)
	if err != nil {
		return nil, db.Check(err)
	}
	out := []Scenario{}
	idx := map[int64]int{}
	for rows.Next() {
		var sc Scenario
		var bodies string
		var created, upd db.Time
		if err := rows.Scan(&sc.ID, &sc.Name, &sc.Description, &bodies, &sc.Revision, &sc.CreatedBy, &created, &upd); err != nil {
			rows.Close()
			return nil, db.Check(err)
		}
		_ = json.Unmarshal([]byte(bodies), &sc.Bodies)
		if sc.Bodies == nil {
			sc.Bodies = []int64{}
		}
		sc.CreatedAt, sc.UpdatedAt, sc.Entries = created.Time, upd.Time, []ScenarioEntry{}
		idx[sc.ID] = len(out)
		out = append(out, sc)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, db.Check(err)
	}
	if len(out) == 0 {
		return out, nil
	}
	erows, err := s.db.R.QueryContext(rctx, `SELECT scenario_id, entry_id, items FROM share_scenario_entries ORDER BY scenario_id, entry_id`)
	if err != nil {
		return nil, db.Check(err)
	}
	defer erows.Close()
	for erows.Next() {
		var sid int64
		var se ScenarioEntry
		var items string
		if err := erows.Scan(&sid, &se.EntryID, &items); err != nil {
			return nil, db.Check(err)
		}
		i, ok := idx[sid]
		if !ok {
			continue
		}
		_ = json.Unmarshal([]byte(items), &se.Items)
		if e, err := s.catalog.Get(ctx, catalog.System, se.EntryID); err == nil {
			se.EntryCode, se.EntryName = e.Code, e.Name
		}
		out[i].Entries = append(out[i].Entries, se)
	}
	return out, db.Check(erows.Err())
}

// ScenariosFor lists the scenarios that cover entry for body (a request
// form offers them).
func (s *Service) ScenariosFor(ctx context.Context, body, entry int64) ([]Scenario, error) {
	all, err := s.Scenarios(ctx)
	if err != nil {
		return nil, err
	}
	var out []Scenario
	for _, sc := range all {
		if len(sc.Bodies) > 0 && !slices.Contains(sc.Bodies, body) {
			continue
		}
		if slices.ContainsFunc(sc.Entries, func(e ScenarioEntry) bool { return e.EntryID == entry }) {
			out = append(out, sc)
		}
	}
	return out, nil
}
