package procurement

import "testing"

func TestValidateBusinessID(t *testing.T) {
	tests := []struct {
		id    string
		valid bool
	}{
		{"0201256-6", true}, // a real, public business ID
		{"2617416-4", true},
		{"1572860-0", true},
		{"0201256-5", false}, // wrong check digit
		{"0201256", false},
		{"020125-66", false},
		{"02012a6-6", false},
		{"0000001-1", false}, // remainder 1 is never issued
		{"", false},
	}
	for _, tt := range tests {
		err := ValidateBusinessID(tt.id)
		if got := err == nil; got != tt.valid {
			t.Errorf("ValidateBusinessID(%q) = %v, want valid=%v", tt.id, err, tt.valid)
		}
	}
}
