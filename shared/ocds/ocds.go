// Package ocds publishes Rengas as Open Contracting Data Standard 1.1
// data: every public change of a contracting process is a release of its
// own, built here once, stored as it was marshalled and never changed.
//
// Two kinds of contracting process are published:
//   - the DPS itself (ocid <prefix>-dps-<dps>): its tender is the call
//     for participation, open while the DPS runs (Techniques extension),
//     with its categories as lots; each provider's standing in a category
//     is an award (admitted: active; suspended: pending; excluded:
//     cancelled);
//   - each mini-competition (ocid <prefix>-<competition>), a call-off
//     related to the DPS as its framework.
//
// Records (compiled and versioned releases) are computed from the stored
// releases by the OCDS merge rules (merge.go).
package ocds

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // dates without a time end in Helsinki, also where the OS has no zone data

	"github.com/rengas/rengas/shared/procurement"
)

// Prefix is the OCID prefix. A ring publishing to the OCDS registry puts
// its registered prefix here.
var Prefix = "ocds-rengas"

// Extensions are the OCDS extensions the packages use, by the URL of each
// extension's metadata file in the extension registry.
var Extensions = []string{
	"https://raw.githubusercontent.com/open-contracting-extensions/ocds_techniques_extension/master/extension.json",
	"https://raw.githubusercontent.com/open-contracting-extensions/ocds_lots_extension/master/extension.json",
	"https://raw.githubusercontent.com/open-contracting-extensions/ocds_organizationClassification_extension/master/extension.json",
	"https://raw.githubusercontent.com/open-contracting-extensions/ocds_pagination_extension/master/extension.json",
}

// License is the licence of the open data: Public Domain Dedication and
// License (PDDL) 1.0, the licence OCDS recommends.
const License = "http://opendatacommons.org/licenses/pddl/1.0/"

// Package is an OCDS release package. Handlers serve the stored releases
// byte for byte (Assemble); this type describes the same document.
type Package struct {
	URI               string    `json:"uri"`
	Version           string    `json:"version"`
	Extensions        []string  `json:"extensions"`
	PublishedDate     string    `json:"publishedDate"`
	Publisher         Publisher `json:"publisher"`
	License           string    `json:"license"`
	PublicationPolicy string    `json:"publicationPolicy"`
	Links             *Links    `json:"links,omitempty"`
	Releases          []Release `json:"releases"`
}

// Links are the Pagination extension's links of a feed page.
type Links struct {
	Next string `json:"next,omitempty"`
	Prev string `json:"prev,omitempty"`
}

// Publisher names who publishes the package.
type Publisher struct {
	Name   string `json:"name"`
	Scheme string `json:"scheme,omitempty"`
	UID    string `json:"uid,omitempty"`
	URI    string `json:"uri,omitempty"`
}

// Release is one OCDS release.
type Release struct {
	OCID             string           `json:"ocid"`
	ID               string           `json:"id"`
	Date             string           `json:"date"`
	Tag              []string         `json:"tag"`
	InitiationType   string           `json:"initiationType"`
	Language         string           `json:"language,omitempty"`
	Parties          []Organization   `json:"parties,omitempty"`
	Buyer            *OrgRef          `json:"buyer,omitempty"`
	Tender           *Tender          `json:"tender,omitempty"`
	Awards           []Award          `json:"awards,omitempty"`
	Contracts        []Contract       `json:"contracts,omitempty"`
	RelatedProcesses []RelatedProcess `json:"relatedProcesses,omitempty"`
}

// Organization is a party to the process.
type Organization struct {
	ID           string        `json:"id"`
	Name         string        `json:"name"`
	Identifier   *Identifier   `json:"identifier,omitempty"`
	Address      *Address      `json:"address,omitempty"`
	ContactPoint *ContactPoint `json:"contactPoint,omitempty"`
	Roles        []string      `json:"roles"`
	Details      *Details      `json:"details,omitempty"`
}

// Details classify a party (Organization classification extension).
type Details struct {
	Classifications []Classification `json:"classifications"`
}

// Identifier is an organisation identifier; FI-PRO is the scheme of
// Finnish business IDs (Y-tunnus).
type Identifier struct {
	Scheme    string `json:"scheme"`
	ID        string `json:"id"`
	LegalName string `json:"legalName,omitempty"`
}

