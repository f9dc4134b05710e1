package httpapi

import (
	"context"
	"slices"
	"time"

	"github.com/rengas/rengas/shared/access"
	"github.com/rengas/rengas/shared/dynamo"
	"github.com/rengas/rengas/shared/procurement"
	"github.com/rengas/rengas/shared/workdays"
)

type createDPSRequest struct {
	ID               string                        `json:"id" validate:"required,max=40,slug"`
	Title            string                        `json:"title" validate:"required,max=300"`
	Ring             string                        `json:"ring" validate:"required,max=200"`
	Buyers           []string                      `json:"buyers" validate:"required,min=1,max=20,dive,required,max=60,id"`
	BuyerNames       map[string]string             `json:"buyerNames" validate:"max=20,dive,max=200"`
	ServiceArea      []string                      `json:"serviceArea" validate:"required,min=1,max=100,dive,required,max=100"`
	ValidFrom        string                        `json:"validFrom" validate:"required,datetime=2006-01-02"`
	ValidUntil       string                        `json:"validUntil" validate:"required,datetime=2006-01-02"`
	Categories       []procurement.Category        `json:"categories" validate:"required,min=1,max=30,dive"`
	ExclusionGrounds []procurement.ExclusionGround `json:"exclusionGrounds" validate:"required,min=1,max=50,dive"`
	QualityCriteria  []string                      `json:"qualityCriteria" validate:"max=30,dive,required,max=40,id"`
	Settings         *procurement.Settings         `json:"settings"`
}

type registerProviderRequest struct {
	procurement.Party
	Contact procurement.Contact `json:"contact"`
}

type applicationRequest struct {
	Categories  []string                `json:"categories" validate:"required,min=1,max=30,dive,required,max=40,id"`
	Declaration procurement.Declaration `json:"declaration"`
	Documents   []procurement.Document  `json:"documents" validate:"max=60,dive"`
	// Members makes the application a consortium's, led by the applicant.
	Members []procurement.Member `json:"members" validate:"max=20,dive"`
}

type decisionRequest struct {
	Category string              `json:"category" validate:"required,max=40,id"`
	Outcome  procurement.Outcome `json:"outcome" validate:"required,oneof=admitted rejected"`
	Reason   string              `json:"reason" validate:"max=5000"`
	Version  int                 `json:"version" validate:"required,gte=1"`
}

type infoRequest struct {
	Message string `json:"message" validate:"required,max=5000"`
	Version int    `json:"version" validate:"required,gte=1"`
}

type infoResponse struct {
	Response  string                 `json:"response" validate:"required,max=10000"`
	Documents []procurement.Document `json:"documents" validate:"max=20,dive"`
	Version   int                    `json:"version" validate:"required,gte=1"`
}

type extensionRequest struct {
	Justification string `json:"justification" validate:"required,max=5000"`
	Version       int    `json:"version" validate:"required,gte=1"`
}

type admissionStatusRequest struct {
	Status  procurement.AdmissionStatus `json:"status" validate:"required,oneof=admitted suspended excluded"`
	Reason  string                      `json:"reason" validate:"required,max=5000"`
	Version int                         `json:"version" validate:"required,gte=1"`
}

type declarationRequestsRequest struct {
	ProviderIDs []string `json:"providerIds" validate:"required,min=1,max=25,dive,required,max=60,id"`
	Message     string   `json:"message" validate:"required,max=5000"`
	DueOn       string   `json:"dueOn" validate:"required,datetime=2006-01-02"`
}

type declarationAnswer struct {
	Declaration procurement.Declaration `json:"declaration"`
	// Documents come with the answer, e.g. renewed certificates (uploaded
	// files named by fileId).
	Documents []procurement.Document `json:"documents" validate:"max=20,dive"`
	Version   int                    `json:"version" validate:"required,gte=1"`
}

// applicationView adds the decision clock to an application.
type applicationView struct {
	*procurement.Application
	WorkdaysLeft int  `json:"workdaysLeft"`
	Overdue      bool `json:"overdue"`
	DueSoon      bool `json:"dueSoon"`
}

// dueSoonWorkdays is when an open application is flagged as due soon.
const dueSoonWorkdays = 2

func viewOf(a *procurement.Application, now time.Time) applicationView {
	v := applicationView{Application: a}
	if a.Status != procurement.StatusDecided {
		v.WorkdaysLeft = a.WorkdaysLeft(now)
		v.Overdue = a.Status == procurement.StatusReceived && (v.WorkdaysLeft < 0 || (v.WorkdaysLeft == 0 && !workdays.IsWorkday(now)))
		v.DueSoon = !v.Overdue && a.Status == procurement.StatusReceived && v.WorkdaysLeft <= dueSoonWorkdays
	}
	return v
}

