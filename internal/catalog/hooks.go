package catalog

import (
	"sync"

	"xiangyun/internal/db"
)

// PublishHook is called inside the publishing transaction, before a version
// comes into force: old is the version it replaces (nil for a first
// publication), new the version being published. An error refuses the
// publication with that error, so a module that keeps data shaped by the
// entry (the aggregated records) can refuse a change it cannot migrate.
type PublishHook func(tx *db.Tx, old, new *Version) error

var hookMu sync.RWMutex

// OnPublish registers h for every later publication. Modules above catalog
// register here, so that catalog never imports them.
func (s *Service) OnPublish(h PublishHook) {
	hookMu.Lock()
	defer hookMu.Unlock()
	s.publishHooks = append(s.publishHooks, h)
}

func (s *Service) runPublishHooks(w *db.Tx, oldID, newID int64) error {
	hookMu.RLock()
	hooks := s.publishHooks
	hookMu.RUnlock()
	if len(hooks) == 0 {
		return nil
	}
	var old *Version
	if oldID != 0 {
		v, err := s.versionByID(w.Ctx, w, oldID)
		if err != nil {
			return err
		}
		old = &v
	}
	nv, err := s.versionByID(w.Ctx, w, newID)
	if err != nil {
		return err
	}
	for _, h := range hooks {
		if err := h(w, old, &nv); err != nil {
			return err
		}
	}
	return nil
}

// RetireHook is called inside the transaction that takes a published entry
// out of force (撤销 withdrawn, or 废止 deprecated; status says which). An
// error refuses the change. Sharing uses it so that every gateway node stops
// serving the entry at once, not when its cached description expires.
type RetireHook func(tx *db.Tx, entryID int64, status string) error

// OnRetire registers h for every later withdrawal and deprecation.
func (s *Service) OnRetire(h RetireHook) {
	hookMu.Lock()
	defer hookMu.Unlock()
	s.retireHooks = append(s.retireHooks, h)
}

func (s *Service) runRetireHooks(w *db.Tx, id int64, status string) error {
	hookMu.RLock()
	hooks := s.retireHooks
	hookMu.RUnlock()
	for _, h := range hooks {
		if err := h(w, id, status); err != nil {
			return err
		}
	}
	return nil
}