// Address is where a party is.
type Address struct {
	StreetAddress string `json:"streetAddress,omitempty"`
	Locality      string `json:"locality,omitempty"`
	PostalCode    string `json:"postalCode,omitempty"`
	CountryName   string `json:"countryName"`
}

// ContactPoint is an office to contact, never a person.
type ContactPoint struct {
	Name      string `json:"name,omitempty"`
	Email     string `json:"email,omitempty"`
	Telephone string `json:"telephone,omitempty"`
	URL       string `json:"url,omitempty"`
}

// OrgRef refers to a party.
type OrgRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Value is an amount of money.
type Value struct {
	Amount   json.Number `json:"amount"`
	Currency string      `json:"currency"`
}

// Period is a span of time.
type Period struct {
	StartDate string `json:"startDate,omitempty"`
	EndDate   string `json:"endDate,omitempty"`
}

// Item is what is bought.
type Item struct {
	ID             string          `json:"id"`
	Description    string          `json:"description"`
	Classification *Classification `json:"classification,omitempty"`
	Quantity       int64           `json:"quantity"`
	Unit           Unit            `json:"unit"`
	RelatedLot     string          `json:"relatedLot,omitempty"`
}

// Classification classifies an item or a party.
type Classification struct {
	Scheme      string `json:"scheme"`
	ID          string `json:"id"`
	Description string `json:"description"`
}

// Unit is the unit of an item's quantity, with its price when it has one.
type Unit struct {
	Name  string `json:"name"`
	Value *Value `json:"value,omitempty"`
}

// Lot is a category of the DPS (Lots extension).
type Lot struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Status      string `json:"status"`
}

// Techniques declares the DPS (Techniques extension).
type Techniques struct {
	HasDynamicPurchasingSystem bool                     `json:"hasDynamicPurchasingSystem"`
	DynamicPurchasingSystem    *DynamicPurchasingSystem `json:"dynamicPurchasingSystem,omitempty"`
}

// DynamicPurchasingSystem is the type and status of a DPS.
type DynamicPurchasingSystem struct {
	Type   string `json:"type"`
	Status string `json:"status,omitempty"`
}

// Amendment is a published change to the tender, with its reason.
type Amendment struct {
	ID              string `json:"id"`
	Date            string `json:"date"`
	Rationale       string `json:"rationale"`
	Description     string `json:"description,omitempty"`
	AmendsReleaseID string `json:"amendsReleaseID,omitempty"`
	ReleaseID       string `json:"releaseID,omitempty"`
}

// Tender is the call: the DPS's call for participation, or a
// mini-competition's call for bids.
type Tender struct {
	ID                       string      `json:"id"`
	Title                    string      `json:"title"`
	Description              string      `json:"description,omitempty"`
	Status                   string      `json:"status"`
	ProcuringEntity          *OrgRef     `json:"procuringEntity,omitempty"`
	Items                    []Item      `json:"items,omitempty"`
	Value                    *Value      `json:"value,omitempty"`
	ProcurementMethod        string      `json:"procurementMethod"`
	ProcurementMethodDetails string      `json:"procurementMethodDetails"`
	MainProcurementCategory  string      `json:"mainProcurementCategory"`
	AwardCriteria            string      `json:"awardCriteria,omitempty"`
	AwardCriteriaDetails     string      `json:"awardCriteriaDetails,omitempty"`
	SubmissionMethod         []string    `json:"submissionMethod"`
	EligibilityCriteria      string      `json:"eligibilityCriteria,omitempty"`
	TenderPeriod             *Period     `json:"tenderPeriod,omitempty"`
	EnquiryPeriod            *Period     `json:"enquiryPeriod,omitempty"`
	ContractPeriod           *Period     `json:"contractPeriod,omitempty"`
	NumberOfTenderers        *int        `json:"numberOfTenderers,omitempty"`
	Tenderers                []OrgRef    `json:"tenderers,omitempty"`
	Lots                     []Lot       `json:"lots,omitempty"`
	Techniques               *Techniques `json:"techniques,omitempty"`
	Amendments               []Amendment `json:"amendments,omitempty"`
}

