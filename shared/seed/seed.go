// Package seed loads the demo ring: Lahti and the Päijät-Häme employment
// area sharing one DPS with four categories, providers of different kinds
// (one a consortium lead), pending and decided applications, and a demo
// user for each role. Everything goes through the store, so the demo has a
// genuine audit trail.
package seed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/rengas/rengas/shared/auth"
	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/workdays"
)

// Organisations of the demo ring.
const (
	BuyerLahti      = "buyer-lahti"
	BuyerPaijatHame = "buyer-paijat-hame"
	RingAudit       = "ring-audit"
	DPSID           = "lahti-ph-employment-2026"
)

// FeedbackEmail is the demo ring's address for accessibility feedback,
// given by the accessibility statement when Rengas runs locally.
const FeedbackEmail = "saavutettavuus@lahti-ph.example.fi"

// Users are the demo users, one or more per role.
var Users = []auth.User{
	{ID: "officer-lahti", Name: "Liisa Virtanen (City of Lahti)", Role: procurement.RoleOfficer, Org: BuyerLahti},
	{ID: "officer-ph", Name: "Pekka Korhonen (Päijät-Häme employment area)", Role: procurement.RoleOfficer, Org: BuyerPaijatHame},
	{ID: "auditor", Name: "Aino Auditor (ring audit committee)", Role: procurement.RoleAuditor, Org: RingAudit},
	{ID: "provider-tyopaja", Name: "Päijät-Hämeen Työpajayhdistys ry", Role: procurement.RoleProvider, Org: "prov-tyopaja"},
	{ID: "provider-staffing", Name: "Lahden Henkilöstöpalvelu Oy", Role: procurement.RoleProvider, Org: "prov-staffing"},
	{ID: "provider-foundation", Name: "Hämeen Valmennussäätiö sr (consortium lead)", Role: procurement.RoleProvider, Org: "prov-foundation"},
	{ID: "provider-social", Name: "Osuustoiminta Kipinä (social enterprise)", Role: procurement.RoleProvider, Org: "prov-social"},
	{ID: "provider-college", Name: "Koulutuskeskus Salpaus", Role: procurement.RoleProvider, Org: "prov-college"},
	{ID: "provider-new", Name: "Uusi Valmennus Oy (not registered yet)", Role: procurement.RoleProvider, Org: "prov-new"},
}

// MailUsers are the demo users' addresses and languages, recorded in their
// organisations' mail directories as the web function records a user who
// signs in: the local server's dispatcher mails them (to its catcher).
var MailUsers = map[string]dynamo.MailUser{
	"officer-lahti":       {Email: "liisa.virtanen@lahti.example.fi", Lang: "fi"},
	"officer-ph":          {Email: "pekka.korhonen@paijat-hame.example.fi", Lang: "fi"},
	"auditor":             {Email: "aino.auditor@ring.example.fi", Lang: "en"},
	"provider-tyopaja":    {Email: "toimisto@tyopaja.example.fi", Lang: "fi"},
	"provider-staffing":   {Email: "tarjoukset@henkilostopalvelu.example.fi", Lang: "en"},
	"provider-foundation": {Email: "kansli@valmennus.example.fi", Lang: "sv"},
	"provider-social":     {Email: "kipina@kipina.example.fi", Lang: "fi"},
	"provider-college":    {Email: "hankinnat@salpaus.example.fi", Lang: "sv"},
	"provider-new":        {Email: "info@uusivalmennus.example.fi", Lang: "en"},
}

// User returns the demo user with the id.
func User(id string) (auth.User, bool) {
	for _, u := range Users {
		if u.ID == id {
			return u, true
		}
	}
	return auth.User{}, false
}

func actor(id string) procurement.Actor {
	u, _ := User(id)
	return procurement.Actor{UserID: u.ID, Role: u.Role, Org: u.Org}
}

