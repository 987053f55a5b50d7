package tlsconfig

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/fleetrelay/fleetrelay/gateway/internal/filewatch"
	"github.com/fleetrelay/fleetrelay/shared/obs"
)

// CertReloader holds the server certificate and reloads it from its files.
// A pair that fails to load is logged and the previous one stays in use.
type CertReloader struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
	log               *slog.Logger
	reloaded          func(error)
}

// NewCertReloader loads the pair once; failing here is a startup error.
// onReload, if not nil, is called after every reload attempt.
func NewCertReloader(certFile, keyFile string, log *slog.Logger, onReload func(error)) (*CertReloader, error) {
	r := &CertReloader{certFile: certFile, keyFile: keyFile, log: obs.OrDiscard(log), reloaded: onReload}
	if err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload reads the pair now.
func (r *CertReloader) Reload() error {
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("load server certificate %s: %w", r.certFile, err)
	}
	r.cur.Store(&cert)
	return nil
}

// GetCertificate is a tls.Config.GetCertificate returning the current pair.
func (r *CertReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.cur.Load(), nil
}

// Current returns the certificate in use.
func (r *CertReloader) Current() *tls.Certificate { return r.cur.Load() }

// Watch reloads the pair whenever its files change (see filewatch) until
// ctx ends.
func (r *CertReloader) Watch(ctx context.Context) error {
	return filewatch.Watch(ctx, []string{r.certFile, r.keyFile}, filewatch.Options{}, r.reloadAndReport)
}

func (r *CertReloader) reloadAndReport() {
	err := r.Reload()
	if err != nil {
		r.log.Error("server certificate reload failed; keeping the previous one", "cert_file", r.certFile, "error", err)
	} else {
		r.log.Info("server certificate reloaded", "cert_file", r.certFile, "not_after", r.Current().Leaf.NotAfter)
	}
	if r.reloaded != nil {
		r.reloaded(err)
	}
}
