// Package ocds turns mini-competitions into Open Contracting Data Standard
// 1.1 release packages: one contracting process per mini-competition,
// related to its DPS as a framework, and the quarterly grouping of
// call-off awards per DPS.
package ocds

import (
	"encoding/json"
	"errors"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/rengas/rengas/shared/procurement"
)

// Prefix is the OCID prefix. A ring publishing to the OCDS registry puts
// its registered prefix here.
var Prefix = "ocds-rengas"

// Package is an OCDS release package.
type Package struct {
	URI           string    `json:"uri"`
	Version       string    `json:"version"`
	PublishedDate string    `json:"publishedDate"`
	Publisher     Publisher `json:"publisher"`
	License       string    `json:"license,omitempty"`
	Releases      []Release `json:"releases"`
}

// Publisher names who publishes the package.
type Publisher struct {
	Name string `json:"name"`
}

// Release is one OCDS release.
type Release struct {
	OCID             string           `json:"ocid"`
	ID               string           `json:"id"`
	Date             string           `json:"date"`
	Tag              []string         `json:"tag"`
	InitiationType   string           `json:"initiationType"`
	Language         string           `json:"language"`
	Parties          []Organization   `json:"parties"`
	Buyer            *OrgRef          `json:"buyer,omitempty"`
	Tender           Tender           `json:"tender"`
	Awards           []Award          `json:"awards,omitempty"`
	Contracts        []Contract       `json:"contracts,omitempty"`
	RelatedProcesses []RelatedProcess `json:"relatedProcesses"`
}

// Organization is a party to the process.
type Organization struct {
	ID         string      `json:"id"`
	Name       string      `json:"name"`
	Identifier *Identifier `json:"identifier,omitempty"`
	Address    *Address    `json:"address,omitempty"`
	Roles      []string    `json:"roles"`
	Details    any         `json:"details,omitempty"`
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
	Locality    string `json:"locality,omitempty"`
	CountryName string `json:"countryName"`
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
	ID             string         `json:"id"`
	Description    string         `json:"description"`
	Classification Classification `json:"classification"`
	Quantity       int            `json:"quantity"`
	Unit           Unit           `json:"unit"`
}

// Classification classifies an item.
type Classification struct {
	Scheme      string `json:"scheme"`
	ID          string `json:"id"`
	Description string `json:"description"`
}

// Unit is the unit of an item's quantity.
type Unit struct {
	Name string `json:"name"`
}

// Tender is the mini-competition's call.
type Tender struct {
	ID                       string   `json:"id"`
	Title                    string   `json:"title"`
	Description              string   `json:"description"`
	Status                   string   `json:"status"`
	ProcuringEntity          *OrgRef  `json:"procuringEntity,omitempty"`
	Items                    []Item   `json:"items"`
	Value                    *Value   `json:"value,omitempty"`
	ProcurementMethod        string   `json:"procurementMethod"`
	ProcurementMethodDetails string   `json:"procurementMethodDetails"`
	MainProcurementCategory  string   `json:"mainProcurementCategory"`
	AwardCriteria            string   `json:"awardCriteria"`
	AwardCriteriaDetails     string   `json:"awardCriteriaDetails"`
	SubmissionMethod         []string `json:"submissionMethod"`
	TenderPeriod             *Period  `json:"tenderPeriod,omitempty"`
	EnquiryPeriod            *Period  `json:"enquiryPeriod,omitempty"`
	ContractPeriod           *Period  `json:"contractPeriod,omitempty"`
	NumberOfTenderers        *int     `json:"numberOfTenderers,omitempty"`
	Tenderers                []OrgRef `json:"tenderers,omitempty"`
}

// Award is one winner's award.
type Award struct {
	ID             string   `json:"id"`
	Title          string   `json:"title"`
	Status         string   `json:"status"`
	Date           string   `json:"date"`
	Value          Value    `json:"value"`
	Suppliers      []OrgRef `json:"suppliers"`
	ContractPeriod Period   `json:"contractPeriod"`
}

// Contract is the contract that follows an award.
type Contract struct {
	ID      string `json:"id"`
	AwardID string `json:"awardID"`
	Title   string `json:"title"`
	Status  string `json:"status"`
	Period  Period `json:"period"`
	Value   Value  `json:"value"`
}

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

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func day(d string) string { return d + "T00:00:00Z" }

// OCID is the contracting process identifier of a mini-competition.
func OCID(comp string) string { return Prefix + "-" + comp }

func party(p procurement.Party, roles ...string) Organization {
	return Organization{
		ID: "FI-PRO-" + p.BusinessID, Name: p.Name, Roles: roles,
		Identifier: &Identifier{Scheme: "FI-PRO", ID: p.BusinessID, LegalName: p.Name},
		Address:    &Address{Locality: p.HomeMunicipality, CountryName: "Finland"},
		Details:    map[string]any{"legalForm": p.LegalForm},
	}
}

