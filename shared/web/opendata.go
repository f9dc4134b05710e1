package web

// The open-data publication policy: what is published as OCDS, when,
// where and what is withheld. The packages name this page as their
// publicationPolicy (httpapi.PolicyPath, in English).
func (q *req) publicationPolicy() error {
	return q.render(200, "policy", "policy.title", nil, nil)
}
