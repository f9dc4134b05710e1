package workdays

import (
	"testing"
	"time"
)

func day(s string) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, s, Helsinki)
	if err != nil {
		panic(err)
	}
	return t.Add(10 * time.Hour)
}

func TestAdd(t *testing.T) {
	tests := []struct {
		from string
		n    int
		want string
	}{
		{"2026-11-23", 10, "2026-12-07"}, // Monday; 6 Dec (Independence Day) is a Sunday in 2026
		{"2026-12-01", 10, "2026-12-15"}, // two weekends; Independence Day falls on a Sunday
		{"2026-12-18", 10, "2027-01-07"}, // Christmas Eve, Christmas, St Stephen, New Year, Epiphany
		{"2027-03-24", 10, "2027-04-09"}, // Easter 2027: Good Friday 26 Mar, Easter Monday 29 Mar
		{"2026-05-08", 10, "2026-05-25"}, // Ascension Day (movable) 14 May 2026
		{"2026-06-15", 5, "2026-06-23"},  // Midsummer Eve Fri 19 June 2026
		{"2026-11-21", 1, "2026-11-23"},  // received on a Saturday
	}
	for _, tt := range tests {
		if got := DateString(Add(day(tt.from), tt.n)); got != tt.want {
			t.Errorf("Add(%s, %d) = %s, want %s", tt.from, tt.n, got, tt.want)
		}
	}
}

func TestBetween(t *testing.T) {
	tests := []struct {
		from, to string
		want     int
	}{
		{"2026-11-23", "2026-11-23", 0},
		{"2026-11-23", "2026-12-07", 10},
		{"2026-12-07", "2026-11-23", -10},
		{"2026-12-23", "2026-12-28", 1},
	}
	for _, tt := range tests {
		if got := Between(day(tt.from), day(tt.to)); got != tt.want {
			t.Errorf("Between(%s, %s) = %d, want %d", tt.from, tt.to, got, tt.want)
		}
	}
}

func TestLateEveningCountsAsHelsinkiDay(t *testing.T) {
	// 23:30 UTC on Friday 27 Nov 2026 is already Saturday in Helsinki.
	late := time.Date(2026, 11, 27, 23, 30, 0, 0, time.UTC)
	if IsWorkday(late) {
		t.Errorf("IsWorkday(%v) = true, want false (Saturday in Helsinki)", late)
	}
}
