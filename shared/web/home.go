package web

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rengas/rengas/shared/procurement"
)

// list is one page of an API list.
type list[T any] struct {
	Items  []T    `json:"items"`
	Cursor string `json:"cursor,omitempty"`
}

// appView is an application as the API shows it, with its decision clock.
type appView struct {
	procurement.Application
	WorkdaysLeft int  `json:"workdaysLeft"`
	Overdue      bool `json:"overdue"`
	DueSoon      bool `json:"dueSoon"`
}

// notification is an entry of an organisation's outbox.
type notification struct {
	ID, To, Kind, Ref, Message, At string
}

// Link is the page a notification is about, if the pages have one.
func (n notification) Link() string {
	switch {
	case strings.HasPrefix(n.Kind, "competition.") || strings.HasPrefix(n.Kind, "question."):
		return "/competitions/" + n.Ref
	case n.Kind == "declaration.requested":
		return "/declarations/" + n.Ref
	case n.Kind == "application.decided" || strings.HasPrefix(n.Kind, "admission."):
		return "/applications"
	case n.Kind == "application.overdue":
		return "/queue"
	}
	return ""
}

func (n notification) Time() time.Time {
	t, _ := time.Parse(time.RFC3339Nano, n.At)
	return t
}

// dpss lists the DPSs the user may see (the first page: a ring runs few).
func (q *req) dpss() ([]procurement.DPS, error) {
	var l list[procurement.DPS]
	err := q.get("/dps", url.Values{"limit": {"20"}}, &l)
	return l.Items, err
}

// competitionRow is a mini-competition on a list, with its DPS.
type competitionRow struct {
	procurement.Competition
	DPSTitle string
}

// competitions lists the mini-competitions of every DPS the user may see.
func (q *req) competitions(ds []procurement.DPS) ([]competitionRow, error) {
	var out []competitionRow
	for _, d := range ds {
		var l list[procurement.Competition]
		if err := q.get("/dps/"+d.ID+"/competitions", url.Values{"limit": {"100"}}, &l); err != nil {
			return nil, err
		}
		for _, c := range l.Items {
			out = append(out, competitionRow{Competition: c, DPSTitle: d.Title})
		}
	}
	slices.SortFunc(out, func(a, b competitionRow) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}

func (q *req) home() error {
	if q.user == nil {
		return q.render(200, "landing", "landing.title", nil, nil)
	}
	ds, err := q.dpss()
	if err != nil {
		return err
	}
	data := map[string]any{"DPS": ds, "Now": q.h.now()}
	switch q.user.Role {
	case procurement.RoleOfficer:
		var queue []appView
		for _, d := range ds {
			var l list[appView]
			if err := q.get("/dps/"+d.ID+"/applications", url.Values{"limit": {"10"}}, &l); err != nil {
				return err
			}
			queue = append(queue, l.Items...)
		}
		comps, err := q.competitions(ds)
		if err != nil {
			return err
		}
		var todo []competitionRow
		for _, c := range comps {
			if c.Status == procurement.CompDraft || c.Status == procurement.CompEvaluation || c.Status == procurement.CompPublished || c.Status == procurement.CompClosed {
				todo = append(todo, c)
			}
		}
		data["Queue"], data["Competitions"] = queue, todo
	case procurement.RoleProvider:
		var p procurement.Provider
		if err := q.get("/providers/"+q.user.Org, nil, &p); err != nil {
			if !isNotFound(err) {
				return err
			}
			data["Unregistered"] = true
			return q.render(200, "home", "home.title", data, nil)
		}
		data["Provider"] = p
		var apps list[appView]
		if err := q.get("/providers/"+q.user.Org+"/applications", url.Values{"limit": {"10"}}, &apps); err != nil {
			return err
		}
		data["Applications"] = apps.Items
		var decl list[procurement.DeclarationRequest]
		if err := q.get("/providers/"+q.user.Org+"/declaration-requests", url.Values{"limit": {"20"}}, &decl); err != nil {
			return err
		}
		var pending []procurement.DeclarationRequest
		for _, r := range decl.Items {
			if r.Answer == nil {
				pending = append(pending, r)
			}
		}
		data["Declarations"] = pending
		comps, err := q.competitions(ds)
		if err != nil {
			return err
		}
		var open []competitionRow
		for _, c := range comps {
			if c.Status == procurement.CompPublished || c.Status == procurement.CompAwarded {
				open = append(open, c)
			}
		}
		data["Competitions"] = open
		var n list[notification]
		if err := q.get("/notifications", url.Values{"limit": {"5"}}, &n); err != nil {
			return err
		}
		data["Notifications"] = n.Items
	}
	return q.render(200, "home", "home.title", data, nil)
}

func (q *req) accessibility() error {
	return q.render(200, "accessibility", "a11y.title", map[string]string{"Email": q.h.feedback}, nil)
}
