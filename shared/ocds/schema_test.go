package ocds

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/rengas/rengas/shared/ocds/ocdstest"
)

// The schemas in testdata are the OCDS 1.1.5 files and the four extensions
// of the project's reference standards (../shared/standards beside the
// repository), kept here so that CI validates exports without them. When
// the reference copy is present, they must be identical.
func TestSchemasMatchTheReferenceStandards(t *testing.T) {
	ref := filepath.Join("..", "..", "..", "shared", "standards")
	if _, err := os.Stat(ref); err != nil {
		t.Skipf("reference standards not beside the repository (%v); testdata is used as is", err)
	}
	files := []string{"ocds-1.1.5/release-package-schema.json", "ocds-1.1.5/release-schema.json", "ocds-1.1.5/record-package-schema.json"}
	for _, ext := range ocdstest.Extensions {
		names, err := filepath.Glob(filepath.Join(ref, "ocds-extensions", ext, "*.json"))
		if err != nil || len(names) == 0 {
			t.Fatalf("extension %s: %v", ext, err)
		}
		for _, n := range append(names, filepath.Join(ref, "ocds-extensions", ext, "LICENSE")) {
			rel, _ := filepath.Rel(ref, n)
			files = append(files, rel)
		}
	}
	for _, name := range files {
		want, err := os.ReadFile(filepath.Join(ref, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("testdata/%s differs from the reference standard", name)
		}
	}
}

// The packages declare exactly the extensions the test schemas apply, by
// the registry URLs of their metadata files.
func TestDeclaredExtensions(t *testing.T) {
	if len(Extensions) != len(ocdstest.Extensions) {
		t.Fatalf("packages declare %d extensions, the schemas apply %d", len(Extensions), len(ocdstest.Extensions))
	}
	for _, ext := range ocdstest.Extensions {
		found := false
		for _, u := range Extensions {
			if bytes.Contains([]byte(u), []byte("/ocds_"+ext+"_extension/")) {
				found = true
			}
		}
		if !found {
			t.Errorf("extension %s is applied but not declared", ext)
		}
	}
}
