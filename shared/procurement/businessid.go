package procurement

import "fmt"

// ValidateBusinessID checks a Finnish business ID (Y-tunnus): seven digits,
// a hyphen and a check digit. The check digit is computed with the weights
// 7, 9, 10, 5, 8, 4, 2; remainder 0 gives 0, remainder 1 is never issued,
// otherwise the digit is 11 minus the remainder.
func ValidateBusinessID(id string) error {
	if len(id) != 9 || id[7] != '-' {
		return fmt.Errorf("must have the form 1234567-8 (seven digits, a hyphen, a check digit)")
	}
	weights := [7]int{7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		c := id[i]
		if c < '0' || c > '9' {
			return fmt.Errorf("must have the form 1234567-8 (seven digits, a hyphen, a check digit)")
		}
		sum += int(c-'0') * w
	}
	c := id[8]
	if c < '0' || c > '9' {
		return fmt.Errorf("must end in a check digit 0-9")
	}
	r := sum % 11
	if r == 1 {
		return fmt.Errorf("is not a valid business ID: no ID with these seven digits exists (check digit remainder 1)")
	}
	want := 0
	if r > 1 {
		want = 11 - r
	}
	if int(c-'0') != want {
		return fmt.Errorf("has a wrong check digit: for %s the check digit is %d; check the ID in the trade register", id[:7], want)
	}
	return nil
}

// BusinessIDFor returns the valid business ID with the seven-digit body n,
// or "" if none exists (remainder 1). Tests and demo data use it.
func BusinessIDFor(n int) string {
	body := fmt.Sprintf("%07d", n)
	for d := 0; d <= 9; d++ {
		if id := fmt.Sprintf("%s-%d", body, d); ValidateBusinessID(id) == nil {
			return id
		}
	}
	return ""
}
