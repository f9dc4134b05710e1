package ocds

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The schemas in testdata are the OCDS 1.1.5 files of the project's
// reference standards (../shared/standards beside the repository), kept
// here so that CI validates exports without them. When the reference copy
// is present, they must be identical.
func TestSchemasMatchTheReferenceStandards(t *testing.T) {
	ref := filepath.Join("..", "..", "..", "shared", "standards", "ocds-1.1.5")
	if _, err := os.Stat(ref); err != nil {
		t.Skipf("reference standards not beside the repository (%v); testdata is used as is", err)
	}
	for _, name := range []string{"release-package-schema.json", "release-schema.json", "record-package-schema.json"} {
		want, err := os.ReadFile(filepath.Join(ref, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("testdata", "ocds-1.1.5", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("testdata/ocds-1.1.5/%s differs from the reference standard", name)
		}
	}
}
