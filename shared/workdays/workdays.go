// Package workdays counts Finnish working days for statutory deadlines.
//
// Saturdays, Sundays and the public holidays of Finland (the movable ones
// included) are not working days. Christmas Eve and Midsummer Eve are also
// excluded: the Act on the Calculation of Statutory Time Limits (150/1930)
// treats them as holidays when a deadline is counted.
package workdays

import (
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/fi"
)

var calendar = func() *cal.BusinessCalendar {
	c := cal.NewBusinessCalendar()
	c.AddHoliday(fi.Holidays...)
	return c
}()

// Helsinki is the time zone in which Finnish calendar days are counted.
var Helsinki = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		// The Lambda runtime and minimal images may lack tzdata; the
		// embedded copy (time/tzdata in the mains) normally prevents this.
		return time.FixedZone("EET", 2*60*60)
	}
	return loc
}()

// Date returns the Finnish calendar day of t at noon UTC, so that day
// arithmetic never trips over daylight saving changes.
func Date(t time.Time) time.Time {
	y, m, d := t.In(Helsinki).Date()
	return time.Date(y, m, d, 12, 0, 0, 0, time.UTC)
}

// IsWorkday reports whether the Finnish calendar day of t is a working day.
func IsWorkday(t time.Time) bool {
	return calendar.IsWorkday(Date(t))
}

// Add returns the day that is n working days after the day of t. The day of
// t itself is not counted, as in Finnish deadline law: a decision due
// "within 10 working days of receipt" is due on the tenth working day after
// the day of receipt.
func Add(t time.Time, n int) time.Time {
	return calendar.WorkdaysFrom(Date(t), n)
}

// Between returns the number of working days after the day of from up to
// and including the day of to. It is negative when to is before from.
func Between(from, to time.Time) int {
	f, t := Date(from), Date(to)
	switch {
	case f.Equal(t):
		return 0
	case f.Before(t):
		return calendar.WorkdaysInRange(f.AddDate(0, 0, 1), t)
	default:
		return -calendar.WorkdaysInRange(t.AddDate(0, 0, 1), f)
	}
}

// DateString formats the Finnish calendar day of t as YYYY-MM-DD.
func DateString(t time.Time) string {
	return Date(t).Format(time.DateOnly)
}
