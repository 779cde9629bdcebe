package workday

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// d is a short form of Date for tables.
func d(y int, m time.Month, day int) time.Time { return Date(y, m, day) }

// eod is the end of a date in Asia/Shanghai.
func eod(y int, m time.Month, day int) time.Time {
	return time.Date(y, m, day, 23, 59, 59, 999999999, Location())
}

func TestLocation(t *testing.T) {
	if _, off := d(2026, 1, 1).Zone(); off != 8*60*60 {
		t.Fatalf("offset %d, want +08:00", off)
	}
	if Location().String() != "Asia/Shanghai" {
		t.Errorf("Location() = %s, want Asia/Shanghai (tzdata embedded)", Location())
	}
}

func TestIsWorkday(t *testing.T) {
	c := New()
	tests := []struct {
		day  time.Time
		want bool
		note string
	}{
		{d(2026, 9, 18), true, "Friday"},
		{d(2026, 9, 19), false, "Saturday"},
		{d(2026, 9, 20), true, "Sunday, make-up working day"},
		{d(2026, 9, 25), false, "Friday, 中秋节"},
		{d(2026, 10, 1), false, "国庆节"},
		{d(2026, 10, 7), false, "国庆节, Wednesday"},
		{d(2026, 10, 8), true, "Thursday after 国庆节"},
		{d(2026, 10, 10), true, "Saturday, make-up working day"},
		{d(2026, 10, 11), false, "Sunday"},
		{d(2026, 1, 2), false, "元旦, Friday"},
		{d(2026, 1, 4), true, "Sunday, make-up working day"},
		{d(2026, 2, 23), false, "春节, Monday"},
		{d(2025, 10, 8), false, "国庆节、中秋节, Wednesday"},
		{d(2025, 10, 11), true, "Saturday, make-up working day"},
		{d(2024, 2, 18), true, "Sunday, make-up working day"},
		{d(2024, 6, 10), false, "端午节, Monday"},
		{d(2024, 12, 31), true, "Tuesday"},
		{d(2030, 1, 1), true, "unknown year: Tuesday counts as a working day"},
		{d(2030, 1, 5), false, "unknown year: Saturday"},
		// 2026-09-19 17:00 UTC is Sunday 2026-09-20 01:00 in Shanghai.
		{time.Date(2026, 9, 19, 17, 0, 0, 0, time.UTC), true, "UTC Saturday evening is Sunday in Shanghai"},
		{time.Date(2026, 9, 18, 15, 59, 0, 0, time.UTC), true, "UTC Friday 15:59 is Friday 23:59 in Shanghai"},
		{time.Date(2026, 9, 18, 16, 0, 0, 0, time.UTC), false, "UTC Friday 16:00 is Saturday 00:00 in Shanghai"},
	}
	for _, tt := range tests {
		if got := c.IsWorkday(tt.day); got != tt.want {
			t.Errorf("IsWorkday(%s) = %v, want %v (%s)", tt.day, got, tt.want, tt.note)
		}
	}
}