func viewsOf(p dynamo.Page[procurement.Application], now time.Time) dynamo.Page[applicationView] {
	out := dynamo.Page[applicationView]{Items: make([]applicationView, len(p.Items)), Cursor: p.Cursor}
	for i := range p.Items {
		out.Items[i] = viewOf(&p.Items[i], now)
	}
	return out
}

// provider asks the rules about a provider's registration and what is
// listed under it.
func (c *call) provider(id string) error {
	return access.Ask(c.who(), access.Provider, access.Any, access.Scope{Providers: []string{id}}).Require(access.See, access.NotFound(access.Provider, id))
}

func qualificationRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/openapi.json", Function: FnQualification, Summary: "This API's OpenAPI 3.1 document",
			Response: map[string]any{}, handle: func(c *call) (any, error) { return rawJSON(OpenAPIDocument), nil }},
		{Method: "GET", Path: "/dps", Function: FnQualification, Roles: everyone, Summary: "List the DPSs of the ring",
			Response: dynamo.Page[procurement.DPS]{}, Query: pageParams, handle: func(c *call) (any, error) {
				cur, lim, err := c.page()
				if err != nil {
					return nil, err
				}
				return c.s.Store.ListDPS(c.r.Context(), cur, lim)
			}},
		{Method: "POST", Path: "/dps", Function: FnQualification, Idempotent: true, Roles: officers, Summary: "Create a DPS (the officer's buyer must be one of its buyers)",
			Request: createDPSRequest{}, Response: procurement.DPS{}, Created: true, handle: func(c *call) (any, error) {
				var in createDPSRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				d := &procurement.DPS{ID: in.ID, Title: in.Title, Ring: in.Ring, Buyers: in.Buyers, BuyerNames: in.BuyerNames, ServiceArea: in.ServiceArea,
					ValidFrom: in.ValidFrom, ValidUntil: in.ValidUntil, Categories: in.Categories, ExclusionGrounds: in.ExclusionGrounds,
					QualityCriteria: in.QualityCriteria, Settings: procurement.DefaultSettings()}
				if in.Settings != nil {
					d.Settings = *in.Settings
					if err := c.s.check(in.Settings); err != nil {
						return nil, err
					}
				}
				if d.QualityCriteria == nil {
					d.QualityCriteria = []string{}
				}
				if err := d.Validate(); err != nil {
					return nil, err
				}
				// Officers create a DPS only for a ring their own buyer belongs to.
				if err := access.Ask(c.who(), access.DPS, access.Any, access.DPSScope(d)).Require(access.Act, access.NotFound(access.DPS, d.ID)); err != nil {
					return nil, err
				}
				return d, c.s.Store.CreateDPS(c.r.Context(), c.actor, d)
			}},
		{Method: "GET", Path: "/dps/{dpsId}", Function: FnQualification, Roles: everyone, Summary: "Read a DPS: categories, selection criteria, exclusion grounds, settings",
			Response: procurement.DPS{}, handle: func(c *call) (any, error) { return c.s.Store.GetDPS(c.r.Context(), c.path("dpsId")) }},
		{Method: "POST", Path: "/providers", Function: FnQualification, Idempotent: true, Roles: providers, Summary: "Register the caller's organisation as a provider",
			Request: registerProviderRequest{}, Response: procurement.Provider{}, Created: true, handle: func(c *call) (any, error) {
				var in registerProviderRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				p := &procurement.Provider{ID: c.actor.Org, Party: in.Party, Contact: in.Contact}
				return p, c.s.Store.RegisterProvider(c.r.Context(), c.actor, p)
			}},
		{Method: "GET", Path: "/providers/{providerId}", Function: FnQualification, Roles: everyone, Summary: "Read a provider (providers: only their own)",
			Response: procurement.Provider{}, handle: func(c *call) (any, error) {
				if err := c.provider(c.path("providerId")); err != nil {
					return nil, err
				}
				return c.s.Store.GetProvider(c.r.Context(), c.path("providerId"))
			}},
		{Method: "POST", Path: "/dps/{dpsId}/applications", Function: FnQualification, Idempotent: true, Roles: providers, Summary: "Apply to categories of a DPS, alone or as a consortium lead",
			Request: applicationRequest{}, Response: applicationView{}, Created: true, handle: func(c *call) (any, error) {
				var in applicationRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				a := &procurement.Application{Categories: in.Categories, Declaration: in.Declaration, Documents: in.Documents, Members: in.Members}
				groups := [][]procurement.Document{a.Documents}
				for _, m := range a.Members {
					groups = append(groups, m.Documents)
				}
				if err := c.attachDocuments("documents", groups...); err != nil {
					return nil, err
				}
				if a.Documents == nil {
					a.Documents = []procurement.Document{}
				}
				if err := c.s.Store.SubmitApplication(c.r.Context(), c.actor, c.path("dpsId"), a); err != nil {
					return nil, err
				}
				return viewOf(a, c.s.Store.Now()), nil
			}},
		{Method: "GET", Path: "/dps/{dpsId}/applications", Function: FnQualification, Roles: officersAudit,
			Summary:  "List applications with a status, earliest decision deadline first (overdue and due-soon lead)",
			Response: dynamo.Page[applicationView]{}, Query: append([]Param{{Name: "status", Description: "received (default), information_requested or decided", Enum: enumOf(procurement.ApplicationStatuses...), Default: "received"}}, pageParams...),
			handle: func(c *call) (any, error) {
				st := procurement.ApplicationStatus(c.r.URL.Query().Get("status"))
				if st == "" {
					st = procurement.StatusReceived
				}
				if !slices.Contains(procurement.ApplicationStatuses, st) {
					return nil, procurement.Invalid("status", "must be one of %v", procurement.ApplicationStatuses)
				}
				cur, lim, err := c.page()
				if err != nil {
					return nil, err
				}
				if _, err := c.dps(access.Application, access.See); err != nil {
					return nil, err
				}
				p, err := c.s.Store.ListApplications(c.r.Context(), c.path("dpsId"), st, cur, lim)
				return viewsOf(p, c.s.Store.Now()), err
			}},
		{Method: "GET", Path: "/dps/{dpsId}/applications/{applicationId}", Function: FnQualification, Roles: everyone,
			Summary: "Read an application with its decisions and reasons (providers: only their own)", Response: applicationView{},
			handle: func(c *call) (any, error) {
				a, d, err := c.s.Store.GetApplication(c.r.Context(), c.path("dpsId"), c.path("applicationId"))
				if err != nil {
					return nil, err
				}
				if err := c.applicationMay(access.See)(a, d); err != nil {
					return nil, err
				}
				return viewOf(a, c.s.Store.Now()), nil
			}},
		{Method: "POST", Path: "/dps/{dpsId}/applications/{applicationId}/decisions", Function: FnQualification, Idempotent: true, Roles: officers,
			Summary: "Decide on one category: admitted, or rejected with a reason", Request: decisionRequest{}, Response: applicationView{},
			handle: func(c *call) (any, error) {
				var in decisionRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				a, err := c.s.Store.Decide(c.r.Context(), c.actor, c.path("dpsId"), c.path("applicationId"), in.Version, in.Category, in.Outcome, in.Reason, c.applicationMay(access.Act))
				if err != nil {
					return nil, err
				}
				return viewOf(a, c.s.Store.Now()), nil
			}},
		{Method: "POST", Path: "/dps/{dpsId}/applications/{applicationId}/information-requests", Function: FnQualification, Idempotent: true, Roles: officers,
			Summary: "Ask the applicant for more information; the decision clock pauses", Request: infoRequest{}, Response: applicationView{},
			handle: func(c *call) (any, error) {
				var in infoRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				return c.updateApplication(in.Version, func(a *procurement.Application, d *procurement.DPS) (string, string, error) {
					return "application.information_requested", "clock paused", a.RequestInformation(c.actor, in.Message, c.s.Store.Now())
				})
			}},
		{Method: "POST", Path: "/dps/{dpsId}/applications/{applicationId}/information-responses", Function: FnQualification, Idempotent: true, Roles: providers,
			Summary: "Answer an information request; the decision clock resumes", Request: infoResponse{}, Response: applicationView{},
			handle: func(c *call) (any, error) {
				var in infoResponse
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				// Replacements of expiring documents come this way too.
				if err := c.attachDocuments("documents", in.Documents); err != nil {
					return nil, err
				}
				return c.updateApplication(in.Version, func(a *procurement.Application, d *procurement.DPS) (string, string, error) {
					return "application.information_given", "clock resumed", a.Respond(in.Response, in.Documents, c.s.Store.Now())
				})
			}},
		{Method: "POST", Path: "/dps/{dpsId}/applications/{applicationId}/extension", Function: FnQualification, Idempotent: true, Roles: officers,
			Summary: "Extend the decision time once (10 to 15 working days) with a justification", Request: extensionRequest{}, Response: applicationView{},
			handle: func(c *call) (any, error) {
				var in extensionRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				return c.updateApplication(in.Version, func(a *procurement.Application, d *procurement.DPS) (string, string, error) {
					return "application.extended", in.Justification, a.Extend(c.actor, d.Settings, in.Justification, c.s.Store.Now())
				})
			}},
		{Method: "GET", Path: "/providers/{providerId}/applications", Function: FnQualification, Roles: everyone,
			Summary: "List a provider's applications, newest first (providers: only their own)", Response: dynamo.Page[applicationView]{}, Query: pageParams,
			handle: func(c *call) (any, error) {
				if err := c.provider(c.path("providerId")); err != nil {
					return nil, err
				}
				cur, lim, err := c.page()
				if err != nil {
					return nil, err
				}
				p, err := c.s.Store.ListProviderApplications(c.r.Context(), c.path("providerId"), cur, lim)
				if err != nil {
					return nil, err
				}
				p.Items, err = visibleItems(c, p.Items, access.Application, func(a procurement.Application) (string, string) { return a.DPSID, a.ProviderID })
				return viewsOf(p, c.s.Store.Now()), err
			}},
		{Method: "GET", Path: "/providers/{providerId}/admissions", Function: FnQualification, Roles: everyone,
			Summary: "List a provider's admissions (providers: only their own)", Response: dynamo.Page[procurement.Admission]{}, Query: pageParams,
			handle: providerList((*dynamo.Store).ListProviderAdmissions, access.Admission, func(a procurement.Admission) (string, string) { return a.DPSID, a.ProviderID })},
		{Method: "GET", Path: "/dps/{dpsId}/categories/{categoryId}/admissions", Function: FnQualification, Roles: officersAudit,
			Summary: "List the providers admitted, suspended or excluded in a category", Response: dynamo.Page[procurement.Admission]{}, Query: pageParams,
			handle: func(c *call) (any, error) {
				cur, lim, err := c.page()
				if err != nil {
					return nil, err
				}
				if _, err := c.dps(access.Admission, access.See); err != nil {
					return nil, err
				}
				return c.s.Store.ListAdmissions(c.r.Context(), c.path("dpsId"), c.path("categoryId"), cur, lim)
			}},
		{Method: "POST", Path: "/dps/{dpsId}/categories/{categoryId}/admissions/{providerId}/status", Function: FnQualification, Idempotent: true, Roles: officers,
			Summary: "Suspend, reinstate (admitted) or exclude an admitted provider, with a reason", Request: admissionStatusRequest{}, Response: procurement.Admission{},
			handle: func(c *call) (any, error) {
				var in admissionStatusRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				return c.s.Store.SetAdmissionStatus(c.r.Context(), c.actor, c.path("dpsId"), c.path("categoryId"), c.path("providerId"), in.Version, in.Status, in.Reason, c.dpsMay(access.Admission, access.Act))
			}},
		{Method: "GET", Path: "/dps/{dpsId}/documents/expiring", Function: FnQualification, Roles: officersAudit,
			Summary: "List documents that expire within N days (expired ones included), soonest first", Response: dynamo.Page[dynamo.ExpiringDocument]{},
			Query: append([]Param{intParam("days", "look-ahead in days, 0-730 (default 30)", 0, 730, 30)}, pageParams...),
			handle: func(c *call) (any, error) {
				days, err := c.queryInt("days", 30, 0, 730)
				if err != nil {
					return nil, err
				}
				cur, lim, err := c.page()
				if err != nil {
					return nil, err
				}
				if _, err := c.dps(access.Documents, access.See); err != nil {
					return nil, err
				}
				until := workdays.DateString(c.s.Store.Now().AddDate(0, 0, days))
				return c.s.Store.ListExpiringDocuments(c.r.Context(), c.path("dpsId"), until, cur, lim)
			}},
		{Method: "POST", Path: "/dps/{dpsId}/declaration-requests", Function: FnQualification, Idempotent: true, Roles: officers,
			Summary: "Ask providers for a renewed self-declaration (at least 5 working days to answer)", Request: declarationRequestsRequest{},
			Response: []procurement.DeclarationRequest{}, Created: true, handle: func(c *call) (any, error) {
				var in declarationRequestsRequest
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				return c.s.Store.RequestDeclarations(c.r.Context(), c.actor, c.path("dpsId"), in.ProviderIDs, in.Message, in.DueOn, c.dpsMay(access.DeclarationRequest, access.Act))
			}},
		{Method: "GET", Path: "/dps/{dpsId}/declaration-requests", Function: FnQualification, Roles: officersAudit,
			Summary: "List renewed self-declaration requests, earliest due first", Response: dynamo.Page[procurement.DeclarationRequest]{}, Query: pageParams,
			handle: func(c *call) (any, error) {
				cur, lim, err := c.page()
				if err != nil {
					return nil, err
				}
				if _, err := c.dps(access.DeclarationRequest, access.See); err != nil {
					return nil, err
				}
				return c.s.Store.ListDeclarationRequests(c.r.Context(), c.path("dpsId"), cur, lim)
			}},
		{Method: "GET", Path: "/providers/{providerId}/declaration-requests", Function: FnQualification, Roles: everyone,
			Summary: "List a provider's declaration requests, newest first (providers: only their own)", Response: dynamo.Page[procurement.DeclarationRequest]{}, Query: pageParams,
			handle: providerList((*dynamo.Store).ListProviderDeclarationRequests, access.DeclarationRequest, func(r procurement.DeclarationRequest) (string, string) { return r.DPSID, r.ProviderID })},
		{Method: "POST", Path: "/declaration-requests/{requestId}/answers", Function: FnQualification, Idempotent: true, Roles: providers,
			Summary: "Answer a renewed self-declaration request", Request: declarationAnswer{}, Response: procurement.DeclarationRequest{},
			handle: func(c *call) (any, error) {
				var in declarationAnswer
				if err := c.decode(&in); err != nil {
					return nil, err
				}
				if err := c.attachDocuments("documents", in.Documents); err != nil {
					return nil, err
				}
				return c.s.Store.AnswerDeclaration(c.r.Context(), c.actor, c.path("requestId"), in.Version, in.Declaration, in.Documents, func(r *procurement.DeclarationRequest) error {
					return access.Ask(c.who(), access.DeclarationRequest, access.Any, access.Scope{Providers: []string{r.ProviderID}}).Require(access.Act, access.NotFound(access.DeclarationRequest, r.ID))
				})
			}},
		{Method: "GET", Path: "/notifications", Function: FnQualification, Roles: everyone,
			Summary: "List the notifications (outbox) of the caller's organisation, newest first", Response: dynamo.Page[dynamo.Notification]{}, Query: pageParams,
			handle: func(c *call) (any, error) {
				cur, lim, err := c.page()
				if err != nil {
					return nil, err
				}
				return c.s.Store.ListNotifications(c.r.Context(), c.actor.Org, cur, lim)
			}},
	}
}