// Award is one winner's award, or one provider's standing in a category
// of the DPS.
type Award struct {
	ID             string   `json:"id"`
	Title          string   `json:"title"`
	Description    string   `json:"description,omitempty"`
	Status         string   `json:"status"`
	Date           string   `json:"date"`
	Value          *Value   `json:"value,omitempty"`
	Suppliers      []OrgRef `json:"suppliers"`
	Items          []Item   `json:"items,omitempty"`
	ContractPeriod *Period  `json:"contractPeriod,omitempty"`
	RelatedLots    []string `json:"relatedLots,omitempty"`
}

// Contract is the contract that follows an award. Only its id is always
// given: a later release about the contract (its signature, a change of
// status) carries the id and what changed, and the record merges it into
// the contract as first published.
type Contract struct {
	ID         string  `json:"id"`
	AwardID    string  `json:"awardID,omitempty"`
	Title      string  `json:"title,omitempty"`
	Status     string  `json:"status,omitempty"`
	Period     *Period `json:"period,omitempty"`
	Value      *Value  `json:"value,omitempty"`
	Items      []Item  `json:"items,omitempty"`
	DateSigned string  `json:"dateSigned,omitempty"`
	// Implementation is the contract's implementation block (transactions
	// and milestones), in a later contract event's release.
	Implementation *Implementation `json:"implementation,omitempty"`
}

// Implementation is what happened under a contract: its payments.
type Implementation struct {
	Transactions []Transaction `json:"transactions,omitempty"`
}

// Transaction is a payment under a contract (negative: money paid back).
type Transaction struct {
	ID    string  `json:"id"`
	Date  string  `json:"date"`
	Value Value   `json:"value"`
	Payer *OrgRef `json:"payer,omitempty"`
	Payee *OrgRef `json:"payee,omitempty"`
}

// Payment is the transaction of a payment of cents on day (YYYY-MM-DD)
// from the DPS's buyer to the supplier, both named as in the award.
func Payment(d *procurement.DPS, buyer string, supplier procurement.Party, id, day string, cents int64) Transaction {
	_, payer := buyerParty(d, buyer)
	return Transaction{ID: id, Date: startOfDay(day), Value: *eur(cents), Payer: &payer, Payee: &OrgRef{ID: partyID(supplier.BusinessID), Name: supplier.Name}}
}

// DayPeriod is the period from the start of day start to the end of day
// end (YYYY-MM-DD), in Helsinki.
func DayPeriod(start, end string) *Period {
	return &Period{StartDate: startOfDay(start), EndDate: endOfDay(end)}
}

// Euros is an amount of cents in euros.
func Euros(cents int64) *Value { return eur(cents) }

// RelatedProcess links the call-off to its DPS.
type RelatedProcess struct {
	ID           string   `json:"id"`
	Relationship []string `json:"relationship"`
	Title        string   `json:"title"`
	Scheme       string   `json:"scheme"`
	Identifier   string   `json:"identifier"`
}

// Job search services; the CPV code of outcome-based employment services.
var cpv = Classification{Scheme: "CPV", ID: "79611000", Description: "Job search services"}

func euros(cents int64) json.Number {
	return json.Number(new(big.Rat).SetFrac64(cents, 100).FloatString(2))
}

func eur(cents int64) *Value { return &Value{Amount: euros(cents), Currency: "EUR"} }

// Stamp formats a moment as OCDS dates are written.
func Stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

var helsinki = func() *time.Location {
	l, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		panic(err)
	}
	return l
}()

// startOfDay and endOfDay turn a date without a time (YYYY-MM-DD) into
// the first and last second of that day in Helsinki: a contract that ends
// on 31 December runs through that day.
func startOfDay(d string) string {
	t, err := time.ParseInLocation(time.DateOnly, d, helsinki)
	if err != nil {
		return ""
	}
	return t.Format(time.RFC3339)
}

func endOfDay(d string) string {
	t, err := time.ParseInLocation(time.DateOnly, d, helsinki)
	if err != nil {
		return ""
	}
	return t.Add(24*time.Hour - time.Second).Format(time.RFC3339)
}

// OCID is the contracting process identifier of a mini-competition.
func OCID(comp string) string { return Prefix + "-" + comp }

// DPSOCID is the contracting process identifier of a DPS.
func DPSOCID(dps string) string { return Prefix + "-dps-" + dps }

