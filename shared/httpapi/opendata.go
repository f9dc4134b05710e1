package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/rengas/rengas/shared/access"
	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/ocds"
	"github.com/rengas/rengas/shared/procurement"
)

// OCDS open data: each contracting process's releases as stored (a
// release package) and its record (compiled and versioned releases), the
// DPS's as well as each mini-competition's, and a feed of every release
// in time order. Every answer is cacheable: it changes only when a new
// release is stored.

func init() {
	for name, v := range map[string]*string{"OCDS_PUBLISHER_NAME": &ocds.PublisherName, "OCDS_PUBLISHER_SCHEME": &ocds.PublisherScheme, "OCDS_PUBLISHER_UID": &ocds.PublisherUID} {
		if e := os.Getenv(name); e != "" {
			*v = e
		}
	}
}

// OpenDataMaxAge is how long a cache may keep an open-data answer.
const OpenDataMaxAge = 60 * time.Second

// PolicyPath is the page of the publication policy (served by the web).
const PolicyPath = "/en/open-data/policy"

// publicBase is the deployment's public base URL: PUBLIC_BASE_URL, or
// else the host the request came to.
func (c *call) publicBase() string {
	if b := strings.TrimRight(os.Getenv("PUBLIC_BASE_URL"), "/"); b != "" {
		return b
	}
	scheme := "https"
	if h := c.r.Host; c.r.TLS == nil && (strings.HasPrefix(h, "localhost") || strings.HasPrefix(h, "127.0.0.1")) {
		scheme = "http" // the local server
	}
	return scheme + "://" + c.r.Host
}

func (c *call) packageURI() string { return c.publicBase() + c.r.URL.Path }

func (c *call) meta(uri string, last time.Time) ocds.Meta {
	return ocds.Meta{URI: uri, PublishedDate: ocds.Stamp(last), Policy: c.publicBase() + PolicyPath, Base: c.publicBase() + "/"}
}

// cached answers an open-data document with the headers a CDN needs, or
// 304 Not Modified without a body when the request's If-None-Match names
// its ETag (the document is built first: the ETag is its digest).
func (c *call) cached(body []byte, maxAge time.Duration) any {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	h := c.w.Header()
	h.Set("Cache-Control", "public, max-age="+itoa(int(maxAge/time.Second)))
	h.Set("ETag", etag)
	if etagMatches(c.r.Header.Values("If-None-Match"), etag) {
		return notModified{}
	}
	return rawJSON(body)
}

// notModified is the answer 304 Not Modified: no body.
type notModified struct{}

// etagMatches reports whether If-None-Match values name the ETag: "*", or
// one of a comma-separated list, compared weakly (W/ ignored) as RFC 9110
// asks for If-None-Match.
func etagMatches(values []string, etag string) bool {
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
			if t == "*" || t == etag {
				return true
			}
		}
	}
	return false
}

// releasesOf reads a process's releases: in one Query up to 100, all of
// them for a record (up to dynamo.MaxRecordReleases), or a package's page
// of dynamo.ReleasesPerPackage after the position asked for. A process
// without releases has never been public: not found, exactly as one that
// does not exist.
func (c *call) releasesOf(ocid string, record bool) (raws []json.RawMessage, last time.Time, next string, err error) {
	if err := access.Ask(c.who(), access.Release, access.Published, access.Scope{}).Require(access.See, access.NotFound(access.Release, ocid)); err != nil {
		return nil, time.Time{}, "", err
	}
	var rels []dynamo.StoredRelease
	more := false
	if record {
		rels, err = c.s.Store.Releases(c.r.Context(), ocid)
	} else {
		rels, more, err = c.s.Store.ReleasesAfter(c.r.Context(), ocid, c.r.URL.Query().Get("after"), dynamo.ReleasesPerPackage)
	}
	if err != nil {
		return nil, time.Time{}, "", err
	}
	if len(rels) == 0 {
		return nil, time.Time{}, "", access.NotFound(access.Release, ocid)
	}
	raws = make([]json.RawMessage, len(rels))
	last = rels[0].At
	for i, r := range rels {
		raws[i] = r.Raw
		if r.At.After(last) {
			last = r.At
		}
	}
	if more {
		next = c.packageURI() + "?" + url.Values{"after": {rels[len(rels)-1].Pos}}.Encode()
	}
	return raws, last, next, nil
}

