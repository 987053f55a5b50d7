//go:build !race

package sinkkill

// raceEnabled is true when the test binary runs with the race detector.
const raceEnabled = false
