package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rengas/rengas/shared/ocds"
	"github.com/rengas/rengas/shared/procurement"
)

// OCDS releases. Every public change of a contracting process writes one
// release item, in the same transaction as the change itself:
//
//	release  OCDS#<ocid>  R#<at>#<release id>  GSI1: RELEASES#<yyyy-mm> / <at>#<ocid>#<release id>
//
// The item holds the release as it was marshalled (ocds.Marshal), written
// once (attribute_not_exists) and never updated: a release is the same
// bytes forever. A process's releases are one partition, read in date
// order by one Query; the feed reads the month partitions of GSI1 in time
// order.

func releasePartition(ocid string) string { return "OCDS#" + ocid }
func feedPartition(at time.Time) string   { return "RELEASES#" + at.UTC().Format("2006-01") }

// ReleaseWrite returns the write that stores a release in the transaction
// of the change it publishes: add it to the writes of that change's
// commit. at is the time of the change (the release's date); the release
// must carry its own unique id (ocds.ReleaseID with a sequence unique in
// its ocid, e.g. the entity's new version or s.NewID()). The write fails
// the whole transaction if a release with the same date and id exists.
func (s *Store) ReleaseWrite(r ocds.Release, at time.Time) Write {
	raw := ocds.Marshal(r)
	at = at.UTC()
	it := item{key: key{releasePartition(r.OCID), "R#" + deadlineKey(at) + "#" + r.ID}, Type: "release", Ver: 1, Data: raw}
	it.GSI[0] = key{feedPartition(at), deadlineKey(at) + "#" + r.OCID + "#" + r.ID}
	return s.putNew(it, "release "+r.ID+" exists")
}

// StoredRelease is a release as stored: its bytes and the time of its change.
type StoredRelease struct {
	OCID string
	At   time.Time
	Raw  json.RawMessage
	// Pos is its place in the feed (see ReleaseFeed).
	Pos string
}

func storedRelease(m map[string]types.AttributeValue) (StoredRelease, error) {
	d, ok := m["data"].(*types.AttributeValueMemberS)
	sk := attrString(m, GSI1.SK)
	at, ocid, found := strings.Cut(sk, "#")
	if !ok || !found {
		return StoredRelease{}, procurement.Internal(fmt.Errorf("dynamo: release item %s %s is malformed", attrString(m, AttrPK), attrString(m, AttrSK)))
	}
	t, err := time.Parse("2006-01-02T15:04:05.000000Z", at)
	if err != nil {
		return StoredRelease{}, procurement.Internal(err)
	}
	ocid, _, _ = strings.Cut(ocid, "#")
	return StoredRelease{OCID: ocid, At: t, Raw: json.RawMessage(d.Value), Pos: base64.RawURLEncoding.EncodeToString([]byte(sk))}, nil
}

// ReleasesPerPackage is how many releases one release package holds; a
// process with more is published in pages linked by links.next.
const ReleasesPerPackage = 1000

// MaxRecordReleases is the most releases a record is compiled from.
const MaxRecordReleases = 5000

// ErrTooManyReleases is a record asked of a process with more releases
// than MaxRecordReleases.
var ErrTooManyReleases = procurement.Errorf(procurement.ECONFLICT, "the process has more than %d releases, too many to compile into one record; read its release package pages and merge them", MaxRecordReleases)

// Releases returns the releases of a contracting process, oldest first:
// one Query for up to 100 releases (a page of 101 more each), strongly
// consistent, so a release committed before the call is in it. None: the
// process has published nothing (a draft, or no such process).
func (s *Store) Releases(ctx context.Context, ocid string) ([]StoredRelease, error) {
	rels, more, err := s.ReleasesAfter(ctx, ocid, "", MaxRecordReleases)
	if err == nil && more {
		return nil, ErrTooManyReleases
	}
	return rels, err
}

