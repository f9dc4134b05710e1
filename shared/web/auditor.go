package web

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rengas/rengas/shared/audit"
	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/procurement"
)

func (h *Handler) auditorRoutes() {
	h.handle("GET", "/audit/awards", (*req).awards, offAudit...)
	h.handle("GET", "/audit/awards.csv", (*req).awardsCSV, offAudit...)
	h.handle("GET", "/audit/competitions/{id}", (*req).dossier, auditors...)
	h.handle("GET", "/audit/chains", (*req).chains, auditors...)
	h.handle("GET", "/audit/statistics", (*req).statistics, offAudit...)
	h.handle("GET", "/audit/open-data", (*req).openData, offAudit...)
	h.handle("GET", "/audit/open-data/competitions/{id}/ocds", (*req).ocdsCompetition, offAudit...)
	h.handle("GET", "/audit/open-data/quarters/{dps}/{quarter}/ocds", (*req).ocdsQuarter, offAudit...)
}

// awardFilters are the award history's filters, named as the API's query
// parameters; the money bounds are typed in euros.
var awardFilters = []string{"dpsId", "from", "to", "buyer", "category", "provider", "legalForm", "minValue", "maxValue", "order"}

// awardQuery turns the page's filters into the API's query.
func (q *req) awardQuery(ds []procurement.DPS) (url.Values, map[string]string, []fieldError) {
	form := map[string]string{}
	for _, k := range awardFilters {
		form[k] = strings.TrimSpace(q.r.URL.Query().Get(k))
	}
	if form["dpsId"] == "" && len(ds) > 0 {
		form["dpsId"] = ds[0].ID
	}
	v := url.Values{}
	var errs []fieldError
	for _, k := range []string{"dpsId", "from", "to", "buyer", "category", "provider", "legalForm", "order"} {
		if form[k] != "" {
			v.Set(k, form[k])
		}
	}
	for _, k := range []string{"minValue", "maxValue"} {
		if form[k] == "" {
			continue
		}
		c, ok := parseEuros(form[k])
		if !ok {
			errs = append(errs, fieldError{ID: k, Text: q.T("awards.valueInvalid")})
			continue
		}
		v.Set(k+"Cents", strconv.FormatInt(c, 10))
	}
	return v, form, errs
}

var awardIDs = map[string]string{"dpsId": "dpsId", "from": "from", "to": "to", "buyer": "buyer", "category": "category", "provider": "provider", "legalForm": "legalForm", "minValueCents": "minValue", "maxValueCents": "maxValue", "order": "order"}

func (q *req) awards() error {
	ds, err := q.dpss()
	if err != nil {
		return err
	}
	query, form, errs := q.awardQuery(ds)
	data := map[string]any{"DPS": ds, "Form": form, "Forms": procurement.LegalForms, "CSV": "/audit/awards.csv?" + q.r.URL.RawQuery}
	if errs != nil {
		return q.render(400, "awards", "awards.title", data, errs)
	}
	if c := q.r.URL.Query().Get("cursor"); c != "" {
		query.Set("cursor", c)
	}
	query.Set("limit", "50")
	var l list[procurement.Contract]
	err = q.get("/audit/awards", query, &l)
	if errs, ok := q.fieldErrors(err, "dpsId", awardIDs); ok {
		return q.render(400, "awards", "awards.title", data, errs)
	} else if err != nil {
		return err
	}
	data["Awards"] = l
	if l.Cursor != "" {
		next := q.r.URL.Query()
		next.Set("cursor", l.Cursor)
		data["Next"] = "/audit/awards?" + next.Encode()
	}
	return q.render(200, "awards", "awards.title", data, nil)
}

func (q *req) awardsCSV() error {
	ds, err := q.dpss()
	if err != nil {
		return err
	}
	query, _, errs := q.awardQuery(ds)
	if errs != nil {
		q.redirect("/audit/awards?" + q.r.URL.RawQuery)
		return nil
	}
	raw, _, err := q.h.api.call(q.r.Context(), q.claims, "GET", "/audit/awards.csv", query, nil, nil)
	if err != nil {
		if _, ok := q.fieldErrors(err, "dpsId", awardIDs); ok {
			q.redirect("/audit/awards?" + q.r.URL.RawQuery)
			return nil
		}
		return err
	}
	q.download("text/csv; charset=utf-8", "awards-"+query.Get("dpsId")+".csv", raw)
	return nil
}

// download answers a file the browser saves.
func (q *req) download(contentType, name string, body []byte) {
	q.w.Header().Set("Content-Type", contentType)
	q.w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	q.w.WriteHeader(http.StatusOK)
	_, _ = q.w.Write(body)
}

// dossierPage is a procedure's whole record, as the API's dossier gives it.
type dossierPage struct {
	Competition procurement.Competition `json:"competition"`
	Trail       []audit.Event           `json:"trail"`
	Questions   []procurement.Question  `json:"questions"`
	Bids        []procurement.Bid       `json:"bids"`
	Contracts   []procurement.Contract  `json:"contracts"`
	Notices     []struct {
		To   string `json:"to"`
		Kind string `json:"kind"`
		At   string `json:"at"`
	} `json:"notifications"`
}

func (q *req) dossier() error {
	var d dossierPage
	if err := q.get("/audit/competitions/"+q.r.PathValue("id")+"/dossier", nil, &d); err != nil {
		return err
	}
	return q.render(200, "dossier", "dossier.title", d, nil)
}

var chainRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,200}$`)

// chains verifies a chain and explains the result.
func (q *req) chains() error {
	ds, err := q.dpss()
	if err != nil {
		return err
	}
	// Every entity has a chain of its own (app.<id>, comp.<id>, bid.<comp>.<provider>, ...);
	// the DPS chains are offered as a start, the dossiers name the others.
	var known []string
	for _, d := range ds {
		known = append(known, "dps."+d.ID)
	}
	chain := strings.TrimSpace(q.r.URL.Query().Get("chain"))
	data := map[string]any{"Known": known, "Chain": chain}
	if chain == "" {
		return q.render(200, "chains", "chains.title", data, nil)
	}
	if !chainRe.MatchString(chain) {
		return q.render(400, "chains", "chains.title", data, []fieldError{{ID: "chain", Text: q.T("chains.invalid")}})
	}
	var res audit.Result
	if err := q.get("/audit/chains/"+chain+"/verification", nil, &res); err != nil {
		if isNotFound(err) {
			return q.render(404, "chains", "chains.title", data, []fieldError{{ID: "chain", Text: q.T("chains.notFound")}})
		}
		return err
	}
	data["Result"] = res
	var ev list[audit.Event]
	if err := q.get("/audit/chains/"+chain+"/events", url.Values{"limit": {"20"}}, &ev); err != nil {
		return err
	}
	data["Events"] = ev.Items
	return q.render(200, "chains", "chains.title", data, nil)
}

// statRow is one bar of a chart with its numbers.
type statRow struct {
	Label string
	dynamo.Slice
}

func (q *req) statistics() error {
	ds, err := q.dpss()
	if err != nil {
		return err
	}
	form := map[string]string{"dpsId": q.r.URL.Query().Get("dpsId"), "from": q.r.URL.Query().Get("from"), "to": q.r.URL.Query().Get("to")}
	if form["dpsId"] == "" && len(ds) > 0 {
		form["dpsId"] = ds[0].ID
	}
	query := url.Values{}
	for k, v := range form {
		if v != "" {
			query.Set(k, v)
		}
	}
	data := map[string]any{"DPS": ds, "Form": form}
	var st dynamo.Statistics
	err = q.get("/audit/statistics", query, &st)
	if errs, ok := q.fieldErrors(err, "dpsId", map[string]string{"dpsId": "dpsId", "from": "from", "to": "to"}); ok {
		return q.render(400, "statistics", "statistics.title", data, errs)
	} else if err != nil {
		return err
	}
	var rows []statRow
	for _, f := range procurement.LegalForms {
		rows = append(rows, statRow{Label: q.h.cat.T(q.lang, codeKey("legalForm", string(f)), nil), Slice: st.ByLegalForm[string(f)]})
	}
	data["Stats"], data["Rows"] = st, rows
	data["Groups"] = []statRow{{Label: q.T("statistics.thirdSector"), Slice: st.ThirdSector}, {Label: q.T("statistics.local"), Slice: st.LocalProviders}, {Label: q.T("statistics.nonLocal"), Slice: st.NonLocalProviders}}
	return q.render(200, "statistics", "statistics.title", data, nil)
}

// quarters are the last four quarters up to the current one.
func quarters(now time.Time) []string {
	var out []string
	y, qn := now.Year(), (int(now.Month())-1)/3+1
	for range 4 {
		out = append(out, fmt.Sprintf("%d-Q%d", y, qn))
		if qn--; qn == 0 {
			y, qn = y-1, 4
		}
	}
	return out
}

func (q *req) openData() error {
	ds, err := q.dpss()
	if err != nil {
		return err
	}
	cs, err := q.competitions(ds)
	if err != nil {
		return err
	}
	// Only quarters with awards have a grouped notice (the API answers 404
	// for the others).
	type dpsQuarters struct {
		D        procurement.DPS
		Quarters []string
	}
	var dq []dpsQuarters
	for _, d := range ds {
		x := dpsQuarters{D: d}
		for _, qu := range quarters(q.h.now().In(helsinki)) {
			var n struct {
				Awards int `json:"awards"`
			}
			if err := q.get("/audit/dps/"+d.ID+"/quarters/"+qu, nil, &n); err != nil {
				return err
			}
			if n.Awards > 0 {
				x.Quarters = append(x.Quarters, qu)
			}
		}
		dq = append(dq, x)
	}
	return q.render(200, "opendata", "opendata.title", map[string]any{"DPS": dq, "Competitions": cs}, nil)
}

// The open-data exports are public in the API; the pages offer them as
// downloads.
func (q *req) ocdsCompetition() error {
	raw, _, err := q.h.api.call(q.r.Context(), nil, "GET", "/open-data/competitions/"+q.r.PathValue("id")+"/ocds", nil, nil, nil)
	if err != nil {
		return err
	}
	q.download("application/json", "ocds-"+q.r.PathValue("id")+".json", raw)
	return nil
}

var quarterRe = regexp.MustCompile(`^[0-9]{4}-Q[1-4]$`)

func (q *req) ocdsQuarter() error {
	dps, qu := q.r.PathValue("dps"), q.r.PathValue("quarter")
	if !quarterRe.MatchString(qu) {
		return &apiError{Status: 404}
	}
	raw, _, err := q.h.api.call(q.r.Context(), nil, "GET", "/open-data/dps/"+dps+"/quarters/"+qu+"/ocds", nil, nil, nil)
	if err != nil {
		return err
	}
	q.download("application/json", "ocds-"+dps+"-"+qu+".json", raw)
	return nil
}