// ReleaseID is the id of a release: the ocid, a sequence unique within
// it, and the tags.
func ReleaseID(ocid, seq string, tags []string) string {
	return ocid + "-" + seq + "-" + strings.Join(tags, "-")
}

// partyID is the id of an organisation with a business id.
func partyID(businessID string) string { return "FI-PRO-" + businessID }

var legalForms = map[procurement.LegalForm]string{
	procurement.FormAssociation: "Registered association (ry)", procurement.FormFoundation: "Foundation (sr)",
	procurement.FormCompany: "Limited company (oy)", procurement.FormCooperative: "Cooperative (osk)",
	procurement.FormSocial: "Social enterprise", procurement.FormEducation: "Educational institution", procurement.FormOther: "Other",
}

// LegalFormScheme is the classification scheme of the legal forms.
const LegalFormScheme = "rengas-legal-form"

func party(p procurement.Party, roles ...string) Organization {
	return Organization{
		ID: partyID(p.BusinessID), Name: p.Name, Roles: roles,
		Identifier: &Identifier{Scheme: "FI-PRO", ID: p.BusinessID, LegalName: p.Name},
		Address:    &Address{Locality: p.HomeMunicipality, CountryName: "Finland"},
		Details:    &Details{Classifications: []Classification{{Scheme: LegalFormScheme, ID: string(p.LegalForm), Description: legalForms[p.LegalForm]}}},
	}
}

// addParty adds a party, or the roles to a party already listed.
func addParty(r *Release, o Organization) {
	for i := range r.Parties {
		if r.Parties[i].ID == o.ID {
			for _, role := range o.Roles {
				if !slices.Contains(r.Parties[i].Roles, role) {
					r.Parties[i].Roles = append(r.Parties[i].Roles, role)
				}
			}
			return
		}
	}
	r.Parties = append(r.Parties, o)
}

// buyerParty is a buyer as a full party: business id, address and the
// contact point of its procurement office, from the DPS settings. A buyer
// without recorded details is named by its id in the ring.
func buyerParty(d *procurement.DPS, id string, roles ...string) (Organization, OrgRef) {
	name := d.BuyerName(id)
	o := Organization{ID: id, Name: name, Roles: roles}
	if b, ok := d.Settings.BuyerDetails[id]; ok {
		o.ID = partyID(b.BusinessID)
		o.Identifier = &Identifier{Scheme: "FI-PRO", ID: b.BusinessID, LegalName: name}
		o.Address = &Address{StreetAddress: b.StreetAddress, PostalCode: b.PostalCode, Locality: b.Locality, CountryName: "Finland"}
		o.ContactPoint = &ContactPoint{Name: b.ContactUnit, Email: b.Email, Telephone: b.Telephone, URL: b.URL}
	}
	return o, OrgRef{ID: o.ID, Name: name}
}

func dpsRelation(d *procurement.DPS) []RelatedProcess {
	return []RelatedProcess{{ID: "1", Relationship: []string{"framework"}, Title: d.Title, Scheme: "ocid", Identifier: DPSOCID(d.ID)}}
}

// Competition release kinds: the tag of the release each public change of
// a mini-competition produces.
const (
	TagTender       = "tender"
	TagAmendment    = "tenderAmendment"
	TagUpdate       = "tenderUpdate"
	TagAward        = "award"
	TagContract     = "contract"
	TagCancellation = "tenderCancellation"
)

// CompetitionTags returns the tags of the release a competition's change
// produces, or nil when the change is not public (drafts, questions,
// declarations, scores). action is the audit action of the change.
func CompetitionTags(action string, c *procurement.Competition, contracts int) []string {
	switch action {
	case "competition.published":
		return []string{TagTender}
	case "competition.amended":
		return []string{TagAmendment}
	case "competition.opened":
		return []string{TagUpdate}
	case "competition.awarded":
		if contracts > 0 {
			return []string{TagAward, TagContract}
		}
		return []string{TagAward}
	case "competition.cancelled":
		if c.PublishedAt == nil {
			return nil // a draft was never public
		}
		return []string{TagCancellation}
	}
	return nil
}