func TestAddWorkdays(t *testing.T) {
	c := New()
	tests := []struct {
		receipt time.Time
		n       int
		want    time.Time
		note    string
	}{
		{d(2026, 9, 18), 1, eod(2026, 9, 20), "Friday + 1: Sunday 09-20 is a make-up working day"},
		{d(2026, 9, 18), 2, eod(2026, 9, 21), "Friday + 2"},
		{d(2026, 9, 30), 1, eod(2026, 10, 8), "before 国庆节: skip 10-01..10-07"},
		{d(2026, 9, 30), 2, eod(2026, 10, 9), "before 国庆节 + 2"},
		{d(2026, 9, 30), 3, eod(2026, 10, 10), "Saturday 10-10 is a make-up working day"},
		{d(2026, 9, 30), 5, eod(2026, 10, 13), "10-08, 10-09, 10-10, 10-12, 10-13"},
		{d(2026, 9, 24), 1, eod(2026, 9, 28), "Thursday before 中秋节 (09-25..09-27 off)"},
		{d(2026, 3, 6), 1, eod(2026, 3, 9), "Friday + 1 → Monday"},
		{d(2026, 3, 7), 1, eod(2026, 3, 9), "Saturday + 1 → Monday"},
		{d(2026, 3, 8), 1, eod(2026, 3, 9), "Sunday + 1 → Monday"},
		{d(2026, 3, 6), 5, eod(2026, 3, 13), "Friday + 5 → next Friday"},
		{d(2026, 3, 2), 10, eod(2026, 3, 16), "Monday + 10"},
		{d(2025, 12, 31), 1, eod(2026, 1, 4), "year boundary: 01-01..01-03 off, Sunday 01-04 on"},
		{d(2025, 12, 31), 2, eod(2026, 1, 5), "year boundary + 2"},
		{d(2024, 12, 31), 1, eod(2025, 1, 2), "year boundary: 2025-01-01 off"},
		{d(2026, 2, 13), 1, eod(2026, 2, 14), "Friday before 春节: Saturday 02-14 on"},
		{d(2026, 2, 13), 2, eod(2026, 2, 24), "春节 02-15..02-23 off"},
		{d(2026, 2, 13), 5, eod(2026, 2, 27), "02-14, then 02-24..02-27"},
		{d(2026, 2, 13), 6, eod(2026, 2, 28), "Saturday 02-28 on"},
		{d(2026, 12, 31), 1, eod(2027, 1, 1), "into an unknown year: Monday–Friday only"},
		{time.Date(2026, 9, 18, 23, 59, 0, 0, Location()), 1, eod(2026, 9, 20), "late receipt: the hour does not matter"},
		{time.Date(2026, 9, 17, 16, 30, 0, 0, time.UTC), 1, eod(2026, 9, 20), "UTC Thursday 16:30 is Friday in Shanghai"},
		{d(2026, 9, 18), 0, eod(2026, 9, 18), "n = 0: end of the day of receipt"},
		{d(2026, 9, 19), -3, eod(2026, 9, 19), "n < 0: end of the day of receipt"},
	}
	for _, tt := range tests {
		got := c.AddWorkdays(tt.receipt, tt.n)
		if !got.Equal(tt.want) {
			t.Errorf("AddWorkdays(%s, %d) = %s, want %s (%s)", tt.receipt, tt.n, got, tt.want, tt.note)
		}
		if got.Location() != Location() {
			t.Errorf("AddWorkdays(%s, %d) in %s, want Asia/Shanghai", tt.receipt, tt.n, got.Location())
		}
		if tt.n >= 0 {
			if back := c.WorkdaysBetween(tt.receipt, got); back != tt.n {
				t.Errorf("WorkdaysBetween(%s, %s) = %d, want %d", tt.receipt, got, back, tt.n)
			}
		}
	}
}

func TestWorkdaysBetween(t *testing.T) {
	c := New()
	tests := []struct {
		from, to time.Time
		want     int
	}{
		{d(2026, 9, 30), d(2026, 10, 9), 2},
		{d(2026, 9, 30), eod(2026, 10, 9), 2},
		{d(2026, 9, 18), d(2026, 9, 20), 1},
		{d(2026, 9, 18), d(2026, 9, 18), 0},
		{eod(2026, 9, 18), d(2026, 9, 18), 0},
		{d(2026, 10, 9), d(2026, 9, 30), 0},
		{d(2026, 3, 6), d(2026, 3, 8), 0},
		{d(2025, 12, 31), d(2026, 12, 31), 248}, // all of 2026
		{d(2024, 12, 31), d(2025, 12, 31), 248}, // all of 2025
		{d(2023, 12, 31), d(2024, 12, 31), 251}, // all of 2024
	}
	for _, tt := range tests {
		if got := c.WorkdaysBetween(tt.from, tt.to); got != tt.want {
			t.Errorf("WorkdaysBetween(%s, %s) = %d, want %d", tt.from, tt.to, got, tt.want)
		}
	}
}