// DemoDPS returns the DPS of the demo ring, valid from the day of now.
func DemoDPS(now time.Time) *procurement.DPS {
	doc := func(id, text, typ string, days int) procurement.Criterion {
		return procurement.Criterion{ID: id, Kind: procurement.KindDocument, Text: text, DocumentType: typ, ValidityDays: days}
	}
	common := []procurement.Criterion{
		doc("tax-certificate", "Tax debt certificate (verohvelkatodistus), at most 3 months old", "tax-certificate", 90),
		doc("pension-certificate", "Certificate of pension insurance payments", "pension-certificate", 90),
		{ID: "insurance", Kind: procurement.KindDeclaration, Text: "We hold liability insurance covering the service"},
	}
	cat := func(id, name string, extra ...procurement.Criterion) procurement.Category {
		return procurement.Category{ID: id, Name: name, Criteria: append(append([]procurement.Criterion{}, common...), extra...)}
	}
	return &procurement.DPS{
		ID:          DPSID,
		Title:       "Outcome-based employment services, Lahti and Päijät-Häme employment area 2026-2030",
		Ring:        "Lahti and Päijät-Häme procurement ring",
		Buyers:      []string{BuyerLahti, BuyerPaijatHame},
		BuyerNames:  map[string]string{BuyerLahti: "City of Lahti", BuyerPaijatHame: "Päijät-Häme employment area"},
		ServiceArea: []string{"Lahti", "Hollola", "Orimattila", "Heinola", "Asikkala", "Kärkölä", "Padasjoki", "Hartola", "Sysmä", "Iitti"},
		ValidFrom:   workdays.DateString(now.AddDate(0, 0, -30)),
		ValidUntil:  workdays.DateString(now.AddDate(4, 0, 0)),
		Categories: []procurement.Category{
			cat("job-coaching", "Job coaching (työhönvalmennus)",
				procurement.Criterion{ID: "experience", Kind: procurement.KindMinimum, Text: "Years of experience in job coaching", Minimum: 2, Unit: "years"}),
			cat("rehabilitative-work", "Rehabilitative work activity (kuntouttava työtoiminta)",
				doc("criminal-record", "Criminal record extract for work with vulnerable adults", "criminal-record-extract", 365)),
			cat("ips-coaching", "IPS coaching (Individual Placement and Support)",
				procurement.Criterion{ID: "ips-fidelity", Kind: procurement.KindDeclaration, Text: "Our coaches are trained in the IPS model and we accept fidelity reviews"}),
			cat("immigrant-coaching", "Language-supported coaching for immigrants",
				procurement.Criterion{ID: "languages", Kind: procurement.KindMinimum, Text: "Languages our coaches work in besides Finnish", Minimum: 2, Unit: "languages"}),
		},
		ExclusionGrounds: []procurement.ExclusionGround{
			{ID: "convictions", Question: "Has the organisation or a member of its management been convicted of an offence listed in section 80 of the Act on Public Procurement?"},
			{ID: "tax-arrears", Question: "Does the organisation have unpaid taxes or social security contributions?"},
			{ID: "bankruptcy", Question: "Is the organisation bankrupt, in liquidation or in restructuring?"},
			{ID: "professional-misconduct", Question: "Has the organisation been guilty of grave professional misconduct?"},
		},
		QualityCriteria: []string{"individual-service", "employer-network", "outcome-follow-up", "client-segments", "language-support"},
		Settings:        settings(),
	}
}

// settings are the law's defaults with the buyers' details for the open
// data (demo values: offices, never persons).
func settings() procurement.Settings {
	s := procurement.DefaultSettings()
	s.BuyerDetails = map[string]procurement.BuyerDetails{
		BuyerLahti: {BusinessID: "1234560-4", StreetAddress: "Harjukatu 31", PostalCode: "15100", Locality: "Lahti",
			ContactUnit: "Procurement services", Email: "hankinnat@lahti.example.fi", URL: "https://lahti.example.fi/hankinnat"},
		BuyerPaijatHame: {BusinessID: "2345670-5", StreetAddress: "Vapaudenkatu 10", PostalCode: "15110", Locality: "Lahti",
			ContactUnit: "Employment services procurement", Email: "hankinnat@tyollisyys.example.fi"},
	}
	return s
}

