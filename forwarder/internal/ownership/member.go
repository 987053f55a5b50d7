package ownership

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

const membersDir = "members"

// Membership is this process's presence among the forwarders of one sink: a
// locked file in <state dir>/members.
type Membership struct {
	dir  string
	name string
	lock *Lock
}

// Join registers a member under dir. The file is locked before it appears
// under its final name, so no other process ever sees it unlocked.
func Join(dir string) (*Membership, error) {
	mdir := filepath.Join(dir, membersDir)
	if err := os.MkdirAll(mdir, 0o755); err != nil {
		return nil, fmt.Errorf("ownership: create members dir: %w", err)
	}
	name := randomName() + ".member"
	tmp := filepath.Join(mdir, "."+name+".tmp")
	l, ok, err := TryLock(tmp)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("ownership: new member file %s is locked by another process", tmp)
	}
	if err := os.Rename(tmp, filepath.Join(mdir, name)); err != nil {
		return nil, errors.Join(fmt.Errorf("ownership: publish member: %w", err), l.Unlock())
	}
	return &Membership{dir: mdir, name: name, lock: l}, nil
}

func randomName() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// Others returns, for every other live member, the number of partitions it
// last published. It removes the files of dead members (those it can lock).
func (m *Membership) Others() ([]int, error) {
	entries, err := os.ReadDir(m.dir)
	if err != nil {
		return nil, fmt.Errorf("ownership: list members: %w", err)
	}
	var owned []int
	for _, e := range entries {
		if e.Name() == m.name || !strings.HasSuffix(e.Name(), ".member") {
			continue
		}
		path := filepath.Join(m.dir, e.Name())
		alive, err := m.probe(path)
		if err != nil {
			return nil, err
		}
		if alive {
			owned = append(owned, readOwned(path))
		}
	}
	return owned, nil
}

// ownedWidth is the fixed size of the count in a member file, so that a
// rewrite is a single small write at offset 0 and never needs a truncate.
const ownedWidth = 10

// Publish records in the member file how many partitions this process owns.
func (m *Membership) Publish(owned int) error {
	if _, err := m.lock.f.WriteAt(fmt.Appendf(nil, "%0*d", ownedWidth, owned), 0); err != nil {
		return fmt.Errorf("ownership: publish member count: %w", err)
	}
	return nil
}

// readOwned reads a member's published count; a member that has not
// published yet (or cannot be read) counts as owning none.
func readOwned(path string) int {
	b, err := os.ReadFile(path)
	if err != nil || len(b) < ownedWidth {
		return 0
	}
	n, err := strconv.Atoi(string(b[:ownedWidth]))
	if err != nil {
		return 0
	}
	return n
}

// probe reports whether another process holds the member file at path; if
// none does, the file is removed.
func (m *Membership) probe(path string) (bool, error) {
	l, ok, err := TryLock(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil || !ok {
		return !ok, err
	}
	rerr := os.Remove(path)
	if err := errors.Join(rerr, l.Unlock()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("ownership: remove dead member: %w", err)
	}
	return false, nil
}

// Leave removes the member file and releases it.
func (m *Membership) Leave() error {
	rerr := os.Remove(filepath.Join(m.dir, m.name))
	return errors.Join(rerr, m.lock.Unlock())
}
