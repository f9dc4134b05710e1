package web

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/seed"
)

// codeFamilies are the domain codes the pages translate, with every code
// each family may show.
func codeFamilies() map[string][]string {
	str := func(vs ...any) []string {
		out := []string{}
		for _, v := range vs {
			out = append(out, toString(v))
		}
		return out
	}
	d := seed.DemoDPS(seed.DemoDefinition(helsinkiNow()).QuestionDeadline)
	var cats []string
	for _, c := range d.Categories {
		cats = append(cats, c.ID)
	}
	f := map[string][]string{
		"compStatus":     str(procurement.CompDraft, procurement.CompPublished, procurement.CompClosed, procurement.CompEvaluation, procurement.CompAwarded, procurement.CompCancelled),
		"appStatus":      str(procurement.StatusReceived, procurement.StatusInfoRequested, procurement.StatusDecided),
		"admission":      str(procurement.AdmissionAdmitted, procurement.AdmissionSuspended, procurement.AdmissionExcluded),
		"bidStatus":      str(procurement.BidSubmitted, procurement.BidWithdrawn),
		"outcome":        str(procurement.OutcomePending, procurement.OutcomeAdmitted, procurement.OutcomeRejected),
		"pricing":        {"tariff", "offered"},
		"role":           {"officer", "provider", "auditor", "system"},
		"category":       cats,
		"criterion":      d.QualityCriteria,
		"milestone":      {procurement.MilestoneEmployed, procurement.MilestoneVocational},
		"contractStatus": {"awarded", "concluded", "active", "lapsed", "cancelled"},
		"referralStatus": {"referred", "started", "ended"},
		"claimStatus":    {"pending", "more-information", "verified", "rejected", "clawed-back"},
		"entryKind":      {"fixed-fee", "outcome-fee", "adjustment", "clawback"},
		"notice": {"competition.invited", "competition.amended", "competition.cancelled", "competition.awarded", "question.asked", "question.answered",
			"application.decided", "application.overdue", "admission.admitted", "admission.suspended", "admission.excluded", "declaration.requested"},
		"action": {"dps.created", "provider.registered", "application.received", "application.admitted", "application.rejected", "application.extended",
			"application.information_requested", "application.information_given", "application.overdue", "application.decided", "admission.admitted", "admission.suspended",
			"admission.excluded", "declaration.requested", "declaration.answered", "competition.drafted", "competition.edited", "competition.published",
			"competition.amended", "competition.cancelled", "competition.opened", "competition.conflict_declared", "competition.awarded", "question.asked",
			"question.answered", "bid.submitted", "bid.replaced", "bid.withdrawn", "bid.scored", "bid.rejected"},
	}
	for _, l := range procurement.LegalForms {
		f["legalForm"] = append(f["legalForm"], string(l))
	}
	return f
}

func catalogs(t *testing.T) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, l := range Langs {
		b, err := os.ReadFile("messages/" + l + ".json")
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		out[l] = m
	}
	return out
}

// TestCatalogsAreCompleteAndUsed fails on a message missing in one
// language, on a message no page or code uses, and on a domain code
// without a message.
func TestCatalogsAreCompleteAndUsed(t *testing.T) {
	cats := catalogs(t)
	for _, l := range Langs[1:] {
		for k := range cats["fi"] {
			if _, ok := cats[l][k]; !ok {
				t.Errorf("%s lacks %q", l, k)
			}
		}
		for k := range cats[l] {
			if _, ok := cats["fi"][k]; !ok {
				t.Errorf("fi lacks %q (defined in %s)", k, l)
			}
		}
	}
	// Every code of every family has a message in every language.
	used := map[string]bool{}
	for fam, codes := range codeFamilies() {
		for _, c := range codes {
			k := codeKey(fam, c)
			used[k] = true
			for _, l := range Langs {
				if _, ok := cats[l][k]; !ok {
					t.Errorf("%s: no message for the code %s %q", l, fam, c)
				}
			}
		}
	}
	// Message ids named in the templates and the Go code.
	var src strings.Builder
	files, _ := filepath.Glob("templates/*.html")
	gofiles, _ := filepath.Glob("*.go")
	for _, f := range append(files, gofiles...) {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, _ := os.ReadFile(f)
		src.Write(b)
	}
	quoted := regexp.MustCompile(`"([a-zA-Z0-9]+(?:\.[a-zA-Z0-9_]+)+)"`)
	for _, m := range quoted.FindAllStringSubmatch(src.String(), -1) {
		if !strings.HasSuffix(m[1], ".html") && !strings.HasSuffix(m[1], ".css") && !strings.HasSuffix(m[1], ".js") && !strings.HasSuffix(m[1], ".json") {
			used[m[1]] = true
		}
	}
	// Ids built from a prefix: flash.<done>, error.<x>.text, draft.title.<step>, field.<api field>.
	for _, f := range flashes {
		used["flash."+f] = true
	}
	for k := range cats["fi"] {
		if strings.HasSuffix(k, ".text") && used[strings.TrimSuffix(k, ".text")] {
			used[k] = true
		}
	}
	for _, s := range slices.Clone(draftSteps) {
		used["draft.title."+s] = true
	}
	for _, s := range append(slices.Clone(applyTasks), "tasks", "check") {
		used["apply.title."+s] = true
	}
	for _, f := range apiFields {
		used["field."+f] = true
	}
	var unused []string
	for k := range cats["fi"] {
		if !used[k] {
			unused = append(unused, k)
		}
	}
	sort.Strings(unused)
	if len(unused) > 0 {
		t.Errorf("messages no page uses: %v", unused)
	}
	codes := map[string]bool{}
	for _, vs := range codeFamilies() {
		for _, v := range vs {
			codes[v] = true // domain codes such as application.decided are not message ids
		}
	}
	for k := range used {
		if _, ok := cats["fi"][k]; !ok && !codes[k] && strings.Count(k, ".") >= 1 && looksLikeKey(k, cats["fi"]) {
			t.Errorf("the code names %q, which no catalog defines", k)
		}
	}
}

// looksLikeKey reports whether an id belongs to a section the catalogs
// use (so that other dotted strings, such as file names, are not taken
// for message ids).
func looksLikeKey(k string, cat map[string]string) bool {
	sec := strings.SplitN(k, ".", 2)[0]
	for have := range cat {
		if strings.HasPrefix(have, sec+".") {
			return true
		}
	}
	return false
}