// TestWorkdaysBetweenMatchesIsWorkday compares the arithmetic count with a
// day-by-day count over random ranges, including unknown years.
func TestWorkdaysBetweenMatchesIsWorkday(t *testing.T) {
	c := New()
	r := rand.New(rand.NewPCG(1, 2))
	start := d(2022, 1, 1)
	for range 2000 {
		from := start.AddDate(0, 0, r.IntN(6*365)).Add(time.Duration(r.IntN(24)) * time.Hour)
		to := from.AddDate(0, 0, r.IntN(120)-10).Add(time.Duration(r.IntN(24)) * time.Hour)
		want := 0
		for day := from.AddDate(0, 0, 1); dayNum(day) <= dayNum(to); day = day.AddDate(0, 0, 1) {
			if c.IsWorkday(day) {
				want++
			}
		}
		if got := c.WorkdaysBetween(from, to); got != want {
			t.Fatalf("WorkdaysBetween(%s, %s) = %d, day by day %d", from, to, got, want)
		}
		if n := r.IntN(30); c.WorkdaysBetween(from, c.AddWorkdays(from, n)) != n {
			t.Fatalf("WorkdaysBetween(%s, AddWorkdays(…, %d)) != %d", from, n, n)
		}
	}
}

func TestRemaining(t *testing.T) {
	c := New()
	deadline := c.AddWorkdays(d(2026, 9, 30), 2) // end of Friday 2026-10-09
	tests := []struct {
		now  time.Time
		want int
	}{
		{d(2026, 9, 30), 2},
		{d(2026, 10, 3), 2},
		{time.Date(2026, 10, 8, 10, 0, 0, 0, Location()), 1},
		{d(2026, 10, 9), 0},
		{deadline, 0},
		{deadline.Add(time.Nanosecond), -1}, // Saturday 10-10 00:00, a make-up working day
		{d(2026, 10, 11), -1},               // Sunday
		{d(2026, 10, 12), -2},
	}
	for _, tt := range tests {
		if got := c.Remaining(tt.now, deadline); got != tt.want {
			t.Errorf("Remaining(%s, %s) = %d, want %d", tt.now, deadline, got, tt.want)
		}
	}
	// Overdue on the weekend right after a Friday deadline is still negative.
	fri := eod(2026, 3, 6)
	for now, want := range map[time.Time]int{d(2026, 3, 7): -1, d(2026, 3, 8): -1, d(2026, 3, 9): -1, d(2026, 3, 10): -2} {
		if got := c.Remaining(now, fri); got != want {
			t.Errorf("Remaining(%s, %s) = %d, want %d", now, fri, got, want)
		}
	}
}

func TestSetAndYears(t *testing.T) {
	c := New()
	if got, want := c.Years(), []int{2024, 2025, 2026}; !slices.Equal(got, want) {
		t.Fatalf("Years() = %v, want %v", got, want)
	}
	if c.Known(2027) || !c.Known(2026) {
		t.Fatalf("Known: 2026 %v, 2027 %v", c.Known(2026), c.Known(2027))
	}
	// A new year's schedule arrives at runtime.
	c.Set(d(2027, 1, 1), true, "元旦")
	if !c.Known(2027) || c.IsWorkday(d(2027, 1, 1)) {
		t.Errorf("after Set: Known(2027) %v, IsWorkday(2027-01-01) %v", c.Known(2027), c.IsWorkday(d(2027, 1, 1)))
	}
	// A day added mid-year, and a make-up Saturday.
	c.Set(d(2026, 3, 9), true, "临时假日")
	c.Set(d(2026, 3, 14), false, "临时调休")
	if c.IsWorkday(d(2026, 3, 9)) || !c.IsWorkday(d(2026, 3, 14)) {
		t.Error("overrides not applied")
	}
	if got := c.AddWorkdays(d(2026, 3, 6), 1); !got.Equal(eod(2026, 3, 10)) {
		t.Errorf("AddWorkdays after override = %s, want 2026-03-10", got)
	}
	if name, off, ok := c.Lookup(d(2026, 3, 14)); !ok || off || name != "临时调休" {
		t.Errorf("Lookup = %q %v %v", name, off, ok)
	}
	if _, _, ok := c.Lookup(d(2026, 3, 13)); ok {
		t.Error("Lookup of an ordinary day reported an entry")
	}
	// The built-in table and the default calendar are untouched.
	if !New().IsWorkday(d(2026, 3, 9)) || !IsWorkday(d(2026, 3, 9)) {
		t.Error("Set on one calendar changed another")
	}

	var zero Calendar
	if !zero.IsWorkday(d(2026, 10, 1)) || zero.Known(2026) || len(zero.Years()) != 0 {
		t.Error("zero Calendar is not plain Monday–Friday")
	}
	zero.Set(d(2026, 10, 1), true, "国庆节")
	if zero.IsWorkday(d(2026, 10, 1)) {
		t.Error("Set on zero Calendar not applied")
	}
}

