package audit

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
)

// AnchoredHead is one chain's head as an anchor records it.
type AnchoredHead struct {
	Chain string `json:"chain"`
	Seq   int64  `json:"seq"`
	Hash  string `json:"hash"`
}

// Anchor fixes the heads of the chains that changed in a period outside
// the table: it is written to write-once storage, so that whoever can
// rewrite the table cannot rewrite history consistently without the
// anchored hashes giving it away. Anchors form a chain of their own: each
// names the digest of the one before.
type Anchor struct {
	// Seq numbers the anchors from 1.
	Seq int64 `json:"seq"`
	// From (exclusive) and To (inclusive) bound the time of the last event
	// of the chains anchored: every chain whose head changed in the period.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// At is when the anchor was made.
	At time.Time `json:"at"`
	// PrevDigest is the Digest of the previous anchor ("" for the first).
	PrevDigest string `json:"prevDigest"`
	// Root is the RFC 6962 Merkle tree hash over the heads, sorted by chain.
	Root  string         `json:"merkleRoot"`
	Heads []AnchoredHead `json:"heads"`
}

// NewAnchor sorts the heads by chain and computes the Merkle root.
func NewAnchor(seq int64, from, to, at time.Time, prevDigest string, heads []AnchoredHead) Anchor {
	heads = slices.Clone(heads)
	slices.SortFunc(heads, func(a, b AnchoredHead) int { return strings.Compare(a.Chain, b.Chain) })
	if heads == nil {
		heads = []AnchoredHead{}
	}
	return Anchor{Seq: seq, From: from.UTC(), To: to.UTC(), At: at.UTC().Truncate(time.Microsecond), PrevDigest: prevDigest, Root: MerkleRoot(heads), Heads: heads}
}

// Digest is the SHA-256 of the anchor's canonical JSON: what the next
// anchor names.
func (a Anchor) Digest() string { return Digest(a) }

// Head returns the anchored head of a chain, if the anchor has one.
func (a Anchor) Head(chain string) (AnchoredHead, bool) {
	i, ok := slices.BinarySearchFunc(a.Heads, chain, func(h AnchoredHead, c string) int { return strings.Compare(h.Chain, c) })
	if !ok {
		return AnchoredHead{}, false
	}
	return a.Heads[i], true
}

// leaf is the encoding of one head as a leaf of the Merkle tree.
func leaf(h AnchoredHead) []byte { return fmt.Appendf(nil, "%s\n%d\n%s", h.Chain, h.Seq, h.Hash) }

// MerkleRoot is the RFC 6962 Merkle tree hash (SHA-256) of the heads in
// the order given, each leaf being "chain\nseq\nhash". Anyone can
// recompute it from a published anchor.
func MerkleRoot(heads []AnchoredHead) string {
	h := rfc6962.DefaultHasher
	if len(heads) == 0 {
		return hex.EncodeToString(h.EmptyRoot())
	}
	r := (&compact.RangeFactory{Hash: h.HashChildren}).NewEmptyRange(0)
	for _, x := range heads {
		if err := r.Append(h.HashLeaf(leaf(x)), nil); err != nil {
			panic("audit: merkle append: " + err.Error())
		}
	}
	root, err := r.GetRootHash(nil)
	if err != nil {
		panic("audit: merkle root: " + err.Error())
	}
	return hex.EncodeToString(root)
}

// Check reports what is wrong with an anchor on its own: heads out of
// order or repeated, or a root that does not match them. Empty if nothing.
func (a Anchor) Check() []string {
	var probs []string
	for i := 1; i < len(a.Heads); i++ {
		if a.Heads[i-1].Chain >= a.Heads[i].Chain {
			probs = append(probs, fmt.Sprintf("the heads are not in chain order at %q", a.Heads[i].Chain))
			break
		}
	}
	if got := MerkleRoot(a.Heads); got != a.Root {
		probs = append(probs, fmt.Sprintf("the Merkle root recomputed from the heads is %s, the anchor says %s: its list of heads was changed", got, a.Root))
	}
	return probs
}