// CompetitionRelease builds the release of a competition's public change,
// as the competition stands after it: the call; its amendments with their
// reasons; the bidders after the opening (never before); awards and
// contracts after the award. seq makes the id unique within the process
// (the competition's version after the change); at is the change's time.
// Only submitted bids are named: a withdrawn bid is never published.
func CompetitionRelease(d *procurement.DPS, c *procurement.Competition, bids []procurement.Bid, contracts []procurement.Contract, tags []string, seq int, at time.Time) Release {
	buyerOrg, buyer := buyerParty(d, c.Buyer, "buyer", "procuringEntity")
	r := Release{
		OCID: OCID(c.ID), ID: ReleaseID(OCID(c.ID), fmt.Sprintf("%04d", seq), tags), Date: Stamp(at), Tag: tags,
		InitiationType: "tender", Language: "en", Buyer: &buyer,
		Parties: []Organization{buyerOrg}, RelatedProcesses: dpsRelation(d),
	}
	var criteria []string
	criteria = append(criteria, "price "+strconv.Itoa(c.PriceWeight))
	for _, q := range c.QualityCriteria {
		criteria = append(criteria, q.ID+" "+strconv.Itoa(q.Weight))
	}
	var milestones []string
	for _, m := range c.Milestones {
		milestones = append(milestones, m.ID+" (expected rate "+m.ExpectedRate.String()+")")
	}
	t := &Tender{
		ID: c.ID, Title: c.Title, Description: c.Description, ProcuringEntity: &buyer,
		Items:                    []Item{{ID: "1", Description: c.TargetGroup, Classification: &cpv, Quantity: int64(c.Places), Unit: Unit{Name: "client place"}}},
		Value:                    eur(c.BudgetCeilingCents),
		ProcurementMethod:        "selective",
		ProcurementMethodDetails: "Outcome-based mini-competition among all providers admitted to category " + c.Category + " of the dynamic purchasing system",
		MainProcurementCategory:  "services",
		AwardCriteria:            "ratedCriteria",
		AwardCriteriaDetails: "Weights: " + strings.Join(criteria, ", ") + ". Evaluation price = places × (fixed fee + Σ outcome price × expected rate) over milestones " +
			strings.Join(milestones, ", ") + ".",
		SubmissionMethod: []string{"electronicSubmission"},
		ContractPeriod:   &Period{StartDate: startOfDay(c.ContractStart), EndDate: endOfDay(c.ContractEnd)},
		EnquiryPeriod:    &Period{EndDate: Stamp(c.QuestionDeadline)},
	}
	if c.PublishedAt != nil {
		t.TenderPeriod = &Period{StartDate: Stamp(*c.PublishedAt), EndDate: Stamp(c.BidDeadline)}
	}
	for i, a := range c.Amendments {
		desc := "Bid deadline " + Stamp(a.OldDeadline) + " → " + Stamp(a.NewDeadline) + "."
		if a.Material {
			desc = "Material change. " + desc
		}
		t.Amendments = append(t.Amendments, Amendment{ID: strconv.Itoa(i + 1), Date: Stamp(a.At), Rationale: a.Reason, Description: desc})
	}
	t.Status = map[procurement.CompetitionStatus]string{
		procurement.CompDraft: "planning", procurement.CompPublished: "active", procurement.CompEvaluation: "active",
		procurement.CompAwarded: "complete", procurement.CompCancelled: "cancelled",
	}[c.Status]
	r.Tender = t
	if c.Opening != nil {
		// Bidders are disclosed only after the deadline, never before.
		n := 0
		for _, b := range bids {
			if b.Status == procurement.BidSubmitted {
				n++
				t.Tenderers = append(t.Tenderers, OrgRef{ID: partyID(b.Bidder.BusinessID), Name: b.Bidder.Name})
				addParty(&r, party(b.Bidder, "tenderer"))
			}
		}
		t.NumberOfTenderers = &n
	}
	if c.Decision != nil {
		for _, k := range contracts {
			suppliers := []OrgRef{{ID: partyID(k.Supplier.BusinessID), Name: k.Supplier.Name}}
			addParty(&r, party(k.Supplier, "supplier"))
			for _, m := range k.Members {
				suppliers = append(suppliers, OrgRef{ID: partyID(m.BusinessID), Name: m.Name})
				addParty(&r, party(m, "supplier"))
			}
			period := Period{StartDate: startOfDay(k.Start), EndDate: endOfDay(k.End)}
			items := contractItems(c, &k)
			awardID := c.ID + "-" + k.ProviderID
			r.Awards = append(r.Awards, Award{ID: awardID, Title: c.Title + ": " + k.Supplier.Name, Status: "active",
				Date: Stamp(k.AwardedAt), Value: eur(k.ValueCents), Suppliers: suppliers, Items: items, ContractPeriod: &period})
			r.Contracts = append(r.Contracts, Contract{ID: awardID, AwardID: awardID, Title: c.Title, Status: "pending", Period: &period,
				Value: eur(k.ValueCents), Items: items})
		}
	}
	return r
}

