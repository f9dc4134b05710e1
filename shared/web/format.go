package web

import (
	"math/big"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // deadlines are shown in Europe/Helsinki wherever the server runs
)

// helsinki is the time zone of every time shown on the pages.
var helsinki = func() *time.Location {
	l, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		panic(err)
	}
	return l
}()

const nbsp = "\u00a0"

// formatDate writes a day as Finns do, 24.12.2026 (also in Swedish); in
// English 24 December 2026.
func formatDate(lang string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(helsinki)
	if lang == "en" {
		return t.Format("2 January 2006")
	}
	return t.Format("2.1.2006")
}

// formatDay formats a YYYY-MM-DD day.
func formatDay(lang, day string) string {
	t, err := time.ParseInLocation(time.DateOnly, day, helsinki)
	if err != nil {
		return day
	}
	return formatDate(lang, t)
}

// clock writes the time of day: 16.00 in Finnish and Swedish, 16:00 in English.
func clock(lang string, t time.Time) string {
	if lang == "en" {
		return t.In(helsinki).Format("15:04")
	}
	return t.In(helsinki).Format("15.04")
}

// groupDigits writes an integer with a non-breaking space between
// thousands (1 234 567), or a comma in English.
func groupDigits(lang string, n int64) string {
	neg := n < 0
	if neg {
		n = -n
	}
	s := strconv.FormatInt(n, 10)
	sep := nbsp
	if lang == "en" {
		sep = ","
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// formatCents writes money: 1 234,56 € in Finnish and Swedish (non-breaking
// spaces), €1,234.56 in English.
func formatCents(lang string, cents int64) string {
	neg := cents < 0
	if neg {
		cents = -cents
	}
	whole, frac := groupDigits(lang, cents/100), strconv.FormatInt(cents%100+100, 10)[1:]
	sign := ""
	if neg {
		sign = "-"
	}
	if lang == "en" {
		return sign + "€" + whole + "." + frac
	}
	return sign + whole + "," + frac + nbsp + "€"
}

// formatEuros formats a decimal euro amount as the scoring writes it
// ("68400.00").
func formatEuros(lang, euros string) string {
	r, ok := new(big.Rat).SetString(euros)
	if !ok {
		return euros
	}
	r.Mul(r, big.NewRat(100, 1))
	n := new(big.Int).Quo(r.Num(), r.Denom())
	return formatCents(lang, n.Int64())
}

// formatDecimal writes a decimal number string with the language's
// decimal separator (a comma in Finnish and Swedish).
func formatDecimal(lang, s string) string {
	if lang == "en" {
		return s
	}
	return strings.Replace(s, ".", ",", 1)
}

// formatRate writes a share in basis points as a percentage: 25 %.
func formatRate(lang string, bp int64) string {
	s := new(big.Rat).SetFrac64(bp, 100).FloatString(2)
	s = strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
	if lang == "en" {
		return s + "%"
	}
	return strings.Replace(s, ".", ",", 1) + nbsp + "%"
}

// parseEuros reads an amount typed by a person: "1 234,56", "1234.56",
// "1234" or "1 234 €". It returns cents.
func parseEuros(s string) (int64, bool) {
	s = strings.NewReplacer(" ", "", nbsp, "", "\u202f", "", "€", "", "EUR", "").Replace(strings.TrimSpace(s))
	s = strings.ReplaceAll(s, ",", ".")
	if s == "" || strings.Count(s, ".") > 1 {
		return 0, false
	}
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 || whole == "" {
		return 0, false
	}
	frac = (frac + "00")[:2]
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w < 0 || w > 1e12 {
		return 0, false
	}
	f, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, false
	}
	return w*100 + f, true
}

// parsePercent reads a percentage ("25", "12,5") as basis points.
func parsePercent(s string) (int64, bool) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	c, ok := parseEuros(s)
	if !ok || c > 10000 {
		return 0, false
	}
	return c, true
}

// rateString writes basis points as the API's decimal rate (2500 -> 0.25).
func rateString(bp int64) string {
	return new(big.Rat).SetFrac64(bp, 10000).FloatString(4)
}
