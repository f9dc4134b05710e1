package httpapi_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// TestSampleEvents feeds the sample API Gateway v2 events in events/
// through each function's Lambda entry point, as the Lambda runtime does.
func TestSampleEvents(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		file     string
		status   int
		contains string
	}{
		{"qualification/get-dps.json", 200, `"id":"lahti-ph-employment-2026"`},
		{"qualification/list-applications.json", 200, `"status":"received"`},
		{"qualification/list-applications-as-provider.json", 403, "urn:rengas:problem:forbidden"},
		{"qualification/register-provider-invalid-business-id.json", 400, `"field":"businessId"`},
		{"qualification/register-provider.json", 201, `"id":"prov-new"`},
		{"qualification/get-dps-without-authorizer.json", 401, "urn:rengas:problem:unauthorized"},
		{"competitions/list-competitions.json", 200, `"status":"closed"`},
		{"competitions/draft-weights-not-100.json", 400, "must sum to 100"},
		{"competitions/bid-as-uninvited-provider.json", 404, "urn:rengas:problem:not_found"},
		{"competitions/bid-as-officer.json", 403, "urn:rengas:problem:forbidden"},
		{"audit/verify-dps-chain.json", 200, `"valid":true`},
		{"audit/verify-provider-chain.json", 200, `"summary":"Events 1 to 1 of prov.prov-college verify`},
		{"audit/list-anchors-public.json", 200, `"items":[`},
		{"audit/awards-ngo.json", 200, `"items":[]`},
		{"audit/statistics-missing-dps.json", 400, `"field":"dpsId"`},
		{"qualification/decide-as-auditor.json", 403, "urn:rengas:problem:forbidden"},
		{"audit/quarter-ocds-public.json", 404, `nothing was found`},
		{"audit/open-data-dps-ocds.json", 200, `"hasDynamicPurchasingSystem":true`},
		{"audit/open-data-dps-record.json", 200, `"compiledRelease":{`},
		{"audit/open-data-releases-bad-since.json", 400, `"field":"since"`},
		{"competitions/refer-identity-code.json", 400, `henkilötunnus`},
		{"competitions/verification-queue.json", 200, `"items":[]`},
		{"competitions/contract-missing.json", 404, `nothing was found`},
		{"competitions/claim-as-officer.json", 403, "urn:rengas:problem:forbidden"},
		{"audit/outcome-statistics-public.json", 200, `"full":false`},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("..", "..", "events", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			var ev events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatal(err)
			}
			fn := strings.Split(tt.file, "/")[0]
			res, err := e.srv.LambdaEntry(fn)(t.Context(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.status || !strings.Contains(res.Body, tt.contains) {
				t.Errorf("got %d %s, want %d containing %s", res.StatusCode, res.Body, tt.status, tt.contains)
			}
		})
	}
	all, _ := filepath.Glob(filepath.Join("..", "..", "events", "*", "*.json"))
	for _, f := range all {
		rel, _ := filepath.Rel(filepath.Join("..", "..", "events"), f)
		if strings.HasPrefix(filepath.ToSlash(rel), "documents/") || strings.HasPrefix(filepath.ToSlash(rel), "cognito/") {
			continue // the documents function's events (TestDocumentEvents) and Cognito's (package mail)
		}
		if !seen[filepath.ToSlash(rel)] {
			t.Errorf("sample event %s is not exercised by this test", rel)
		}
	}
}
