package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rengas/rengas/shared/outcomes"
	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/workdays"
)

// Pages of the outcome contracts after the award: the caller's contracts,
// one contract with its referrals, claims and ledger (each shown as far as
// the API lets the user see it, with the forms of the user's role), the
// officer's verification queue, and the statistics with charts.

func (h *Handler) contractRoutes() {
	withOrg := []procurement.Role{procurement.RoleOfficer, procurement.RoleProvider}
	h.handle("GET", "/contracts", (*req).contractList, withOrg...)
	h.handle("GET", "/contracts/{comp}/{prov}", (*req).contractPage, everyone...)
	h.handle("GET", "/contracts/{comp}/{prov}/statistics", (*req).contractStatistics, everyone...)
	h.handle("GET", "/verification", (*req).verificationQueue, officers...)
	h.handle("GET", "/contracts/{comp}/{prov}/claim/file", (*req).claimFile, providers...)
	h.handle("GET", "/contracts/{comp}/{prov}/claims/{claim}/evidence/{file}", (*req).claimEvidence, everyone...)
	h.handle("GET", "/dps/{dps}/outcome-statistics", (*req).dpsStatistics, everyone...)
	for _, a := range []string{"conclude", "accept", "cancel", "refer", "start", "end", "claim", "verify"} {
		roles := officers
		if a == "accept" || a == "start" || a == "end" || a == "claim" {
			roles = providers
		}
		h.handle("POST", "/contracts/{comp}/{prov}/"+a, (*req).contractAction, roles...)
	}
}

// contractView is the API's contract with its balance.
type contractView struct {
	outcomes.Contract
	Balance *outcomes.Balance `json:"balance"`
}

func (q *req) contractList() error {
	var l list[outcomes.Contract]
	if err := q.get("/contracts", url.Values{"limit": {"100"}}, &l); err != nil {
		return err
	}
	var dpss []string
	for _, k := range l.Items {
		if !slices.Contains(dpss, k.DPSID) {
			dpss = append(dpss, k.DPSID)
		}
	}
	return q.render(200, "contracts", "contracts.title", map[string]any{"Contracts": l.Items, "DPSs": dpss}, nil)
}

// contractData is what the contract page shows.
type contractData struct {
	K         contractView
	Referrals []outcomes.Referral
	Claims    []outcomes.Claim
	Ledger    []outcomes.Entry
	// Can* say which parts the user may read (the API answered).
	CanRefs, CanLedger bool
	Today              string
	Form               map[string]string
}

func (q *req) apiContract() string {
	return "/competitions/" + q.r.PathValue("comp") + "/contracts/" + q.r.PathValue("prov")
}

func (q *req) pageContract() string {
	return "/contracts/" + q.r.PathValue("comp") + "/" + q.r.PathValue("prov")
}

func (q *req) loadContract() (*contractData, error) {
	d := &contractData{Today: workdays.DateString(q.h.now()), Form: map[string]string{}}
	if err := q.get(q.apiContract(), nil, &d.K); err != nil {
		return nil, err
	}
	page := url.Values{"limit": {"100"}}
	var refs list[outcomes.Referral]
	if err := q.get(q.apiContract()+"/referrals", page, &refs); err == nil {
		d.Referrals, d.CanRefs = refs.Items, true
		var cl list[outcomes.Claim]
		if err := q.get(q.apiContract()+"/claims", page, &cl); err == nil {
			d.Claims = cl.Items
		}
	}
	var led list[outcomes.Entry]
	if err := q.get(q.apiContract()+"/ledger", page, &led); err == nil {
		d.Ledger, d.CanLedger = led.Items, true
	}
	return d, nil
}

func (q *req) contractPage() error {
	d, err := q.loadContract()
	if err != nil {
		return err
	}
	return q.render(200, "contract", "contract.title", d, nil)
}

