package app_test

import (
	"context"
	"encoding/hex"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/fleetrelay/fleetrelay/shared/testenv"
)

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

func itoa(i int) string { return strconv.Itoa(i) }

func hexString(b []byte) string { return hex.EncodeToString(b) }

// confDir caches the conformance folder: tests that start a gateway change
// the working directory to it (as the reference server ran), after which
// testenv can no longer find it from the working directory.
var confDir struct {
	sync.Mutex
	path string
}

func conformanceDir(t *testing.T) string {
	t.Helper()
	confDir.Lock()
	defer confDir.Unlock()
	if confDir.path == "" {
		confDir.path = testenv.ConformanceDir(t)
	}
	return confDir.path
}