// ReleaseOf builds the release of a mini-competition as it stands. Before
// the deadline it describes only the call; the bidders appear after the
// opening; awards and contracts after the award decision.
func ReleaseOf(d *procurement.DPS, c *procurement.Competition, bids []procurement.Bid, contracts []procurement.Contract, buyerName string) Release {
	buyer := &OrgRef{ID: c.Buyer, Name: buyerName}
	r := Release{
		OCID: OCID(c.ID), InitiationType: "tender", Language: "en", Buyer: buyer,
		Parties:          []Organization{{ID: c.Buyer, Name: buyerName, Roles: []string{"buyer", "procuringEntity"}}},
		RelatedProcesses: []RelatedProcess{{ID: "1", Relationship: []string{"framework"}, Title: d.Title, Scheme: "ocid", Identifier: Prefix + "-dps-" + d.ID}},
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
	r.Tender = Tender{
		ID: c.ID, Title: c.Title, Description: c.Description, ProcuringEntity: buyer,
		Items:                    []Item{{ID: "1", Description: c.TargetGroup, Classification: cpv, Quantity: c.Places, Unit: Unit{Name: "client place"}}},
		Value:                    &Value{Amount: euros(c.BudgetCeilingCents), Currency: "EUR"},
		ProcurementMethod:        "selective",
		ProcurementMethodDetails: "Outcome-based mini-competition among all providers admitted to category " + c.Category + " of the dynamic purchasing system",
		MainProcurementCategory:  "services",
		AwardCriteria:            "ratedCriteria",
		AwardCriteriaDetails: "Weights: " + strings.Join(criteria, ", ") + ". Evaluation price = places × (fixed fee + Σ outcome price × expected rate) over milestones " +
			strings.Join(milestones, ", ") + ".",
		SubmissionMethod: []string{"electronicSubmission"},
		ContractPeriod:   &Period{StartDate: day(c.ContractStart), EndDate: day(c.ContractEnd)},
		EnquiryPeriod:    &Period{EndDate: stamp(c.QuestionDeadline)},
	}
	date, tags := c.CreatedAt, []string{"planning"}
	if c.PublishedAt != nil {
		r.Tender.TenderPeriod = &Period{StartDate: stamp(*c.PublishedAt), EndDate: stamp(c.BidDeadline)}
		date, tags = *c.PublishedAt, []string{"tender"}
	}
	r.Tender.Status = map[procurement.CompetitionStatus]string{
		procurement.CompDraft: "planning", procurement.CompPublished: "active", procurement.CompEvaluation: "active",
		procurement.CompAwarded: "complete", procurement.CompCancelled: "cancelled",
	}[c.Status]
	if c.Opening != nil {
		// Bidders are disclosed only after the deadline, never before.
		n := 0
		for _, b := range bids {
			if b.Status == procurement.BidSubmitted {
				n++
				r.Tender.Tenderers = append(r.Tender.Tenderers, OrgRef{ID: "FI-PRO-" + b.Bidder.BusinessID, Name: b.Bidder.Name})
				r.Parties = append(r.Parties, party(b.Bidder, "tenderer"))
			}
		}
		r.Tender.NumberOfTenderers = &n
		date = c.Opening.At
	}
	if c.Decision != nil {
		date, tags = c.Decision.At, []string{"award"}
		for _, k := range contracts {
			suppliers := []OrgRef{{ID: "FI-PRO-" + k.Supplier.BusinessID, Name: k.Supplier.Name}}
			markSupplier(&r, k.Supplier)
			for _, m := range k.Members {
				suppliers = append(suppliers, OrgRef{ID: "FI-PRO-" + m.BusinessID, Name: m.Name})
				markSupplier(&r, m)
			}
			period := Period{StartDate: day(k.Start), EndDate: day(k.End)}
			value := Value{Amount: euros(k.ValueCents), Currency: "EUR"}
			awardID := c.ID + "-" + k.ProviderID
			r.Awards = append(r.Awards, Award{ID: awardID, Title: c.Title + ": " + strconv.Itoa(int(k.Places)) + " places", Status: "active",
				Date: stamp(k.AwardedAt), Value: value, Suppliers: suppliers, ContractPeriod: period})
			r.Contracts = append(r.Contracts, Contract{ID: awardID, AwardID: awardID, Title: c.Title, Status: "pending", Period: period, Value: value})
		}
		if len(contracts) > 0 {
			tags = append(tags, "contract")
		}
	}
	if c.Status == procurement.CompCancelled {
		date, tags = c.Cancellation.At, []string{"tenderCancellation"}
	}
	r.Date = stamp(date)
	r.ID = c.ID + "-" + strings.Join(tags, "-") + "-" + date.UTC().Format("20060102T150405")
	r.Tag = tags
	return r
}

func markSupplier(r *Release, p procurement.Party) {
	id := "FI-PRO-" + p.BusinessID
	for i := range r.Parties {
		if r.Parties[i].ID == id {
			r.Parties[i].Roles = append(r.Parties[i].Roles, "supplier")
			return
		}
	}
	r.Parties = append(r.Parties, party(p, "supplier"))
}

// ErrNoReleases is returned for a package without releases: the OCDS
// release package schema requires at least one (releases minItems 1), so
// there is nothing valid to publish, e.g. for a quarter without awards.
var ErrNoReleases = errors.New("ocds: a release package needs at least one release")

// Build wraps releases in a package published now. It refuses an empty
// package with ErrNoReleases rather than publish one that fails the schema.
func Build(uri, publisher string, now time.Time, releases []Release) (Package, error) {
	if len(releases) == 0 {
		return Package{}, ErrNoReleases
	}
	return Package{URI: uri, Version: "1.1", PublishedDate: stamp(now), Publisher: Publisher{Name: publisher},
		License: "http://opendatacommons.org/licenses/pddl/1.0/", Releases: releases}, nil
}