func (c *call) releasePackage(ocid string) (any, error) {
	raws, last, next, err := c.releasesOf(ocid, false)
	if err != nil {
		return nil, err
	}
	uri := c.packageURI()
	if after := c.r.URL.Query().Get("after"); after != "" {
		uri += "?" + url.Values{"after": {after}}.Encode()
	}
	m := c.meta(uri, last)
	m.Next = next
	body, err := ocds.Assemble(m, raws)
	if err != nil {
		return nil, procurement.Internal(err)
	}
	return c.cached(body, OpenDataMaxAge), nil
}

func (c *call) recordPackage(ocid string) (any, error) {
	raws, last, _, err := c.releasesOf(ocid, true)
	if err != nil {
		return nil, err
	}
	uri := c.packageURI()
	body, err := ocds.AssembleRecord(c.meta(uri, last), ocid, strings.TrimSuffix(uri, "/record"), raws)
	if err != nil {
		return nil, procurement.Internal(err)
	}
	return c.cached(body, OpenDataMaxAge), nil
}

// feedSince reads the feed's since parameter: a date (the start of that
// day in UTC) or a date-time.
func (c *call) feedSince() (time.Time, error) {
	v := c.r.URL.Query().Get("since")
	if v == "" {
		return ocds.FeedStart, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, procurement.Invalid("since", "must be a date (2026-01-31) or a date-time (2026-01-31T12:00:00Z)")
}

func (c *call) feed() (any, error) {
	since, err := c.feedSince()
	if err != nil {
		return nil, err
	}
	limit, err := c.queryInt("limit", 100, 1, 100)
	if err != nil {
		return nil, err
	}
	page, err := c.s.Store.ReleaseFeed(c.r.Context(), since, c.r.URL.Query().Get("after"), limit)
	if err != nil {
		return nil, err
	}
	next := url.Values{"limit": {itoa(limit)}}
	if page.After != "" {
		next.Set("after", page.After)
	} else {
		next.Set("since", page.Since.UTC().Format(time.RFC3339))
	}
	nextURL := c.publicBase() + c.r.URL.Path + "?" + next.Encode()
	if len(page.Releases) == 0 {
		// A package holds at least one release: nothing new yet. The same
		// link answers once there is.
		return nil, procurement.Errorf(procurement.ENOTFOUND, "no release since %s yet; ask again later", since.Format(time.RFC3339))
	}
	raws := make([]json.RawMessage, len(page.Releases))
	last := page.Releases[0].At
	for i, r := range page.Releases {
		raws[i] = r.Raw
		if r.At.After(last) {
			last = r.At
		}
	}
	self := c.publicBase() + c.r.URL.RequestURI()
	m := c.meta(self, last)
	m.Next = nextURL
	body, err := ocds.Assemble(m, raws)
	if err != nil {
		return nil, procurement.Internal(err)
	}
	return c.cached(body, OpenDataMaxAge), nil
}

// quarterPackage is the grouped award notice of a quarter: the latest
// award release of each call-off awarded in it, as stored.
func (c *call) quarterPackage() (any, error) {
	n, err := c.quarterAwards(access.OpenData)
	if err != nil {
		return nil, err
	}
	var raws []json.RawMessage
	var last time.Time
	done := map[string]bool{}
	for _, k := range n.Contracts {
		if done[k.CompetitionID] {
			continue
		}
		done[k.CompetitionID] = true
		rels, err := c.s.Store.Releases(c.r.Context(), ocds.OCID(k.CompetitionID))
		if err != nil {
			return nil, err
		}
		for i := len(rels) - 1; i >= 0; i-- {
			var head struct {
				Tag []string `json:"tag"`
			}
			if json.Unmarshal(rels[i].Raw, &head) == nil && slices.Contains(head.Tag, ocds.TagAward) {
				raws = append(raws, rels[i].Raw)
				if rels[i].At.After(last) {
					last = rels[i].At
				}
				break
			}
		}
	}
	body, err := ocds.Assemble(c.meta(c.packageURI(), last), raws)
	if errors.Is(err, ocds.ErrNoReleases) {
		// OCDS packages hold at least one release: a quarter without
		// awards has no package to publish.
		return nil, procurement.Errorf(procurement.ENOTFOUND, "no call-off was awarded in %s of DPS %s", c.path("quarter"), c.path("dpsId"))
	}
	if err != nil {
		return nil, err
	}
	return c.cached(body, OpenDataMaxAge), nil
}

// packageParams page a process's release package.
var packageParams = []Param{{Name: "after", Description: "a position from links.next: the releases after it (a process publishes at most 1,000 releases a package)", Pattern: `^[A-Za-z0-9_-]+$`}}

var feedParams = []Param{
	{Name: "since", Description: "the first moment to include: a date (UTC midnight) or an RFC 3339 date-time; default " + ocds.FeedStart.Format(time.DateOnly), Pattern: `^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2}))?$`},
	{Name: "after", Description: "a position from links.next: the releases after it (takes the place of since)", Pattern: `^[A-Za-z0-9_-]+$`},
	intParam("limit", "releases per page, 1-100 (default 100)", 1, 100, 100),
}

func openDataRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/open-data/competitions/{competitionId}/ocds", Function: FnAudit, Query: packageParams, Statuses: []int{http.StatusNotModified},
			Summary:  "Open data: the OCDS 1.1 release package of a mini-competition: every release since its publication, each as first published (bidders only after the deadline)",
			Response: ocds.Package{}, handle: func(c *call) (any, error) { return c.releasePackage(ocds.OCID(c.path("competitionId"))) }},
		{Method: "GET", Path: "/open-data/competitions/{competitionId}/ocds/record", Function: FnAudit, Statuses: []int{http.StatusNotModified, http.StatusConflict},
			Summary:  "Open data: the OCDS 1.1 record package of a mini-competition: its releases, the compiled release and the versioned release",
			Response: ocds.RecordPackage{}, handle: func(c *call) (any, error) { return c.recordPackage(ocds.OCID(c.path("competitionId"))) }},
		{Method: "GET", Path: "/open-data/dps/{dpsId}/ocds", Function: FnAudit, Query: packageParams, Statuses: []int{http.StatusNotModified},
			Summary:  "Open data: the OCDS 1.1 release package of a DPS as a contracting process: its call for participation (tender, categories as lots) and each admission, suspension and exclusion (awards)",
			Response: ocds.Package{}, handle: func(c *call) (any, error) { return c.releasePackage(ocds.DPSOCID(c.path("dpsId"))) }},
		{Method: "GET", Path: "/open-data/dps/{dpsId}/ocds/record", Function: FnAudit, Statuses: []int{http.StatusNotModified, http.StatusConflict},
			Summary:  "Open data: the OCDS 1.1 record package of a DPS: its releases, the compiled release (the providers on the DPS per category) and the versioned release",
			Response: ocds.RecordPackage{}, handle: func(c *call) (any, error) { return c.recordPackage(ocds.DPSOCID(c.path("dpsId"))) }},
		{Method: "GET", Path: "/open-data/releases", Function: FnAudit, Query: feedParams, Statuses: []int{http.StatusNotModified, http.StatusNotFound},
			Summary:  "Open data: every OCDS release of the ring in time order, oldest first, as release packages of up to 100; follow links.next (answers 404 while nothing newer is published)",
			Response: ocds.Package{}, handle: (*call).feed},
		{Method: "GET", Path: "/open-data/dps/{dpsId}/quarters/{quarter}/ocds", Function: FnAudit, Statuses: []int{http.StatusNotModified},
			Summary:  "Open data: OCDS 1.1 release package of the call-offs awarded in a quarter of a DPS (the grouped award notice): each call-off's award release",
			Response: ocds.Package{}, handle: (*call).quarterPackage},
	}
}