// providerList serves a page of one provider's list: the provider itself
// first, then each item by the rules of the DPS it belongs to, so that an
// officer sees only what belongs to its own DPSs.
func providerList[T any](list func(*dynamo.Store, context.Context, string, string, int) (dynamo.Page[T], error), e access.Entity, owner func(T) (dps, provider string)) func(*call) (any, error) {
	return func(c *call) (any, error) {
		if err := c.provider(c.path("providerId")); err != nil {
			return nil, err
		}
		cur, lim, err := c.page()
		if err != nil {
			return nil, err
		}
		p, err := list(c.s.Store, c.r.Context(), c.path("providerId"), cur, lim)
		if err != nil {
			return nil, err
		}
		p.Items, err = visibleItems(c, p.Items, e, owner)
		return p, err
	}
}

// visibleItems keeps the items the caller may see.
func visibleItems[T any](c *call, items []T, e access.Entity, owner func(T) (dps, provider string)) ([]T, error) {
	cache := dpsCache{}
	out := make([]T, 0, len(items))
	for _, it := range items {
		dps, prov := owner(it)
		ok, err := c.visibleIn(cache, dps, e, prov)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, it)
		}
	}
	return out, nil
}

// applicationMay checks an application against the rules of its DPS.
func (c *call) applicationMay(need access.Ability) func(*procurement.Application, *procurement.DPS) error {
	return func(a *procurement.Application, d *procurement.DPS) error {
		return access.Ask(c.who(), access.Application, access.Any, access.DPSScope(d, a.ProviderID)).Require(need, access.NotFound(access.Application, a.ID))
	}
}

func (c *call) updateApplication(version int, fn func(a *procurement.Application, d *procurement.DPS) (string, string, error)) (any, error) {
	a, err := c.s.Store.UpdateApplication(c.r.Context(), c.actor, c.path("dpsId"), c.path("applicationId"), version, c.applicationMay(access.Act),
		func(a *procurement.Application, d *procurement.DPS) (string, string, []dynamo.Write, error) {
			action, summary, err := fn(a, d)
			return action, summary, nil, err
		})
	if err != nil {
		return nil, err
	}
	return viewOf(a, c.s.Store.Now()), nil
}
