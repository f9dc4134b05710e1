package web_test

import (
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/rengas/rengas/shared/seed"
	"github.com/rengas/rengas/shared/web"
)

// TestDraftRowsInEveryLanguage walks the states of the milestone and
// segment question pages that only a form reaches (the crawl follows
// links): a milestone and segments added, a row removed, a row with errors
// and the check-answers page listing them, in every language, each page
// checked like the crawl's.
func TestDraftRowsInEveryLanguage(t *testing.T) {
	e := newEnv(t)
	checked := 0
	for _, lang := range web.Langs {
		officer := e.browser("officer-lahti")
		path := "/" + lang + "/dps/" + seed.DPSID + "/competitions/new"
		start := officer.get(path)
		checkPage(t, path, start, lang)
		state := inputValue(start.doc, "state")
		post := func(want int, step string, f url.Values) page {
			t.Helper()
			f.Set("state", state)
			f.Set("step", step)
			p := officer.post(path, f)
			if p.status != want {
				t.Fatalf("%s %s %v: %d, want %d: %s", lang, step, f, p.status, want, text(p.doc))
			}
			checkPage(t, path, p, lang)
			checked++
			state = inputValue(p.doc, "state")
			return p
		}
		has := func(p page, id string) bool {
			return len(find(p.doc, func(n *html.Node) bool { return attr(n, "id") == id })) == 1
		}
		post(200, "basics", url.Values{"category": {"job-coaching"}, "title": {"T"}, "description": {"D"}, "targetGroup": {"G"},
			"serviceArea": {"Lahti"}, "places": {"10"}, "contractStart": {"2027-02-01"}, "contractEnd": {"2027-12-31"}})
		ms := url.Values{"m-employed-name": {"E"}, "m-employed-pricing": {"offered"}, "m-employed-rate": {"25"},
			"m-vocational-education-name": {"V"}, "m-vocational-education-pricing": {"tariff"}, "m-vocational-education-tariff": {"800"}, "m-vocational-education-rate": {"15"}}
		with := func(v url.Values, kv ...string) url.Values {
			f := url.Values{}
			for k, x := range v {
				f[k] = x
			}
			for i := 0; i+1 < len(kv); i += 2 {
				f.Set(kv[i], kv[i+1])
			}
			return f
		}
		p := post(200, "milestones", with(ms, "add", "milestone"))
		p = post(200, "milestones", with(ms, "add", "milestone"))
		if !has(p, "m-outcome-2-name") || !has(p, "remove-outcome-1") || has(p, "remove-employed") {
			t.Fatalf("%s: two milestones added, only they removable: %s", lang, text(p.doc))
		}
		// Enter in a field submits the form's first button: it must be a
		// plain Continue, not Remove or Add.
		for _, f := range find(p.doc, element("form")) {
			if attr(f, "action") != path {
				continue
			}
			if bs := find(f, element("button")); len(bs) == 0 || attr(bs[0], "name") != "" {
				t.Errorf("%s: the milestone form's first button is %q=%q, want Continue", lang, attr(bs[0], "name"), attr(bs[0], "value"))
			}
		}
		p = post(200, "milestones", with(ms, "remove", "m-outcome-1"))
		if has(p, "m-outcome-1-name") || !has(p, "m-outcome-2-name") {
			t.Fatalf("%s: outcome-1 not removed", lang)
		}
		// The mandatory milestones cannot be removed.
		if p = post(200, "milestones", with(ms, "remove", "m-employed")); !has(p, "m-employed-name") {
			t.Fatalf("%s: the employment milestone was removed", lang)
		}
		errs := post(400, "milestones", with(ms, "m-outcome-2-pricing", "tariff"))
		for _, id := range []string{"m-outcome-2-name", "m-outcome-2-tariff"} {
			if len(find(errs.doc, func(n *html.Node) bool { return n.Data == "a" && attr(n, "href") == "#"+id })) != 1 {
				t.Errorf("%s: the error summary does not link to %s", lang, id)
			}
		}
		post(200, "milestones", with(ms, "m-outcome-2-name", "O", "m-outcome-2-pricing", "tariff", "m-outcome-2-tariff", "300", "m-outcome-2-rate", "5"))
		post(200, "segments", url.Values{"add": {"segment"}})
		p = post(200, "segments", url.Values{"add": {"segment"}})
		if !has(p, "s-segment-2-tariff-outcome-2") || has(p, "s-segment-2-tariff-employed") || !has(p, "remove-segment-1") {
			t.Fatalf("%s: two segments: %s", lang, text(p.doc))
		}
		post(400, "segments", url.Values{"s-segment-1-name": {"S1"}, "s-segment-1-share": {"0"}, "s-segment-2-share": {"10"}})
		check := func() page {
			post(200, "segments", url.Values{"s-segment-1-name": {"S1"}, "s-segment-1-share": {"20"}, "s-segment-1-tariff-outcome-2": {"450"},
				"s-segment-2-name": {"S2"}, "s-segment-2-share": {"10"}, "s-segment-2-rate-employed": {"12"}})
			post(200, "weights", url.Values{"ceiling": {"50000"}, "outcomeShare": {"50"}, "priceWeight": {"40"},
				"weight-individual-service": {"30"}, "weight-employer-network": {"20"}, "weight-outcome-follow-up": {"10"}, "minQuality": {"0"}, "awards": {"1"}})
			return post(200, "deadlines", url.Values{"questionDeadlineDate": {"2030-01-10"}, "questionDeadlineTime": {"12:00"},
				"bidDeadlineDate": {"2030-01-20"}, "bidDeadlineTime": {"12:00"}})
		}()
		for _, want := range []string{"S1", "S2", "450,00\u00a0€", "300,00\u00a0€", "12\u00a0%"} {
			if lang == "en" {
				want = strings.NewReplacer("450,00\u00a0€", "€450.00", "300,00\u00a0€", "€300.00", "12\u00a0%", "12%").Replace(want)
			}
			if !strings.Contains(check.body, want) {
				t.Errorf("%s: the check-answers page lacks %q", lang, want)
			}
		}
	}
	t.Logf("checked %d draft pages with rows added, removed and wrong", checked)
}
