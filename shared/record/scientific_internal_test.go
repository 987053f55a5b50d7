package record

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// referenceScientific is the reference server's expression, kept here to
// check isScientific against it.
var referenceScientific = regexp.MustCompile(`^[+-]?(\d*\.\d+|\d+\.\d*)([eE][+-]?\d+)$`)

func TestIsScientific(t *testing.T) {
	tests := []string{
		"1.5e3", "-1.5E-3", "+.5e1", "3.e2", "1.1920928955078125e-05",
		"", ".", ".e1", "1e5", "1.5", "1.5e", "1.5e+", "e1", "1.5e3 ", " 1.5e3",
		"1.5e3x", "++1.5e3", "1.5ee3", "1..5e3", "١.5e3", "1.5e٣",
	}
	for _, s := range tests {
		t.Run(s, func(t *testing.T) {
			require.Equal(t, referenceScientific.MatchString(s), isScientific(s))
		})
	}
}

// FuzzIsScientific checks isScientific against the reference's regexp.
func FuzzIsScientific(f *testing.F) {
	f.Add("1.5e3")
	f.Fuzz(func(t *testing.T, s string) {
		require.Equal(t, referenceScientific.MatchString(s), isScientific(s), "%q", s)
	})
}
