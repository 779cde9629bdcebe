// Package workday implements China's working-day calendar (工作日): statutory
// holidays (法定节假日) and the make-up working days (调休上班) that the State
// Council General Office announces each year.
//
// A day is a working day if it is a make-up working day, or it is
// Monday–Friday and not a holiday. Days are calendar dates in Asia/Shanghai:
// every time.Time is converted to that zone before its date is taken. For a
// year the calendar does not know (see [Calendar.Known]), only weekends count
// as days off.
//
// # Deadline convention
//
// "Within N working days of receipt" (收到之日起N个工作日内) is counted from the
// first working day after the day of receipt: the day of receipt itself never
// counts, whatever the hour. The deadline is the end of the Nth working day,
// 23:59:59.999999999 +08:00. For example, a request received on Friday
// 2026-09-18 with 1 working day is due at the end of Sunday 2026-09-20, a
// make-up working day; received on 2026-09-30 with 2 working days, it is due
// at the end of 2026-10-09, after the National Day holiday of 10-01 to 10-07.
// [Calendar.AddWorkdays] computes deadlines this way, and
// [Calendar.WorkdaysBetween] and [Calendar.Remaining] count the same way.
//
// The built-in table covers 2024–2026. The State Council publishes the next
// year's schedule each November and has added days mid-year: add them with
// [Calendar.Set] (at runtime) and in holidays.go (for the next release).
package workday

import (
	"fmt"
	"slices"
	"sync"
	"time"
	_ "time/tzdata" // embed tzdata so Asia/Shanghai loads everywhere
)

var shanghai = loadShanghai()

func loadShanghai() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*60*60)
}

// Location returns the zone whose dates the calendar uses: Asia/Shanghai.
func Location() *time.Location { return shanghai }

// Date returns midnight at the start of the given date in Asia/Shanghai.
func Date(year int, month time.Month, day int) time.Time {
	return time.Date(year, month, day, 0, 0, 0, 0, shanghai)
}

// Calendar is a working-day calendar. It is safe for concurrent use. The
// zero value knows no year and counts Monday–Friday as working days.
type Calendar struct {
	mu    sync.RWMutex
	days  map[int64]entry // by day number, see dayNum
	years map[int]bool
}

type entry struct {
	name string
	off  bool
}

// New returns a calendar holding the built-in schedules of holidays.go.
func New() *Calendar {
	c := &Calendar{}
	for _, s := range official {
		d, err := time.ParseInLocation("2006-01-02", s.date, shanghai)
		if err != nil {
			panic(fmt.Sprintf("workday: bad date in holidays.go: %v", err))
		}
		c.Set(d, s.off, s.name)
	}
	return c
}

var defaultCalendar = sync.OnceValue(New)

// Default returns the process-wide calendar, built by [New] on first use.
// The package-level functions use it, so [Calendar.Set] on it changes them.
func Default() *Calendar { return defaultCalendar() }

// Set marks date as a holiday day (off true) or a make-up working day (off
// false) named name (元旦, 春节 …), replacing any earlier entry for that date.
// It also marks date's year as known: add a new year's schedule with one Set
// per listed day.
func (c *Calendar) Set(date time.Time, off bool, name string) {
	n := dayNum(date)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.days == nil {
		c.days = make(map[int64]entry)
		c.years = make(map[int]bool)
	}
	c.days[n] = entry{name: name, off: off}
	c.years[date.In(shanghai).Year()] = true
}

// Known reports whether the calendar holds the official schedule of year.
// Outside known years only weekends are days off.
func (c *Calendar) Known(year int) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.years[year]
}

// Years lists the known years in ascending order.
func (c *Calendar) Years() []int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	ys := make([]int, 0, len(c.years))
	for y := range c.years {
		ys = append(ys, y)
	}
	slices.Sort(ys)
	return ys
}

// Lookup returns the entry for t's date, if the schedule lists it: the
// holiday's name and whether the day is off (a holiday) or on (a make-up
// working day).
func (c *Calendar) Lookup(t time.Time) (name string, off, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.days[dayNum(t)]
	return e.name, e.off, ok
}

// IsWorkday reports whether t's date is a working day: a make-up working day
// is; a weekend day or a holiday is not; any other day is.
func (c *Calendar) IsWorkday(t time.Time) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.isWorkday(dayNum(t))
}

func (c *Calendar) isWorkday(n int64) bool {
	if e, ok := c.days[n]; ok {
		return !e.off
	}
	return !weekend(n)
}

// AddWorkdays returns the deadline for something received at receipt that
// must be handled within n working days: the end (23:59:59.999999999 +08:00)
// of the nth working day after the day of receipt. For n ≤ 0 it returns the
// end of the day of receipt.
func (c *Calendar) AddWorkdays(receipt time.Time, n int) time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	d := dayNum(receipt)
	for i := 0; i < n; {
		d++
		if c.isWorkday(d) {
			i++
		}
	}
	y, m, day := time.Unix(d*secondsPerDay, 0).UTC().Date()
	return time.Date(y, m, day, 23, 59, 59, 999999999, shanghai)
}

// WorkdaysBetween returns the number of working days strictly after from's
// date up to and including to's date; 0 when to's date is not after from's.
// WorkdaysBetween(receipt, AddWorkdays(receipt, n)) == n for n ≥ 0.
func (c *Calendar) WorkdaysBetween(from, to time.Time) int {
	a, b := dayNum(from), dayNum(to)
	if b <= a {
		return 0
	}
	// Monday–Friday in (a, b], then the schedule's exceptions.
	weeks := (b - a) / 7
	count := int(weeks) * 5
	for d := a + weeks*7 + 1; d <= b; d++ {
		if !weekend(d) {
			count++
		}
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	for d, e := range c.days {
		if d <= a || d > b {
			continue
		}
		switch we := weekend(d); {
		case we && !e.off:
			count++
		case !we && e.off:
			count--
		}
	}
	return count
}

// Remaining returns the working days left until deadline, for display
// ("N working days left"): the working days after now's date up to and
// including the deadline's date, so 0 on the deadline's own day. Once now is
// past the deadline the result is negative: minus the working days since the
// deadline's date up to and including now's, and at least 1 (-1 on the
// weekend right after a Friday deadline).
func (c *Calendar) Remaining(now, deadline time.Time) int {
	if !now.After(deadline) {
		return c.WorkdaysBetween(now, deadline)
	}
	return -max(c.WorkdaysBetween(deadline, now), 1)
}

// IsWorkday is [Calendar.IsWorkday] on the [Default] calendar.
func IsWorkday(t time.Time) bool { return Default().IsWorkday(t) }

// AddWorkdays is [Calendar.AddWorkdays] on the [Default] calendar.
func AddWorkdays(receipt time.Time, n int) time.Time { return Default().AddWorkdays(receipt, n) }

// WorkdaysBetween is [Calendar.WorkdaysBetween] on the [Default] calendar.
func WorkdaysBetween(from, to time.Time) int { return Default().WorkdaysBetween(from, to) }

// Remaining is [Calendar.Remaining] on the [Default] calendar.
func Remaining(now, deadline time.Time) int { return Default().Remaining(now, deadline) }

const secondsPerDay = 24 * 60 * 60

// dayNum numbers t's date in Asia/Shanghai as days since 1970-01-01.
func dayNum(t time.Time) int64 {
	y, m, d := t.In(shanghai).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / secondsPerDay
}

// weekend reports whether day number n is a Saturday or a Sunday.
func weekend(n int64) bool {
	wd := time.Unix(n*secondsPerDay, 0).UTC().Weekday()
	return wd == time.Saturday || wd == time.Sunday
}