// LinkAmendments fills each tender amendment's release links, as OCDS
// 1.1.5 defines them: releaseID is the release that published the
// amendment (the nth tenderAmendment release of the process for the nth
// amendment) and amendsReleaseID the release just before it, which holds
// the values before the change. earlier are the process's releases
// stored before r, oldest first; r is the release being built, which is
// the last amendment's own when it is a tenderAmendment.
func LinkAmendments(r *Release, earlier []json.RawMessage) {
	if r.Tender == nil || len(r.Tender.Amendments) == 0 {
		return
	}
	type head struct {
		ID  string   `json:"id"`
		Tag []string `json:"tag"`
	}
	all := make([]head, 0, len(earlier)+1)
	for _, raw := range earlier {
		var h head
		if json.Unmarshal(raw, &h) == nil {
			all = append(all, h)
		}
	}
	all = append(all, head{ID: r.ID, Tag: r.Tag})
	am := r.Tender.Amendments
	n := 0
	for i, h := range all {
		if n == len(am) {
			break
		}
		if !slices.Contains(h.Tag, TagAmendment) {
			continue
		}
		am[n].ReleaseID = h.ID
		if i > 0 {
			am[n].AmendsReleaseID = all[i-1].ID
		}
		n++
	}
}

// contractItems are what a winner delivers, priced so that a reader finds
// the outcome prices without parsing titles: the client places at the
// fixed fee, and each milestone at its outcome price per client reaching it
// (at most one per place).
func contractItems(c *procurement.Competition, k *procurement.Contract) []Item {
	items := []Item{{ID: "places", Description: "Client places (" + c.TargetGroup + "), fixed fee per place", Classification: &cpv,
		Quantity: k.Places, Unit: Unit{Name: "client place", Value: eur(k.FixedFeeCents)}}}
	for _, m := range c.Milestones {
		price, ok := k.OutcomePrices[m.ID]
		if !ok && m.Pricing == "tariff" {
			price, ok = m.TariffCents, true
		}
		if !ok {
			continue
		}
		items = append(items, Item{ID: "outcome-" + m.ID, Description: "Outcome payment: " + m.Name + " (expected rate " + m.ExpectedRate.String() + ")",
			Classification: &cpv, Quantity: k.Places, Unit: Unit{Name: "client reaching " + m.ID, Value: eur(price)}})
	}
	return items
}

