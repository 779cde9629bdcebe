package db

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// timeLayout is fixed-width UTC so that stored times sort as text on both
// backends and compare equal after a round trip.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// Time is a timestamp stored as TEXT in UTC on both backends. The zero Time
// is stored as NULL.
type Time struct{ time.Time }

// Now returns the current time truncated to the stored precision.
func Now() Time { return Time{time.Now().UTC().Truncate(time.Microsecond)} }

// Value implements driver.Valuer.
func (t Time) Value() (driver.Value, error) {
	if t.IsZero() {
		return nil, nil
	}
	return t.UTC().Format(timeLayout), nil
}

// Scan implements sql.Scanner.
func (t *Time) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		t.Time = time.Time{}
		return nil
	case string:
		return t.parse(x)
	case []byte:
		return t.parse(string(x))
	case time.Time:
		t.Time = x.UTC()
		return nil
	}
	return fmt.Errorf("db.Time: cannot scan %T", v)
}

func (t *Time) parse(s string) error {
	p, err := time.Parse(timeLayout, s)
	if err != nil {
		p, err = time.Parse(time.RFC3339Nano, s)
	}
	if err != nil {
		return fmt.Errorf("db.Time: %w", err)
	}
	t.Time = p.UTC()
	return nil
}

// FormatTime renders t the way Time stores it, for comparisons in SQL.
func FormatTime(t time.Time) string { return t.UTC().Format(timeLayout) }
