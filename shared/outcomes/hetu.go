package outcomes

import (
	"regexp"
	"strings"
)

// A Finnish personal identity code (henkilötunnus) is DDMMYY, a century
// sign (+, -, A-F, U-Y), a three-digit individual number and a check
// character. Anything of that shape is refused wherever a client could be
// named, whether or not its check character is right: a code with a typo
// still identifies a person.
var (
	// hetuAnywhere finds the shape inside a longer text (client
	// references, which must be opaque).
	hetuAnywhere = regexp.MustCompile(`(?i)(0[1-9]|[12][0-9]|3[01])(0[1-9]|1[0-2])[0-9]{2}\s?[-+A-FU-Y]\s?[0-9]{3}[0-9A-Y]`)
	// hetuWord finds it as a word of its own in free text: not glued to
	// other digits before it nor to letters or digits after it, so that
	// hexadecimal digests and long numbers are not mistaken for one.
	hetuWord = regexp.MustCompile(`(?i)(^|[^0-9])((0[1-9]|[12][0-9]|3[01])(0[1-9]|1[0-2])[0-9]{2}[-+A-FU-Y][0-9]{3}[0-9A-Y])($|[^0-9A-Z])`)
	// tenDigits is a code written without its century sign.
	tenDigits = regexp.MustCompile(`(0[1-9]|[12][0-9]|3[01])(0[1-9]|1[0-2])[0-9]{2}[0-9]{3}[0-9A-Ya-y]`)
)

// HetuReason is what the refusal says, in every field it concerns.
const HetuReason = "looks like a Finnish personal identity code (henkilötunnus): DDMMYY, a century sign, three digits and a check character. " +
	"Rengas never stores who a client is: use the opaque reference of your own case system (e.g. a case number), and keep the key to the person there"

// LooksLikeHetu reports whether a client reference contains anything
// shaped like a personal identity code, with or without its century sign.
func LooksLikeHetu(s string) bool {
	compact := strings.Map(func(r rune) rune {
		if r == ' ' || r == '.' || r == '_' || r == '/' {
			return -1
		}
		return r
	}, s)
	return hetuAnywhere.MatchString(s) || hetuAnywhere.MatchString(compact) || tenDigits.MatchString(compact)
}

// ContainsHetu reports whether a free text contains a personal identity
// code as a word of its own.
func ContainsHetu(s string) bool { return hetuWord.MatchString(s) }