// contractAction posts one of the contract page's forms to the API.
func (q *req) contractAction() error {
	d, err := q.loadContract()
	if err != nil {
		return err
	}
	action := q.r.URL.Path[strings.LastIndex(q.r.URL.Path, "/")+1:]
	f := func(name string) string { return strings.TrimSpace(q.r.PostFormValue(name)) }
	version, _ := strconv.Atoi(f("version"))
	base := q.apiContract()
	var path string
	var body map[string]any
	first := action
	ids := map[string]string{}
	switch action {
	case "conclude":
		path, body = base+"/conclusion", map[string]any{}
	case "accept":
		path, body = base+"/acceptance", map[string]any{"version": version}
	case "cancel":
		path, body, first = base+"/cancellation", map[string]any{"reason": f("cancelReason"), "version": version}, "cancelReason"
		ids["reason"] = "cancelReason"
	case "refer":
		path, body, first = base+"/referrals", map[string]any{"clientRef": f("clientRef"), "segment": f("segment"), "referredOn": f("referredOn")}, "clientRef"
		ids = map[string]string{"clientRef": "clientRef", "segment": "segment", "referredOn": "referredOn"}
	case "start":
		id := f("referral")
		path, body, first = base+"/referrals/"+id+"/start", map[string]any{"startedOn": f("startedOn-" + id), "version": version}, "startedOn-"+id
		ids["startedOn"] = first
	case "end":
		id := f("referral")
		path, body, first = base+"/referrals/"+id+"/end", map[string]any{"endedOn": f("endedOn-" + id), "reason": f("endReason-" + id), "version": version}, "endedOn-"+id
		ids["endedOn"], ids["reason"] = first, "endReason-"+id
	case "claim":
		// The upload page's way back: the claim form as it was.
		if s := q.r.PostFormValue("state"); s != "" && restoreClaim(d, s) {
			return q.render(200, "contract", "contract.title", d, nil)
		}
		if q.r.PostFormValue("upload") != "" {
			return q.uploadEvidence(d)
		}
		id := f("referral")
		first = "milestone-" + id
		ev := map[string]any{"name": f("evidenceName-" + id), "sha256": strings.ToLower(f("evidenceSha-" + id))}
		if file := f("evidenceFile-" + id); file != "" {
			ev["fileId"] = file
		}
		path, body = base+"/referrals/"+id+"/claims", map[string]any{"milestone": f("milestone-" + id), "achievedOn": f("achievedOn-" + id),
			"evidence": []map[string]any{ev}}
		ids = map[string]string{"milestone": first, "achievedOn": "achievedOn-" + id, "evidence[].name": "evidenceName-" + id, "evidence[].sha256": "evidenceSha-" + id,
			"evidence[].fileId": "evidenceUpload-" + id}
	case "verify":
		id := f("claim")
		first = "outcome-" + id
		path, body = base+"/claims/"+id+"/verification", map[string]any{"outcome": f("outcome-" + id), "method": f("method-" + id), "reason": f("verifyReason-" + id), "version": version}
		ids = map[string]string{"outcome": first, "method": "method-" + id, "reason": "verifyReason-" + id}
	}
	for k := range q.r.PostForm {
		d.Form[k] = q.r.PostFormValue(k)
	}
	err = q.send("POST", path, body, nil)
	if errs, ok := q.fieldErrors(err, first, ids); ok {
		return q.render(400, "contract", "contract.title", d, errs)
	} else if err != nil {
		return err
	}
	q.redirect(q.pageContract() + "?done=saved")
	return nil
}

func (q *req) verificationQueue() error {
	var l list[outcomes.Claim]
	if err := q.get("/verification-queue", url.Values{"limit": {"100"}}, &l); err != nil {
		return err
	}
	today := workdays.DateString(q.h.now())
	type row struct {
		outcomes.Claim
		Overdue bool
		Path    string
	}
	var rows []row
	for _, c := range l.Items {
		comp, prov, _ := strings.Cut(c.ContractID, ".")
		rows = append(rows, row{Claim: c, Overdue: c.DueOn < today, Path: "/contracts/" + comp + "/" + prov})
	}
	return q.render(200, "claimqueue", "claimQueue.title", map[string]any{"Claims": rows}, nil)
}

