package ingest

import (
	"context"
	"io"
	"strconv"

	"xiangyun/internal/auth"
	"xiangyun/internal/tabular"
)

// WriteReport writes a batch's error report as CSV (UTF-8 with BOM, for
// Excel) or XLSX, with the cells neutralised against formula injection.
func (s *Service) WriteReport(ctx context.Context, p *auth.Principal, id int64, format tabular.Format, w io.Writer) error {
	if _, err := s.Batch(ctx, p, id); err != nil {
		return err
	}
	tw, err := tabular.NewWriter(w, format)
	if err != nil {
		return err
	}
	if err := tw.WriteHeader([]string{"行号 row", "列 column", "值 value", "规则 rule", "说明", "message"}); err != nil {
		return err
	}
	if _, err := s.Errors(ctx, p, id, -1, 0, func(e RowError) error {
		return tw.WriteStrings([]string{strconv.FormatInt(e.Row, 10), e.Column, e.Value, e.Rule, e.MessageZH, e.MessageEN})
	}); err != nil {
		return err
	}
	return tw.Close()
}
