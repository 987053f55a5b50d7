package vehiclesim_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine behind: every
// vehicle's sender, reader and ack-log goroutines must end with the run.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
