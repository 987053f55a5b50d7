// Package testenv locates the project's files from inside tests: the
// workspace root (the directory holding go.work) and the shared reference
// material beside it (../shared, with the conformance vectors).
package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot returns the workspace root: the nearest ancestor of the working
// directory that holds go.work. It fails the test if there is none.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatalf("testenv: getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatalf("testenv: no go.work above the working directory")
		}
		dir = parent
	}
}

// SharedDir returns ../shared beside the workspace root. It fails the test
// loudly when the directory is missing: the conformance vectors are part of
// the test suite, never optional.
func SharedDir(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(RepoRoot(tb), "..", "shared")
	if _, err := os.Stat(filepath.Join(dir, "conformance", "MANIFEST.md")); err != nil {
		tb.Fatalf("testenv: shared reference material not found at %s: %v", dir, err)
	}
	return dir
}

// ConformanceDir returns ../shared/conformance.
func ConformanceDir(tb testing.TB) string {
	tb.Helper()
	return filepath.Join(SharedDir(tb), "conformance")
}
