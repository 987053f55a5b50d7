//go:build race

package sinkkill

// raceEnabled is true when the test binary runs with the race detector:
// the forwarder is then built with -race too (its packages are already
// compiled that way by `make test`) and the tests use fewer records.
const raceEnabled = true