// statBar is one bar pair of the statistics chart: achieved and expected
// rates in percent.
type statBar struct {
	outcomes.Row
	Achieved, Expected string
}

func (q *req) contractStatistics() error {
	var k contractView
	if err := q.get(q.apiContract(), nil, &k); err != nil {
		return err
	}
	from, to := q.r.URL.Query().Get("from"), q.r.URL.Query().Get("to")
	if from == "" && k.Terms != nil {
		from, to = k.Terms.Start[:7], k.Terms.End[:7]
	}
	data := map[string]any{"Name": k.Title, "Action": q.pageContract() + "/statistics", "Back": q.pageContract(), "From": from, "To": to}
	var st outcomes.Statistics
	err := q.get(q.apiContract()+"/statistics", url.Values{"from": {from}, "to": {to}}, &st)
	if errs, ok := q.fieldErrors(err, "from", map[string]string{"from": "from", "to": "to"}); ok {
		return q.render(400, "outcomestats", "outcomeStats.title", data, errs)
	} else if err != nil {
		return err
	}
	var bars []statBar
	for _, r := range st.Rows {
		bars = append(bars, statBar{Row: r, Achieved: percent(r.AchievedRate), Expected: percent(r.ExpectedRate)})
	}
	data["Stats"], data["Bars"] = st, bars
	return q.render(200, "outcomestats", "outcomeStats.title", data, nil)
}

// dpsStatistics shows what works for whom across a DPS's outcome
// contracts: in full for the officers of the DPS's buyers and the
// auditors (the API's own route answers them), with every cell under five
// clients hidden for anyone else (the open-data route). The period
// defaults to the twelve months up to the current one.
func (q *req) dpsStatistics() error {
	id := q.r.PathValue("dps")
	var d procurement.DPS
	if err := q.get("/dps/"+id, nil, &d); err != nil {
		return err
	}
	from, to := q.r.URL.Query().Get("from"), q.r.URL.Query().Get("to")
	if from == "" && to == "" {
		now := q.h.now().In(workdays.Helsinki)
		to = now.Format("2006-01")
		from = time.Date(now.Year(), now.Month()-11, 1, 12, 0, 0, 0, workdays.Helsinki).Format("2006-01")
	}
	base := "/dps/" + id + "/outcome-statistics"
	data := map[string]any{"Name": d.Title, "Action": base, "Back": "/contracts", "DPS": true, "From": from, "To": to}
	period := url.Values{"from": {from}, "to": {to}}
	var st outcomes.Statistics
	err := q.get(base, period, &st)
	if ae, ok := errors.AsType[*apiError](err); ok && (ae.Status == http.StatusNotFound || ae.Status == http.StatusForbidden) {
		// Not one of the DPS's officers or an auditor: the open data.
		err = q.get("/open-data"+base, period, &st)
	}
	if errs, ok := q.fieldErrors(err, "from", map[string]string{"from": "from", "to": "to"}); ok {
		return q.render(400, "outcomestats", "dpsStats.title", data, errs)
	} else if err != nil {
		return err
	}
	var bars []statBar
	for _, r := range st.Rows {
		bars = append(bars, statBar{Row: r, Achieved: percent(r.AchievedRate), Expected: percent(r.ExpectedRate)})
	}
	data["Stats"], data["Bars"] = st, bars
	return q.render(200, "outcomestats", "dpsStats.title", data, nil)
}

// percent turns a rate such as "0.2500" into "25.00", or "" when absent.
func percent(r *string) string {
	if r == nil {
		return ""
	}
	f, err := strconv.ParseFloat(*r, 64)
	if err != nil {
		return ""
	}
	return strconv.FormatFloat(min(f, 1)*100, 'f', 2, 64)
}