// DPSTender builds the release of a DPS's creation: its call for
// participation, open for its whole validity, with every category as a
// lot and the selection criteria and exclusion grounds as eligibility
// criteria.
func DPSTender(d *procurement.DPS, seq string, at time.Time) Release {
	ocid := DPSOCID(d.ID)
	tags := []string{TagTender}
	r := Release{OCID: ocid, ID: ReleaseID(ocid, seq, tags), Date: Stamp(at), Tag: tags, InitiationType: "tender", Language: "en"}
	var procuring *OrgRef
	for i, b := range d.Buyers {
		roles := []string{"buyer"}
		if i == 0 {
			roles = append(roles, "procuringEntity")
		}
		o, ref := buyerParty(d, b, roles...)
		r.Parties = append(r.Parties, o)
		if i == 0 {
			procuring = &ref
			r.Buyer = &ref
		}
	}
	t := &Tender{
		ID: d.ID, Title: d.Title, Status: "active", ProcuringEntity: procuring,
		Description:              "Dynamic purchasing system of the " + d.Ring + " for outcome-based employment services in " + strings.Join(d.ServiceArea, ", ") + ". Providers may apply at any time while it runs; admitted providers are invited to every mini-competition of their category.",
		ProcurementMethod:        "selective",
		ProcurementMethodDetails: "Dynamic purchasing system (restricted procedure): call for participation open for the whole validity of the system",
		MainProcurementCategory:  "services",
		SubmissionMethod:         []string{"electronicSubmission"},
		TenderPeriod:             &Period{StartDate: startOfDay(d.ValidFrom), EndDate: endOfDay(d.ValidUntil)},
		ContractPeriod:           &Period{StartDate: startOfDay(d.ValidFrom), EndDate: endOfDay(d.ValidUntil)},
		Techniques:               &Techniques{HasDynamicPurchasingSystem: true, DynamicPurchasingSystem: &DynamicPurchasingSystem{Type: "closed", Status: "active"}},
	}
	if at.In(helsinki).Format(time.DateOnly) < d.ValidFrom {
		t.Techniques.DynamicPurchasingSystem.Status = "pending" // published before it starts
	}
	for _, c := range d.Categories {
		var crit []string
		for _, k := range c.Criteria {
			s := k.Text
			switch k.Kind {
			case procurement.KindMinimum:
				s += fmt.Sprintf(" (at least %d %s)", k.Minimum, k.Unit)
			case procurement.KindDocument:
				s += " (document: " + k.DocumentType + ")"
			}
			crit = append(crit, s)
		}
		desc := "Selection criteria: none beyond the exclusion grounds."
		if len(crit) > 0 {
			desc = "Selection criteria: " + strings.Join(crit, "; ") + "."
		}
		t.Lots = append(t.Lots, Lot{ID: c.ID, Title: c.Name, Description: desc, Status: "active"})
		t.Items = append(t.Items, Item{ID: c.ID, Description: c.Name, Classification: &cpv, Quantity: 1, Unit: Unit{Name: "category"}, RelatedLot: c.ID})
	}
	// The selection criteria are each lot's description (not repeated
	// here, so that the release stays within an item's size as the DPS does).
	var grounds []string
	for _, g := range d.ExclusionGrounds {
		grounds = append(grounds, g.Question)
	}
	t.EligibilityCriteria = "Selection criteria: see each category (tender.lots). Exclusion grounds, each declared by the applicant and to be answered no: " + strings.Join(grounds, " ")
	r.Tender = t
	return r
}

// DPSEnd builds the release of the end of a DPS's validity: a
// tenderUpdate whose tender (the call for participation) is complete,
// with its categories complete and the DPS terminated (Techniques
// extension). Its id is fixed (sequence "end"): a DPS ends once.
func DPSEnd(d *procurement.DPS, at time.Time) Release {
	r := DPSTender(d, "end", at)
	r.Tag = []string{TagUpdate}
	r.ID = ReleaseID(r.OCID, "end", r.Tag)
	r.Tender.Status = "complete"
	r.Tender.Techniques.DynamicPurchasingSystem.Status = "terminated"
	for i := range r.Tender.Lots {
		r.Tender.Lots[i].Status = "complete"
	}
	return r
}

// AdmissionAward builds the release of a change to a provider's standing
// in a category of the DPS: the award of that provider in that category
// (id <category>-<provider>, related to the category's lot) with the
// provider and its consortium members as suppliers. Reasons are not
// published: exclusion grounds are personal data of the provider's
// management.
func AdmissionAward(d *procurement.DPS, ad *procurement.Admission, seq string, at time.Time) Release {
	ocid := DPSOCID(d.ID)
	tags := []string{TagAward}
	r := Release{OCID: ocid, ID: ReleaseID(ocid, seq, tags), Date: Stamp(at), Tag: tags, InitiationType: "tender", Language: "en"}
	suppliers := []OrgRef{{ID: partyID(ad.Provider.BusinessID), Name: ad.Provider.Name}}
	addParty(&r, party(ad.Provider, "supplier"))
	for _, m := range ad.Members {
		suppliers = append(suppliers, OrgRef{ID: partyID(m.BusinessID), Name: m.Name})
		addParty(&r, party(m, "supplier"))
	}
	catName := ad.Category
	if c, ok := d.Category(ad.Category); ok {
		catName = c.Name
	}
	day := at.In(helsinki).Format(time.DateOnly)
	status, desc := "active", "Admitted to the category on "+day+"; invited to its mini-competitions."
	switch ad.Status {
	case procurement.AdmissionSuspended:
		status, desc = "pending", "Suspended on "+day+": not invited to mini-competitions until reinstated."
	case procurement.AdmissionExcluded:
		status, desc = "cancelled", "Excluded from the category on "+day+"."
	}
	if ad.Status == procurement.AdmissionAdmitted && len(ad.History) > 1 {
		desc = "Reinstated on " + day + "; invited to the category's mini-competitions."
	}
	first := ad.UpdatedAt
	if len(ad.History) > 0 {
		first = ad.History[0].At
	}
	r.Awards = []Award{{ID: ad.Category + "-" + ad.ProviderID, Title: catName + ": " + ad.Provider.Name, Description: desc, Status: status,
		Date: Stamp(first), Suppliers: suppliers, RelatedLots: []string{ad.Category},
		ContractPeriod: &Period{StartDate: Stamp(first), EndDate: endOfDay(d.ValidUntil)}}}
	return r
}

