package audit

import (
	"testing"
	"time"
)

func chain(n int) ([]Event, Head) {
	var head Head
	evs := make([]Event, n)
	for i := range evs {
		evs[i] = Event{Chain: "dps#1", At: time.Date(2026, 11, 23, 9, i, 0, 0, time.UTC), Actor: "u", Action: "x", Digest: Digest(i)}
		head = Append(head, &evs[i])
	}
	return evs, head
}

func verify(evs []Event, head Head) Result {
	v := NewVerifier("dps#1", 1)
	for _, e := range evs {
		if !v.Add(e) {
			break
		}
	}
	return v.Finish(head, true)
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name   string
		tamper func([]Event) []Event
		broken int64 // 0: valid
	}{
		{"untouched", func(e []Event) []Event { return e }, 0},
		{"altered action", func(e []Event) []Event { e[2].Action = "y"; return e }, 3},
		{"altered digest", func(e []Event) []Event { e[0].Digest = Digest("other"); return e }, 1},
		{"removed event", func(e []Event) []Event { return append(e[:3:3], e[4:]...) }, 4},
		{"removed tail", func(e []Event) []Event { return e[:4] }, 5},
		{"rehashed event", func(e []Event) []Event { e[1].Actor = "z"; e[1].Hash = e[1].ComputeHash(); return e }, 3},
	}
	for _, tt := range tests {
		evs, head := chain(5)
		got := verify(tt.tamper(evs), head)
		if tt.broken == 0 {
			if !got.Valid {
				t.Errorf("%s: got broken at %d (%s), want valid", tt.name, *got.BrokenAt, got.Problem)
			}
			continue
		}
		if got.Valid || *got.BrokenAt != tt.broken {
			t.Errorf("%s: got %+v, want broken at %d", tt.name, got, tt.broken)
		}
	}
}