var (
	yes = func() *bool { b := true; return &b }()
	no  = func() *bool { b := false; return &b }()
)

func figure(v int64) *int64 { return &v }

func checksum(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Declaration answers every criterion of the categories and every
// exclusion ground (none applies), with documents issued days ago.
func Declaration(d *procurement.DPS, who string, cats []string, issuedDaysAgo int, now time.Time) (procurement.Declaration, []procurement.Document) {
	decl := procurement.Declaration{SignedBy: who}
	var docs []procurement.Document
	seenDoc := map[string]bool{}
	for _, g := range d.ExclusionGrounds {
		decl.Exclusions = append(decl.Exclusions, procurement.ExclusionAnswer{Ground: g.ID, Applies: no})
	}
	issued := now.AddDate(0, 0, -issuedDaysAgo)
	for _, c := range cats {
		cat, _ := d.Category(c)
		for _, k := range cat.Criteria {
			ans := procurement.CriterionAnswer{Category: c, Criterion: k.ID}
			switch k.Kind {
			case procurement.KindDeclaration:
				ans.Confirmed = yes
			case procurement.KindMinimum:
				ans.Value = figure(k.Minimum + 1)
			case procurement.KindDocument:
				ans.DocumentID = k.ID
				if !seenDoc[k.ID] {
					seenDoc[k.ID] = true
					docs = append(docs, procurement.Document{ID: k.ID, Name: k.Text, Type: k.DocumentType,
						SHA256: checksum(who + k.ID), IssuedOn: workdays.DateString(issued),
						ExpiresOn: workdays.DateString(issued.AddDate(0, 0, k.ValidityDays))})
				}
			}
			decl.Criteria = append(decl.Criteria, ans)
		}
	}
	return decl, docs
}

type demoProvider struct {
	user string
	procurement.Party
	email string
}

var demoProviders = []demoProvider{
	{"provider-tyopaja", procurement.Party{Name: "Päijät-Hämeen Työpajayhdistys ry", BusinessID: "1572860-0", LegalForm: procurement.FormAssociation, HomeMunicipality: "Lahti"}, "tyopaja@example.fi"},
	{"provider-staffing", procurement.Party{Name: "Lahden Henkilöstöpalvelu Oy", BusinessID: "2617416-4", LegalForm: procurement.FormCompany, HomeMunicipality: "Helsinki"}, "myynti@example.fi"},
	{"provider-foundation", procurement.Party{Name: "Hämeen Valmennussäätiö sr", BusinessID: "0201256-6", LegalForm: procurement.FormFoundation, HomeMunicipality: "Hollola"}, "valmennus@example.fi"},
	{"provider-social", procurement.Party{Name: "Osuustoiminta Kipinä", BusinessID: "3045789-6", LegalForm: procurement.FormSocial, HomeMunicipality: "Orimattila"}, "kipina@example.fi"},
	{"provider-college", procurement.Party{Name: "Koulutuskeskus Salpaus", BusinessID: "0203093-2", LegalForm: procurement.FormEducation, HomeMunicipality: "Lahti"}, "salpaus@example.fi"},
}

// Demo timeline: the ring set up its DPS 20 days ago and admitted two
// providers; 14 days ago it published a job-coaching mini-competition whose
// deadline passed two days ago (ready to evaluate); one application waits
// past its decision deadline and three arrived today.
const (
	setupDaysAgo       = 20
	competitionDaysAgo = 14
	overdueDaysAgo     = 16
)

// Load seeds the demo ring through the store. It is meant for an empty
// table; the store's clock is moved back while the past is written.
func Load(ctx context.Context, st *dynamo.Store) error {
	realNow := st.Now
	defer func() { st.Now = realNow }()
	daysAgo := func(n int) { st.Now = func() time.Time { return realNow().AddDate(0, 0, -n) } }

	for _, u := range Users {
		mu := MailUsers[u.ID]
		mu.ID = u.ID
		if err := st.RecordMailUser(ctx, u.Org, mu); err != nil {
			return fmt.Errorf("seed the mail directory of %s: %w", u.ID, err)
		}
	}
	daysAgo(setupDaysAgo)
	now := st.Now()
	d := DemoDPS(now)
	if err := st.CreateDPS(ctx, actor("officer-lahti"), d); err != nil {
		return fmt.Errorf("seed DPS: %w", err)
	}
	for _, p := range demoProviders {
		pr := &procurement.Provider{ID: actor(p.user).Org, Party: p.Party, Contact: procurement.Contact{Name: p.Name, Email: p.email}}
		if err := st.RegisterProvider(ctx, actor(p.user), pr); err != nil {
			return fmt.Errorf("seed provider %s: %w", p.user, err)
		}
	}
	apply := func(user string, cats []string, docAge int, members []procurement.Member) (*procurement.Application, error) {
		u, _ := User(user)
		decl, docs := Declaration(d, u.Name, cats, docAge, st.Now())
		for i := range members {
			// The consortium meets the criteria jointly: each member answers
			// its own exclusion grounds; the lead carries the documents.
			members[i].Declaration, _ = Declaration(d, members[i].Name, nil, 0, st.Now())
			members[i].Documents = []procurement.Document{}
		}
		a := &procurement.Application{Categories: cats, Declaration: decl, Documents: docs, Members: members}
		if a.Documents == nil {
			a.Documents = []procurement.Document{}
		}
		return a, st.SubmitApplication(ctx, actor(user), DPSID, a)
	}
	// Admitted earlier: they are invited to mini-competitions.
	for _, x := range []struct {
		user string
		cats []string
		age  int
	}{
		{"provider-tyopaja", []string{"job-coaching", "rehabilitative-work"}, 300},
		{"provider-college", []string{"job-coaching", "immigrant-coaching"}, 80},
	} {
		a, err := apply(x.user, x.cats, x.age, nil)
		if err != nil {
			return fmt.Errorf("seed application of %s: %w", x.user, err)
		}
		for _, c := range x.cats {
			if a, err = st.Decide(ctx, actor("officer-lahti"), DPSID, a.ID, a.Version, c, procurement.OutcomeAdmitted, "", SystemApplication); err != nil {
				return fmt.Errorf("seed decision: %w", err)
			}
		}
	}
	daysAgo(overdueDaysAgo)
	if _, err := apply("provider-social", []string{"rehabilitative-work"}, 40, nil); err != nil {
		return fmt.Errorf("seed application: %w", err)
	}
	daysAgo(competitionDaysAgo)
	if err := seedCompetition(ctx, st); err != nil {
		return fmt.Errorf("seed competition: %w", err)
	}

	st.Now = realNow
	if _, err := apply("provider-staffing", []string{"job-coaching", "ips-coaching"}, 20, nil); err != nil {
		return fmt.Errorf("seed application: %w", err)
	}
	members := []procurement.Member{
		{Party: procurement.Party{Name: "Lahden Diakonialaitos ry", BusinessID: "0127614-8", LegalForm: procurement.FormAssociation, HomeMunicipality: "Lahti"}},
		{Party: procurement.Party{Name: "Heinolan Kuntoutus Oy", BusinessID: "1942837-3", LegalForm: procurement.FormCompany, HomeMunicipality: "Heinola"}},
	}
	if _, err := apply("provider-foundation", []string{"job-coaching", "ips-coaching"}, 10, members); err != nil {
		return fmt.Errorf("seed consortium application: %w", err)
	}
	return nil
}

// DemoDefinition is the demo job-coaching competition: 20 places, two
// outcome milestones, three quality criteria, bids due 12 days after now.
func DemoDefinition(now time.Time) procurement.Definition {
	return procurement.Definition{
		Category: "job-coaching", Title: "Job coaching for long-term unemployed, Lahti 2027",
		Description:   "Individual job coaching towards employment on the open labour market or degree-leading vocational education.",
		TargetGroup:   "Long-term unemployed adults (over 12 months) in Lahti",
		ServiceArea:   []string{"Lahti"},
		Places:        20,
		ContractStart: workdays.DateString(now.AddDate(0, 2, 0)), ContractEnd: workdays.DateString(now.AddDate(1, 2, 0)),
		Milestones: []procurement.Milestone{
			{ID: procurement.MilestoneEmployed, Name: "Employed on the open labour market", Pricing: "offered", ExpectedRate: 2500},
			{ID: procurement.MilestoneVocational, Name: "Started degree-leading vocational education", Pricing: "tariff", TariffCents: 80000, ExpectedRate: 1500},
		},
		Segments:           []procurement.Segment{},
		BudgetCeilingCents: 10_000_000, MaxOutcomeShare: 5000, PriceWeight: 40,
		QualityCriteria: []procurement.QualityCriterion{
			{ID: "individual-service", Description: "How the service is tailored to each client", Weight: 30},
			{ID: "employer-network", Description: "The employer network and how it is used", Weight: 20},
			{ID: "outcome-follow-up", Description: "How outcomes are followed up and reported", Weight: 10},
		},
		Awards:           1,
		QuestionDeadline: now.Add(7 * 24 * time.Hour), BidDeadline: now.Add(12 * 24 * time.Hour),
	}
}

func seedCompetition(ctx context.Context, st *dynamo.Store) error {
	officer := actor("officer-lahti")
	c, err := st.CreateCompetition(ctx, officer, DPSID, DemoDefinition(st.Now()), System[procurement.DPS])
	if err != nil {
		return err
	}
	if c, err = st.PublishCompetition(ctx, officer, c.ID, c.Version, System[procurement.Competition]); err != nil {
		return err
	}
	q, err := st.AskQuestion(ctx, actor("provider-college"), c.ID, "May part of the coaching meetings be held remotely?", System[procurement.Competition])
	if err != nil {
		return err
	}
	if _, err := st.AnswerQuestion(ctx, officer, c.ID, q.ID, q.Version, "Yes, up to half of the meetings, if the client agrees.", System[procurement.Competition]); err != nil {
		return err
	}
	offers := map[string]procurement.Offer{
		"provider-tyopaja": {FixedFeeCents: 300000, OutcomePricesCents: map[string]int64{procurement.MilestoneEmployed: 120000},
			Answers: map[string]string{"individual-service": "Weekly one-to-one meetings and home visits where needed.",
				"employer-network": "120 local employers, 35 of them with recurring placements.", "outcome-follow-up": "Monthly outcome reports per client."}},
		"provider-college": {FixedFeeCents: 280000, OutcomePricesCents: map[string]int64{procurement.MilestoneEmployed: 240000},
			Answers: map[string]string{"individual-service": "A personal study and work plan for every client.",
				"employer-network": "Apprenticeship partners across Päijät-Häme.", "outcome-follow-up": "Follow-up at 3 and 6 months."}},
	}
	for user, o := range offers {
		_, err := st.WriteBid(ctx, actor(user), c.ID, 0, "", "", System[procurement.Competition], func(c *procurement.Competition, inv *procurement.Invitee, prev *procurement.Bid, now time.Time) (*procurement.Bid, string, error) {
			b, err := c.PlaceBid(prev, inv, o, now, now)
			return b, "bid.submitted", err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// System is the access check of the seed and of tests that act as the
// system through the store: the demo ring is set up, not requested, so no
// rule applies. Requests always go through package access.
func System[T any](*T) error { return nil }

// SystemApplication is System for an application and its DPS.
func SystemApplication(*procurement.Application, *procurement.DPS) error { return nil }
