package devpki

import (
	"errors"
	"fmt"
	"strings"
)

// vinPrefix is the WMI and vehicle descriptor of generated VINs (a Model 3,
// model year 2019, Fremont); position 9 is replaced by the check digit.
const vinPrefix = "5YJ3E1EA0KF"

// ErrVIN reports a string that is not a well-formed 17-character VIN.
var ErrVIN = errors.New("devpki: invalid VIN")

// vinWeights are the ISO 3779 / FMVSS 115 position weights.
var vinWeights = [17]int{8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2}

// GeneratedVINs returns n deterministic, well-formed VINs: vinPrefix with
// serial numbers 000001..n and a correct check digit.
func GeneratedVINs(n int) []string {
	vins := make([]string, 0, max(n, 0))
	for i := 1; i <= n; i++ {
		vins = append(vins, withCheckDigit(fmt.Sprintf("%s%06d", vinPrefix, i)))
	}
	return vins
}

// ValidateVIN checks length and alphabet (no I, O or Q). The check digit is
// not enforced: real fleets and test vectors contain VINs whose position 9
// does not match.
func ValidateVIN(vin string) error {
	if len(vin) != 17 {
		return fmt.Errorf("%w: %q has %d characters, want 17", ErrVIN, vin, len(vin))
	}
	for _, r := range vin {
		if _, ok := vinValue(r); !ok {
			return fmt.Errorf("%w: %q contains %q", ErrVIN, vin, r)
		}
	}
	return nil
}

// withCheckDigit replaces position 9 of a 17-character VIN by its check digit.
func withCheckDigit(vin string) string {
	sum := 0
	for i, r := range vin {
		v, _ := vinValue(r)
		sum += v * vinWeights[i]
	}
	check := "X"
	if d := sum % 11; d < 10 {
		check = string(rune('0' + d))
	}
	return vin[:8] + check + vin[9:]
}

// vinValue is the transliteration of one VIN character.
func vinValue(r rune) (int, bool) {
	switch {
	case r >= '0' && r <= '9':
		return int(r - '0'), true
	case r >= 'A' && r <= 'Z' && !strings.ContainsRune("IOQ", r):
		return int(vinLetters[r-'A'] - '0'), true
	}
	return 0, false
}

// vinLetters maps A..Z to their transliteration digits ('0' for I, O, Q).
const vinLetters = "12345678012345070923456789"