// ErrNoReleases is returned for a package without releases: the OCDS
// release package schema requires at least one (releases minItems 1), so
// there is nothing valid to publish, e.g. for a quarter without awards.
var ErrNoReleases = errors.New("ocds: a release package needs at least one release")

// Meta is what a package says about itself.
type Meta struct {
	URI string
	// PublishedDate is the time of the last change the package holds.
	PublishedDate string
	// Policy is the URL of the publication policy page.
	Policy string
	// Base is the deployment's public base URL (the publisher's uri).
	Base string
	Next string
}

// The publisher of the data: by default the deployment, identified by its
// OCID prefix. A ring sets its own (e.g. scheme FI-PRO and the business id
// of the organisation that runs Rengas) through the environment
// (OCDS_PUBLISHER_NAME, OCDS_PUBLISHER_SCHEME, OCDS_PUBLISHER_UID).
var (
	PublisherName   = "Rengas"
	PublisherScheme = "rengas-deployment"
	PublisherUID    = Prefix
)

func (m Meta) publisher() Publisher {
	return Publisher{Name: PublisherName, Scheme: PublisherScheme, UID: PublisherUID, URI: m.Base}
}

// Assemble writes a release package around stored releases, each exactly
// as stored. It refuses an empty package with ErrNoReleases.
func Assemble(m Meta, releases []json.RawMessage) ([]byte, error) {
	if len(releases) == 0 {
		return nil, ErrNoReleases
	}
	p := struct {
		URI               string            `json:"uri"`
		Version           string            `json:"version"`
		Extensions        []string          `json:"extensions"`
		PublishedDate     string            `json:"publishedDate"`
		Publisher         Publisher         `json:"publisher"`
		License           string            `json:"license"`
		PublicationPolicy string            `json:"publicationPolicy"`
		Links             *Links            `json:"links,omitempty"`
		Releases          []json.RawMessage `json:"releases"`
	}{m.URI, "1.1", Extensions, m.PublishedDate, m.publisher(), License, m.Policy, nil, releases}
	if m.Next != "" {
		p.Links = &Links{Next: m.Next}
	}
	return json.Marshal(p)
}

// Marshal is how every release is stored: standard JSON, so that serving
// it again inside a package reproduces it byte for byte.
func Marshal(r Release) []byte {
	b, err := json.Marshal(r)
	if err != nil {
		panic("ocds: cannot marshal a release: " + err.Error())
	}
	return b
}

// FeedStart is where the feed begins when no since is given.
var FeedStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// ContractRelease builds the release of a later change to a call-off's
// contract (its signature, amendment, implementation or termination):
// the contract <competition>-<provider> with only what changed; the record
// merges it into the contract the award published. tag is the release tag
// (contract, contractUpdate, contractAmendment, implementation,
// implementationUpdate or contractTermination); seq makes the id unique
// in the process (e.g. the store's NewID()).
func ContractRelease(comp, provider, tag, seq string, at time.Time, change Contract) Release {
	ocid := OCID(comp)
	change.ID = comp + "-" + provider
	change.AwardID = change.ID // the schema requires it; the award has the same id
	tags := []string{tag}
	return Release{OCID: ocid, ID: ReleaseID(ocid, seq, tags), Date: Stamp(at), Tag: tags, InitiationType: "tender", Contracts: []Contract{change}}
}
