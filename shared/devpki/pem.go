package devpki

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// File modes of written files.
const (
	keyMode  os.FileMode = 0o600
	certMode os.FileMode = 0o644
	dirMode  os.FileMode = 0o755
)

// ErrPEM reports a file that does not hold the expected PEM block.
var ErrPEM = errors.New("devpki: bad PEM")

// CertPEM encodes a certificate as a PEM "CERTIFICATE" block.
func CertPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// KeyPEM encodes a private key as a PKCS#8 PEM "PRIVATE KEY" block.
func KeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("devpki: marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ReadCert reads the first certificate of a PEM file.
func ReadCert(path string) (*x509.Certificate, error) {
	block, err := readBlock(path, "CERTIFICATE")
	if err != nil {
		return nil, err
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("devpki: parse certificate %s: %w", path, err)
	}
	return c, nil
}

// ReadKey reads a PKCS#8, SEC 1 (EC) or PKCS#1 (RSA) private key from a PEM file.
func ReadKey(path string) (crypto.Signer, error) {
	block, err := readBlock(path, "")
	if err != nil {
		return nil, err
	}
	key, err := parseKey(block)
	if err != nil {
		return nil, fmt.Errorf("devpki: parse key %s: %w", path, err)
	}
	return key, nil
}

func parseKey(block *pem.Block) (crypto.Signer, error) {
	switch block.Type {
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		signer, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("%w: key type %T cannot sign", ErrPEM, k)
		}
		return signer, nil
	}
	return nil, fmt.Errorf("%w: unexpected block %q", ErrPEM, block.Type)
}

// readBlock returns the first PEM block of a file; want, if set, is its required type.
func readBlock(path, want string) (*pem.Block, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("devpki: read %s: %w", path, err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block in %s", ErrPEM, path)
	}
	if want != "" && block.Type != want {
		return nil, fmt.Errorf("%w: %s holds %q, want %q", ErrPEM, path, block.Type, want)
	}
	return block, nil
}

// writeFile writes data atomically: a temporary file in the same directory,
// synced, then renamed over path.
func writeFile(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("devpki: create temp for %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := writeAndClose(tmp, data, mode); err != nil {
		return fmt.Errorf("devpki: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("devpki: rename into %s: %w", path, err)
	}
	return nil
}

func writeAndClose(f *os.File, data []byte, mode os.FileMode) error {
	_, werr := f.Write(data)
	cerr := f.Chmod(mode)
	serr := f.Sync()
	return errors.Join(werr, cerr, serr, f.Close())
}

func writeCert(path string, c *x509.Certificate) error {
	return writeFile(path, CertPEM(c), certMode)
}

func writeKey(path string, key crypto.Signer) error {
	data, err := KeyPEM(key)
	if err != nil {
		return err
	}
	return writeFile(path, data, keyMode)
}