// ReleasesAfter returns up to max releases of a process after a position
// (StoredRelease.Pos; empty: from the first), oldest first, and whether
// more follow.
func (s *Store) ReleasesAfter(ctx context.Context, ocid, after string, max int) ([]StoredRelease, bool, error) {
	var out []StoredRelease
	var start map[string]types.AttributeValue
	if after != "" {
		b, err := base64.RawURLEncoding.DecodeString(after)
		at, rest, ok := strings.Cut(string(b), "#")
		if err != nil || !ok || len(b) > 1024 || !strings.HasPrefix(rest, ocid+"#") {
			return nil, false, ErrReleasePosition
		}
		if _, err := time.Parse("2006-01-02T15:04:05.000000Z", at); err != nil {
			return nil, false, ErrReleasePosition
		}
		id := strings.TrimPrefix(rest, ocid+"#")
		start = map[string]types.AttributeValue{AttrPK: str(releasePartition(ocid)), AttrSK: str("R#" + at + "#" + id)}
	}
	for {
		// One more than 100: a process with exactly 100 releases is read
		// whole, without a second request to learn that none follows.
		in := &dynamodb.QueryInput{TableName: &s.table, ConsistentRead: aws.Bool(true), Limit: aws.Int32(int32(min(101, max-len(out)+1))),
			KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :r)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(releasePartition(ocid)), ":r": str("R#")},
			ExclusiveStartKey:         start}
		s.calls.Add(1)
		cctx, cancel := context.WithTimeout(ctx, s.Timeout)
		res, err := s.db.Query(cctx, in)
		cancel()
		if err != nil {
			return nil, false, dbError(err)
		}
		for _, m := range res.Items {
			if len(out) == max {
				return out, true, nil
			}
			r, err := storedRelease(m)
			if err != nil {
				return nil, false, err
			}
			out = append(out, r)
		}
		if start = res.LastEvaluatedKey; len(start) == 0 {
			return out, false, nil
		}
	}
}

// ErrReleasePosition is a position that is not one of the process's.
var ErrReleasePosition = procurement.Invalid("after", "is not a position of this package; pass the value from links.next unchanged")

// FeedLag is how old a release must be before the feed serves it. The
// feed's index is updated shortly after each transaction, and two changes
// committed at once may reach it out of their time order: serving only
// releases older than the lag means a harvester that follows links.next
// never steps past a release that is still on its way.
const FeedLag = time.Minute

// FeedMonths bounds the month partitions one feed page reads once it has
// a release; a page that has none yet reads on, one round trip per empty
// month, until its first release or the present (a page is never empty
// unless the feed is caught up).
const FeedMonths = 12

// FeedPage is one page of the feed.
type FeedPage struct {
	Releases []StoredRelease
	// After and Since continue the feed: After is the position of the last
	// release served (empty if none), Since the moment to start from when
	// there is no position.
	After string
	Since time.Time
	// Full says the page holds limit releases (more may follow now).
	Full bool
}

// ErrFeedPosition is a position that is not one the feed gave.
var ErrFeedPosition = procurement.Invalid("after", "is not a position this feed gave; pass the value from links.next unchanged")

