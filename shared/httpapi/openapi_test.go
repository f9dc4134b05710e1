package httpapi

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite openapi.json from the route table")

func TestOpenAPIDocumentIsCurrent(t *testing.T) {
	got, err := GenerateOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("openapi.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(got, OpenAPIDocument) {
		t.Fatalf("openapi.json is out of date with the route table; run: go test ./shared/httpapi -run OpenAPI -update")
	}
}

// TestOpenAPIMatchesRoutes fails if a route exists in code but not in the
// committed document, or the other way round.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(OpenAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	inDoc := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			inDoc[strings.ToUpper(method)+" "+path] = true
		}
	}
	inCode := map[string]bool{}
	for _, rt := range Routes {
		k := rt.Method + " " + rt.Path
		inCode[k] = true
		if !inDoc[k] {
			t.Errorf("route %s is in the code but not in openapi.json", k)
		}
	}
	for k := range inDoc {
		if !inCode[k] {
			t.Errorf("route %s is in openapi.json but not in the code", k)
		}
	}
}
