package devpki_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/shared/devpki"
)

func TestGeneratedVINs(t *testing.T) {
	vins := devpki.GeneratedVINs(3)
	require.Equal(t, vins, devpki.GeneratedVINs(3), "deterministic")
	require.Len(t, vins, 3)
	for i, v := range vins {
		require.NoError(t, devpki.ValidateVIN(v))
		require.Equal(t, "5YJ3E1EA", v[:8])
		require.Equal(t, "KF00000"+string(rune('1'+i)), v[9:])
		require.Equal(t, checkDigit(v), v[8], "check digit of %s", v)
	}
	require.Empty(t, devpki.GeneratedVINs(0))
}

// checkDigit is an independent ISO 3779 check digit computation.
func checkDigit(vin string) byte {
	values := map[byte]int{
		'A': 1, 'B': 2, 'C': 3, 'D': 4, 'E': 5, 'F': 6, 'G': 7, 'H': 8, 'J': 1, 'K': 2, 'L': 3, 'M': 4,
		'N': 5, 'P': 7, 'R': 9, 'S': 2, 'T': 3, 'U': 4, 'V': 5, 'W': 6, 'X': 7, 'Y': 8, 'Z': 9,
	}
	weights := []int{8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2}
	sum := 0
	for i := range len(vin) {
		v, ok := values[vin[i]]
		if !ok {
			v = int(vin[i] - '0')
		}
		sum += v * weights[i]
	}
	if sum%11 == 10 {
		return 'X'
	}
	return byte('0' + sum%11)
}

func TestCheckDigitReference(t *testing.T) {
	require.Equal(t, byte('X'), checkDigit("1M8GDM9AXKP042788"))
}

func TestValidateVIN(t *testing.T) {
	tests := []struct {
		name string
		vin  string
		ok   bool
	}{
		{name: "conformance_vin", vin: "5YJ3E1EA1KF000001", ok: true},
		{name: "too_short", vin: "5YJ3E1EA1KF00000"},
		{name: "letter_o", vin: "5YJ3E1EA1KF00000O"},
		{name: "lower_case", vin: "5yj3e1ea1kf000001"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := devpki.ValidateVIN(tc.vin)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, devpki.ErrVIN)
		})
	}
}
