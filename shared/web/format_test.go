package web

import (
	"testing"
	"time"
)

func helsinkiNow() time.Time { return time.Now().In(helsinki) }

func TestFinnishFormats(t *testing.T) {
	day := time.Date(2026, 12, 24, 14, 0, 0, 0, time.UTC) // 16.00 in Helsinki
	for _, c := range []struct{ got, want string }{
		{formatDate("fi", day), "24.12.2026"},
		{formatDate("sv", day), "24.12.2026"},
		{formatDate("en", day), "24 December 2026"},
		{clock("fi", day), "16.00"},
		{formatCents("fi", 123456), "1\u00a0234,56\u00a0€"},
		{formatCents("sv", 100000000), "1\u00a0000\u00a0000,00\u00a0€"},
		{formatCents("en", 123456), "€1,234.56"},
		{formatCents("fi", 5), "0,05\u00a0€"},
		{formatEuros("fi", "68400.00"), "68\u00a0400,00\u00a0€"},
		{formatRate("fi", 2500), "25\u00a0%"},
		{formatRate("en", 1250), "12.5%"},
		{formatDay("fi", "2027-02-01"), "1.2.2027"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	for in, want := range map[string]int64{"1 234,56": 123456, "1234.5": 123450, "3 000 €": 300000, "2\u00a0950,50": 295050, "0": 0} {
		if got, ok := parseEuros(in); !ok || got != want {
			t.Errorf("parseEuros(%q) = %d %v, want %d", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "tre", "1,2,3", "1.234", "-5", "1,999"} {
		if _, ok := parseEuros(bad); ok {
			t.Errorf("parseEuros(%q) accepted", bad)
		}
	}
}

func TestDeadlinesNameTheZone(t *testing.T) {
	c, err := newCatalog(nil)
	if err != nil {
		t.Fatal(err)
	}
	h := &Handler{cat: c}
	d := h.funcs("fi")["deadline"].(func(time.Time) string)(time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC))
	if d != "1.7.2026 klo 12.00 Suomen aikaa (EEST, Europe/Helsinki)" {
		t.Errorf("got %q", d)
	}
}