func TestPackageFunctions(t *testing.T) {
	if !AddWorkdays(d(2026, 9, 18), 1).Equal(eod(2026, 9, 20)) ||
		WorkdaysBetween(d(2026, 9, 30), d(2026, 10, 9)) != 2 ||
		Remaining(d(2026, 9, 30), eod(2026, 10, 9)) != 2 ||
		IsWorkday(d(2026, 10, 1)) || Default() != Default() {
		t.Error("package-level functions disagree with the calendar")
	}
}

// holidayCNDir finds the holiday-cn data of the team's shared standards
// folder: $XIANGYUN_SHARED_STANDARDS/holiday-cn, or shared/standards/holiday-cn
// in a folder above this one (the checkout sits beside ../shared).
func holidayCNDir() string {
	if d := os.Getenv("XIANGYUN_SHARED_STANDARDS"); d != "" {
		return filepath.Join(d, "holiday-cn")
	}
	wd, _ := os.Getwd()
	for d := wd; ; d = filepath.Dir(d) {
		cand := filepath.Join(d, "shared", "standards", "holiday-cn")
		if _, err := os.Stat(cand); err == nil {
			return cand
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// TestHolidayCN cross-checks every day of 2024–2026 with the holiday-cn data
// in the shared standards folder. The data is not part of the project, so the
// test is skipped, saying so, where the folder is absent.
func TestHolidayCN(t *testing.T) {
	dir := holidayCNDir()
	if dir == "" && os.Getenv("CI") == "true" {
		t.Fatal("CI=true but the shared standards data holiday-cn was not found (shared/standards/holiday-cn above this checkout, or XIANGYUN_SHARED_STANDARDS): the cross-check is required under CI")
	}
	if dir == "" {
		t.Skip("shared standards data holiday-cn not found (no shared/standards/holiday-cn above this checkout and XIANGYUN_SHARED_STANDARDS unset); skipping the cross-check with holiday-cn")
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("XIANGYUN_SHARED_STANDARDS is set but %s does not exist", dir)
	}
	c := New()
	for _, year := range []int{2024, 2025, 2026} {
		raw, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%d.json", year)))
		if err != nil {
			t.Fatal(err)
		}
		var file struct {
			Year int `json:"year"`
			Days []struct {
				Name     string `json:"name"`
				Date     string `json:"date"`
				IsOffDay bool   `json:"isOffDay"`
			} `json:"days"`
		}
		if err := json.Unmarshal(raw, &file); err != nil {
			t.Fatalf("%d.json: %v", year, err)
		}
		if file.Year != year || len(file.Days) == 0 {
			t.Fatalf("%d.json: year %d with %d days", year, file.Year, len(file.Days))
		}
		if !c.Known(year) {
			t.Errorf("Known(%d) = false", year)
		}
		listed := make(map[string]bool) // date → isOffDay
		for _, day := range file.Days {
			listed[day.Date] = day.IsOffDay
			date, err := time.ParseInLocation("2006-01-02", day.Date, Location())
			if err != nil {
				t.Fatalf("%d.json: %v", year, err)
			}
			name, off, ok := c.Lookup(date)
			if !ok || off != day.IsOffDay || name != day.Name {
				t.Errorf("%s: calendar has (%q, off %v, listed %v), holiday-cn has (%q, off %v)",
					day.Date, name, off, ok, day.Name, day.IsOffDay)
			}
		}
		for day := Date(year, 1, 1); day.Year() == year; day = day.AddDate(0, 0, 1) {
			key := day.Format("2006-01-02")
			want := day.Weekday() != time.Saturday && day.Weekday() != time.Sunday
			if off, ok := listed[key]; ok {
				want = !off
			} else if _, _, ok := c.Lookup(day); ok {
				t.Errorf("%s: listed in the calendar, not in holiday-cn", key)
			}
			if got := c.IsWorkday(day); got != want {
				t.Errorf("%s (%s): IsWorkday = %v, holiday-cn says %v", key, day.Weekday(), got, want)
			}
		}
	}
}
