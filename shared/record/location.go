package record

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
)

// ParseLocation parses "(<lat> <N|S>, <lon> <E|W>)", for example
// "(37.412374 N, 122.145867 W)", into a LocationValue with south and west
// negative. The reference parses with fmt.Sscanf("(%f %1s, %f %1s)"), so the
// same strings convert here: the common shape takes a fast path, anything
// else goes through that same Sscanf call. Text after the closing
// parenthesis is ignored, as Sscanf does.
func ParseLocation(s string) (*vehiclepb.LocationValue, error) {
	if lat, lon, ok := parseLocationFast(s); ok {
		return &vehiclepb.LocationValue{Latitude: lat, Longitude: lon}, nil
	}
	return parseLocationScanf(s)
}

// parseLocationScanf is the reference's parse.
func parseLocationScanf(s string) (*vehiclepb.LocationValue, error) {
	var lat, lon float64
	var latHemi, lonHemi string
	n, err := fmt.Sscanf(s, "(%f %1s, %f %1s)", &lat, &latHemi, &lon, &lonHemi)
	if err != nil {
		return nil, fmt.Errorf("parse location %q: %w", s, err)
	}
	if n != 4 || (latHemi != "N" && latHemi != "S") || (lonHemi != "E" && lonHemi != "W") {
		return nil, fmt.Errorf("parse location %q: hemisphere must be N/S and E/W", s)
	}
	return &vehiclepb.LocationValue{Latitude: signed(lat, latHemi == "S"), Longitude: signed(lon, lonHemi == "W")}, nil
}

// parseLocationFast accepts exactly "(" num " " N|S ", " num " " E|W ")"
// followed by anything, with num = [+-]?digits[.digits], and returns what
// parseLocationScanf returns for such strings. Anything else is not ok.
func parseLocationFast(s string) (lat, lon float64, ok bool) {
	rest, ok := strings.CutPrefix(s, "(")
	if !ok {
		return 0, 0, false
	}
	lat, rest, ok = cutCoordinate(rest, 'N', 'S')
	if !ok {
		return 0, 0, false
	}
	if rest, ok = strings.CutPrefix(rest, ", "); !ok {
		return 0, 0, false
	}
	lon, rest, ok = cutCoordinate(rest, 'E', 'W')
	if !ok || !strings.HasPrefix(rest, ")") {
		return 0, 0, false
	}
	return lat, lon, true
}

// cutCoordinate parses "num H" at the start of s, H being pos or neg (which
// negates), and returns the value and the rest of s.
func cutCoordinate(s string, pos, neg byte) (float64, string, bool) {
	n := numberPrefix(s)
	if n == 0 || len(s) < n+2 || s[n] != ' ' || (s[n+1] != pos && s[n+1] != neg) {
		return 0, s, false
	}
	v, err := strconv.ParseFloat(s[:n], 64)
	if err != nil {
		return 0, s, false
	}
	return signed(v, s[n+1] == neg), s[n+2:], true
}

// numberPrefix returns the length of the [+-]?digits(.digits)? prefix of s,
// or 0 when s does not start with one.
func numberPrefix(s string) int {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	start := i
	i += digits(s[i:])
	if i == start {
		return 0
	}
	if i < len(s) && s[i] == '.' {
		frac := digits(s[i+1:])
		if frac == 0 {
			return 0
		}
		i += 1 + frac
	}
	return i
}

// digits returns the number of leading ASCII digits of s.
func digits[T string | []byte](s T) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// signed returns -v when negate is set, else v.
func signed(v float64, negate bool) float64 {
	if negate {
		return -v
	}
	return v
}
