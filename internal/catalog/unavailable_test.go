package catalog

import (
	"context"
	"testing"
	"time"

	"xiangyun/internal/db"
	"xiangyun/internal/errs"
)

// TestValidateStorageFailure: when the provider cannot be looked up
// because the database does not answer (here: the deadline has passed),
// validation fails with "unavailable" (503), never with "the provider does
// not exist" (the user's mistake).
func TestValidateStorageFailure(t *testing.T) {
	f := newFixture(t, "sqlite:"+t.TempDir())
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	for name, in := range map[string]EntryInput{
		"by id":   {ProviderID: f.bodies["police"].ID},
		"by code": {ProviderCode: f.bodies["police"].CreditCode},
	} {
		err := f.s.ValidateInput(ctx, in)
		if errs.KindOf(err) != errs.KindUnavailable || !db.IsUnavailable(err) {
			t.Errorf("%s: %v (kind %v), want unavailable", name, err, errs.KindOf(err))
		}
		if _, err := f.s.Create(ctx, f.p["police_cdo"], in); errs.KindOf(err) != errs.KindUnavailable {
			t.Errorf("%s: create: %v, want unavailable", name, err)
		}
	}
	// With the database answering, the same provider is found.
	err := f.s.ValidateInput(context.Background(), EntryInput{ProviderID: f.bodies["police"].ID})
	if e, ok := errs.As(err); !ok || e.Kind != errs.KindInvalid {
		t.Fatalf("validation: %v", err)
	}
	for _, fe := range err.(*errs.Error).Fields {
		if fe.Code == "catalog.provider_not_found" {
			t.Errorf("provider reported missing: %+v", fe)
		}
	}
}
