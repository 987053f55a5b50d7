package devpki

import (
	"cmp"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Layout names the files of a development PKI directory.
type Layout struct {
	Dir string
}

// CACert is the CA certificate path.
func (l Layout) CACert() string { return filepath.Join(l.Dir, "ca.crt") }

// CAKey is the CA private key path.
func (l Layout) CAKey() string { return filepath.Join(l.Dir, "ca.key") }

// ServerCert is the server certificate path.
func (l Layout) ServerCert() string { return filepath.Join(l.Dir, "server.crt") }

// ServerKey is the server private key path.
func (l Layout) ServerKey() string { return filepath.Join(l.Dir, "server.key") }

// VehiclesDir is the directory of per-vehicle certificates.
func (l Layout) VehiclesDir() string { return filepath.Join(l.Dir, "vehicles") }

// VehicleCert is the certificate path of one vehicle.
func (l Layout) VehicleCert(vin string) string { return filepath.Join(l.VehiclesDir(), vin+".crt") }

// VehicleKey is the private key path of one vehicle.
func (l Layout) VehicleKey(vin string) string { return filepath.Join(l.VehiclesDir(), vin+".key") }

// Options is what [Ensure] makes sure exists.
type Options struct {
	// Dir is the PKI directory; it is created if missing.
	Dir string
	// Hosts are extra server certificate names (DNS names or IPs) beyond
	// localhost, 127.0.0.1 and ::1.
	Hosts []string
	// VINs are the vehicles that get a client certificate.
	VINs []string
}

// Validate checks the options.
func (o Options) Validate() error {
	var errs []error
	if o.Dir == "" {
		errs = append(errs, errors.New("devpki: dir is empty"))
	}
	for _, v := range o.VINs {
		if err := ValidateVIN(v); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Result lists the files Ensure wrote, relative to the directory; files not
// listed were kept as they were.
type Result struct {
	Written []string
}

// Ensure creates the directory's CA, server certificate and vehicle
// certificates, keeping whatever already exists and is consistent. A file
// pair with only one half present reuses the key (issuing a new certificate)
// or fails if only the certificate is left.
func Ensure(opts Options) (Result, error) {
	if err := opts.Validate(); err != nil {
		return Result{}, err
	}
	e := &ensurer{layout: Layout{Dir: opts.Dir}}
	if err := os.MkdirAll(e.layout.VehiclesDir(), dirMode); err != nil {
		return Result{}, fmt.Errorf("devpki: create %s: %w", e.layout.VehiclesDir(), err)
	}
	steps := []func() error{
		e.ensureCA,
		func() error { return e.ensureServer(opts.Hosts) },
		func() error { return e.ensureVehicles(opts.VINs) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return e.result, err
		}
	}
	return e.result, nil
}

// ensurer carries the state of one Ensure call.
type ensurer struct {
	layout Layout
	ca     *Authority
	result Result
}

func (e *ensurer) ensureCA() error {
	ca, err := LoadCA(e.layout)
	if err == nil {
		e.ca = ca
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) || exists(e.layout.CACert()) || exists(e.layout.CAKey()) {
		return err // a half-present or unreadable CA is never replaced silently
	}
	if e.ca, err = NewCA(CASpec{CommonName: VehicleIssuerCN}); err != nil {
		return err
	}
	if err := e.write(e.layout.CAKey(), nil, e.ca.Key); err != nil {
		return err
	}
	return e.write(e.layout.CACert(), e.ca.Cert, nil)
}

func (e *ensurer) ensureServer(hosts []string) error {
	cert, err := ReadCert(e.layout.ServerCert())
	if err == nil && e.serverValid(cert, hosts) {
		return nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return e.issue(e.layout.ServerCert(), e.layout.ServerKey(), ServerSpec(hosts...))
}

// serverValid reports whether cert covers every host, chains to the CA and
// is within its validity window.
func (e *ensurer) serverValid(cert *x509.Certificate, hosts []string) bool {
	if _, err := cert.Verify(x509.VerifyOptions{
		Roots:     e.ca.Pool(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}); err != nil {
		return false
	}
	for _, h := range ServerHosts(hosts) {
		if cert.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

func (e *ensurer) ensureVehicles(vins []string) error {
	for _, vin := range vins {
		if exists(e.layout.VehicleCert(vin)) {
			if !exists(e.layout.VehicleKey(vin)) {
				return fmt.Errorf("devpki: %s exists without its key: %w", e.layout.VehicleCert(vin), fs.ErrNotExist)
			}
			continue
		}
		if err := e.issue(e.layout.VehicleCert(vin), e.layout.VehicleKey(vin), VehicleSpec(vin)); err != nil {
			return err
		}
	}
	return nil
}

// issue signs a certificate for spec, reusing the key at keyPath if present.
func (e *ensurer) issue(certPath, keyPath string, spec LeafSpec) error {
	key, err := ReadKey(keyPath)
	if errors.Is(err, fs.ErrNotExist) {
		if key, err = NewKey(); err == nil {
			err = e.write(keyPath, nil, key)
		}
	}
	if err != nil {
		return err
	}
	leaf, err := e.ca.IssueForKey(spec, key)
	if err != nil {
		return err
	}
	return e.write(certPath, leaf.Cert, nil)
}

// write stores a certificate or a key and records the file in the result.
func (e *ensurer) write(path string, cert *x509.Certificate, key crypto.Signer) error {
	var err error
	if cert != nil {
		err = writeCert(path, cert)
	} else {
		err = writeKey(path, key)
	}
	if err != nil {
		return err
	}
	rel, _ := filepath.Rel(e.layout.Dir, path)
	e.result.Written = append(e.result.Written, rel)
	return nil
}

// LoadCA reads the directory's CA certificate and key and checks that they
// belong together.
func LoadCA(l Layout) (*Authority, error) {
	pair, err := tls.LoadX509KeyPair(l.CACert(), l.CAKey())
	if err != nil {
		return nil, fmt.Errorf("devpki: load CA from %s: %w", l.Dir, err)
	}
	signer, ok := pair.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: CA key type %T cannot sign", ErrPEM, pair.PrivateKey)
	}
	return &Authority{Cert: pair.Leaf, Key: signer}, nil
}

// LoadVehicle reads the client certificate of one vehicle.
func LoadVehicle(l Layout, vin string) (tls.Certificate, error) {
	return LoadKeyPair(l.VehicleCert(vin), l.VehicleKey(vin))
}

// LoadKeyPair reads a PEM certificate (chain) and its private key.
func LoadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("devpki: load key pair %s: %w", certFile, err)
	}
	return pair, nil
}

// VehicleVINs lists the VINs that have a certificate in the directory,
// ordered by serial number (the last six characters), then by VIN, so that
// generated VINs come in the order they were generated.
func VehicleVINs(l Layout) ([]string, error) {
	entries, err := os.ReadDir(l.VehiclesDir())
	if err != nil {
		return nil, fmt.Errorf("devpki: list vehicles: %w", err)
	}
	var vins []string
	for _, de := range entries {
		if vin, ok := strings.CutSuffix(de.Name(), ".crt"); ok && !de.IsDir() {
			vins = append(vins, vin)
		}
	}
	slices.SortFunc(vins, func(a, b string) int {
		return cmp.Or(cmp.Compare(serial(a), serial(b)), cmp.Compare(a, b))
	})
	return vins, nil
}

// CAPool reads a PEM bundle into a certificate pool.
func CAPool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("devpki: read CA bundle: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%w: no certificate in %s", ErrPEM, path)
	}
	return pool, nil
}

// serial is the last six characters of a VIN (the production sequence).
func serial(vin string) string {
	return vin[max(len(vin)-6, 0):]
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