// ReleaseFeed returns up to limit releases of every process in time order,
// from since (inclusive) or after a position the feed gave, and only those
// older than FeedLag. It reads one month partition of the index per round
// trip: a page of 100 costs one Query when its month holds them, at most
// FeedMonths when it spans months, and more only across empty months
// before its first release.
func (s *Store) ReleaseFeed(ctx context.Context, since time.Time, after string, limit int) (FeedPage, error) {
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	from := deadlineKey(since)
	skip := ""
	if after != "" {
		b, err := base64.RawURLEncoding.DecodeString(after)
		at, _, ok := strings.Cut(string(b), "#")
		t, terr := time.Parse("2006-01-02T15:04:05.000000Z", at)
		if err != nil || !ok || terr != nil || len(b) > 1024 {
			return FeedPage{}, ErrFeedPosition
		}
		from, skip, since = string(b), string(b), t
	}
	until := s.Now().Add(-FeedLag)
	page := FeedPage{Since: since, After: after}
	month := time.Date(since.UTC().Year(), since.UTC().Month(), 1, 0, 0, 0, 0, time.UTC)
	for n := 0; (n < FeedMonths || len(page.Releases) == 0) && !month.After(until) && len(page.Releases) < limit; n++ {
		want := limit - len(page.Releases)
		if skip != "" {
			want++ // the position's own release comes first; it was served
		}
		to := deadlineKey(until) + "#~"
		if from > to {
			break
		}
		items, _, err := s.query(ctx, query{index: &GSI1, pk: feedPartition(month), skFrom: from, skTo: to, limit: want})
		if err != nil {
			return FeedPage{}, err
		}
		for _, m := range items {
			if skip != "" && attrString(m, GSI1.SK) == skip {
				continue
			}
			r, err := storedRelease(m)
			if err != nil {
				return FeedPage{}, err
			}
			page.Releases = append(page.Releases, r)
			page.After = r.Pos
			if len(page.Releases) == limit {
				break
			}
		}
		if len(page.Releases) == limit {
			page.Full = true
			break
		}
		skip = ""
		month = month.AddDate(0, 1, 0)
		from = deadlineKey(month)
		if page.After == "" {
			page.Since = month
		}
	}
	if page.After == "" && page.Since.After(until) {
		// Nothing up to the lag: the next page starts there, not later,
		// so that what is committed meanwhile in this month is not missed.
		page.Since = until.Truncate(time.Second)
		if page.Since.Before(since) {
			page.Since = since
		}
	}
	return page, nil
}

// changeTime is when a competition's public change happened: the time the
// domain recorded for it.
func changeTime(action string, c *procurement.Competition) time.Time {
	switch {
	case action == "competition.published" && c.PublishedAt != nil:
		return *c.PublishedAt
	case action == "competition.amended" && len(c.Amendments) > 0:
		return c.Amendments[len(c.Amendments)-1].At
	case action == "competition.opened" && c.Opening != nil:
		return c.Opening.At
	case action == "competition.awarded" && c.Decision != nil:
		return c.Decision.At
	case action == "competition.cancelled" && c.Cancellation != nil:
		return c.Cancellation.At
	}
	return c.UpdatedAt
}

// competitionRelease is the release of a competition's change, if the
// change is public (nil otherwise), as the competition stands after it.
// The bids are read only when they are public (after the opening) and not
// given; the process's releases only when the competition was amended
// (to link each amendment to its releases).
func (s *Store) competitionRelease(ctx context.Context, action string, c *procurement.Competition, d *procurement.DPS, bids []procurement.Bid) ([]write, error) {
	if ocds.CompetitionTags(action, c, 1) == nil {
		return nil, nil
	}
	if bids == nil && c.Opening != nil {
		var err error
		if bids, err = s.AllBids(ctx, c.ID); err != nil {
			return nil, err
		}
	}
	contracts := c.Contracts(bids, d.ServiceArea)
	tags := ocds.CompetitionTags(action, c, len(contracts))
	at := changeTime(action, c)
	r := ocds.CompetitionRelease(d, c, bids, contracts, tags, c.Version, at)
	if len(c.Amendments) > 0 {
		// Each amendment names the releases before and after it: those
		// published so far (one Query), and this one.
		rels, err := s.Releases(ctx, r.OCID)
		if err != nil {
			return nil, err
		}
		raws := make([]json.RawMessage, len(rels))
		for i, x := range rels {
			raws[i] = x.Raw
		}
		ocds.LinkAmendments(&r, raws)
	}
	return []write{s.ReleaseWrite(r, at)}, nil
}

// admissionRelease is the release of a change to a provider's standing in
// a category of the DPS.
func (s *Store) admissionRelease(d *procurement.DPS, ad *procurement.Admission) write {
	return s.ReleaseWrite(ocds.AdmissionAward(d, ad, s.NewID(), ad.UpdatedAt), ad.UpdatedAt)
}
