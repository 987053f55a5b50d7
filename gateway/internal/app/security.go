package app

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"

	"github.com/fleetrelay/fleetrelay/gateway/internal/gwmetrics"
	"github.com/fleetrelay/fleetrelay/gateway/internal/identity"
	"github.com/fleetrelay/fleetrelay/gateway/internal/tlsconfig"
)

// security builds the TLS config and the identity resolver, and starts the
// certificate and allowlist watchers.
func (a *App) security(gm *gwmetrics.Metrics) (*tls.Config, *identity.Resolver, error) {
	ctx, cancel := context.WithCancel(context.Background())
	a.stop = cancel
	certs, err := tlsconfig.NewCertReloader(a.cfg.TLS.ServerCert, a.cfg.TLS.ServerKey, a.log, gm.CertReloaded)
	if err != nil {
		return nil, nil, err
	}
	a.watch(ctx, "tls.server_cert", certs.Watch)
	roots, err := tlsconfig.ClientPool(a.cfg.UseDefaultEngCA, a.cfg.TLS.CAFile)
	if err != nil {
		return nil, nil, err
	}
	allow, err := a.allowlist(ctx)
	if err != nil {
		return nil, nil, err
	}
	proxies, err := trustedProxies(a.cfg.Gateway.TrustedProxies)
	if err != nil {
		return nil, nil, err
	}
	opts := tlsconfig.Options{Certs: certs, ClientRoots: roots}
	if len(proxies) > 0 {
		opts.TrustedProxy = func(addr net.Addr) bool { return identity.TrustedAddr(proxies, addr.String()) }
		a.log.Warn("trusting RFC 9440 client certificate headers", slog.Any("trusted_proxies", a.cfg.Gateway.TrustedProxies))
	}
	return tlsconfig.Server(opts), identity.NewResolver(roots, allow, proxies), nil
}

func (a *App) allowlist(ctx context.Context) (*identity.Allowlist, error) {
	path := a.cfg.Gateway.VINAllowlistFile
	if path == "" {
		return nil, nil
	}
	allow, err := identity.LoadAllowlist(path, a.log)
	if err != nil {
		return nil, err
	}
	a.watch(ctx, "gateway.vin_allowlist_file", allow.Watch)
	a.log.Info("vin_allowlist_loaded", slog.String("file", path), slog.Int("vins", allow.Len()))
	return allow, nil
}
