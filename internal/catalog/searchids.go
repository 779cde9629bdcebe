package catalog

import (
	"context"

	"xiangyun/internal/auth"
	"xiangyun/internal/errs"
	"xiangyun/internal/search"
)

// SearchIDs runs q for p on the search index alone: the same translation,
// filters, visibility and facets as Search, but without loading the
// entries of the page from the database or labelling the facet values.
// Search builds on it; the catalog benchmark (xiangyun bench catalog)
// measures it as the bare index query.
func (s *Service) SearchIDs(ctx context.Context, p *auth.Principal, q SearchQuery) (search.Result, error) {
	if p != System && !p.Has(auth.PermCatalogRead) {
		return search.Result{}, errs.ErrForbidden
	}
	sq, err := s.searchQuery(p, q)
	if err != nil {
		return search.Result{}, err
	}
	return s.ix.Search(ctx, sq)
}
