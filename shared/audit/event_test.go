package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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

func TestMerkleRoot(t *testing.T) {
	heads := []AnchoredHead{{"a", 1, "x"}, {"b", 2, "y"}, {"c", 3, "z"}}
	a := NewAnchor(1, time.Time{}, time.Now(), time.Now(), "", []AnchoredHead{heads[2], heads[0], heads[1]})
	if a.Heads[0].Chain != "a" || len(a.Check()) != 0 {
		t.Fatalf("anchor %+v: %v", a, a.Check())
	}
	// RFC 6962: the root of one leaf is SHA-256(0x00 || leaf); of three,
	// H(0x01 || H(0x01 || l0 || l1) || l2).
	h := func(parts ...[]byte) []byte {
		sum := sha256.Sum256(bytes.Join(parts, nil))
		return sum[:]
	}
	l := func(x AnchoredHead) []byte {
		return h([]byte{0}, fmt.Appendf(nil, "%s\n%d\n%s", x.Chain, x.Seq, x.Hash))
	}
	if got, want := MerkleRoot(heads[:1]), hex.EncodeToString(l(heads[0])); got != want {
		t.Errorf("root of one leaf: %s, want %s", got, want)
	}
	if got, want := MerkleRoot(heads), hex.EncodeToString(h([]byte{1}, h([]byte{1}, l(heads[0]), l(heads[1])), l(heads[2]))); got != want {
		t.Errorf("root of three leaves: %s, want %s", got, want)
	}
	if MerkleRoot(heads) == MerkleRoot([]AnchoredHead{heads[0], heads[1], {"c", 3, "Z"}}) {
		t.Error("changing a hash does not change the root")
	}
	if _, ok := a.Head("b"); !ok {
		t.Error("head b not found")
	}
	a.Heads[1].Seq = 5
	if len(a.Check()) == 0 {
		t.Error("a changed head passes the check")
	}
}
