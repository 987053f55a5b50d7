package ackserver_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a connection handler outlives its server.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
