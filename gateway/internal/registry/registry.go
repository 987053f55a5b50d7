// Package registry tracks open vehicle connections so that a vehicle's
// online state is per VIN, not per socket: a vehicle that holds a Wi-Fi and
// a cellular socket at once (or reconnects before the old socket is gone)
// is online from its first socket's open to its last socket's close.
// It also lets the server reach every session for the shutdown drain.
package registry

import (
	"slices"
	"sync"
)

// Conn is a registered connection; the registry only needs to stop it.
type Conn interface {
	// Drain asks the connection to stop reading, finish its in-flight
	// records and close with a going-away close frame.
	Drain()
}

// Registry counts connections per VIN. It is safe for concurrent use.
type Registry struct {
	mu    sync.Mutex
	byVIN map[string][]Conn // a VIN's open connections; one or two as a rule
	conns int
}

// New returns an empty registry.
func New() *Registry {
	return &Registry{byVIN: make(map[string][]Conn)}
}

// Add registers c for vin and reports whether vin just came online (c is
// its only connection).
func (r *Registry) Add(vin string, c Conn) (cameOnline bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	list, ok := r.byVIN[vin]
	if slices.Contains(list, c) {
		return false
	}
	r.byVIN[vin] = append(list, c)
	r.conns++
	return !ok
}

// Remove unregisters c and reports whether vin just went offline (c was
// its last connection). Removing an unknown connection changes nothing.
func (r *Registry) Remove(vin string, c Conn) (wentOffline bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	list := r.byVIN[vin]
	i := slices.Index(list, c)
	if i < 0 {
		return false
	}
	r.conns--
	if len(list) == 1 {
		delete(r.byVIN, vin)
		return true
	}
	r.byVIN[vin] = slices.Delete(list, i, i+1)
	return false
}

// Sockets returns the number of open connections of vin.
func (r *Registry) Sockets(vin string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byVIN[vin])
}

// Online returns the number of vehicles with at least one connection.
func (r *Registry) Online() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byVIN)
}

// Len returns the number of open connections.
func (r *Registry) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.conns
}

// DrainAll calls Drain on every registered connection.
func (r *Registry) DrainAll() {
	r.mu.Lock()
	all := make([]Conn, 0, r.conns)
	for _, list := range r.byVIN {
		all = append(all, list...)
	}
	r.mu.Unlock()
	for _, c := range all {
		c.Drain()
	}
}
