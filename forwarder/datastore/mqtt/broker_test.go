package mqtt

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore/datastoretest"
)

const (
	testUser     = "fleet"
	testPassword = "relay-secret"
)

// broker is a mosquitto child process with a plain listener (anonymous)
// and a TLS listener that wants a client certificate and a password.
type broker struct {
	dir           string
	port, tlsPort int
	proc          *datastoretest.Process
	ca, cert, key string // client-side PEM files
}

func (b *broker) plainURL() string { return fmt.Sprintf("tcp://127.0.0.1:%d", b.port) }
func (b *broker) tlsURL() string   { return fmt.Sprintf("ssl://127.0.0.1:%d", b.tlsPort) }

// startBroker writes the certificates, password file and configuration into
// a directory mosquitto can read after dropping privileges, and starts it.
func startBroker(t testing.TB) *broker {
	t.Helper()
	if _, err := exec.LookPath("mosquitto"); err != nil {
		t.Fatalf("mosquitto not found: run scripts/ci-setup.sh (%v)", err)
	}
	dir, err := os.MkdirTemp("", "fleetrelay-mosquitto-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	b := &broker{dir: dir, port: datastoretest.FreePort(t), tlsPort: datastoretest.FreePort(t)}
	writePKI(t, b)
	passwd := filepath.Join(dir, "passwd")
	out, err := exec.Command("mosquitto_passwd", "-b", "-c", passwd, testUser, testPassword).CombinedOutput()
	require.NoError(t, err, string(out))
	require.NoError(t, os.Chmod(passwd, 0o644))
	conf := fmt.Sprintf(`per_listener_settings true
persistence false
log_dest stderr
log_type error
listener %d 127.0.0.1
allow_anonymous true
listener %d 127.0.0.1
allow_anonymous false
password_file %s
cafile %s
certfile %s
keyfile %s
require_certificate true
`, b.port, b.tlsPort, passwd, b.ca, filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key"))
	writeFile(t, filepath.Join(dir, "mosquitto.conf"), []byte(conf))
	b.start(t)
	return b
}

func (b *broker) start(t testing.TB) {
	t.Helper()
	cmd := exec.Command("mosquitto", "-c", filepath.Join(b.dir, "mosquitto.conf"))
	cmd.Stderr = os.Stderr
	b.proc = datastoretest.StartProcess(t, cmd)
	datastoretest.WaitListening(t, fmt.Sprintf("127.0.0.1:%d", b.port), 10*time.Second)
	datastoretest.WaitListening(t, fmt.Sprintf("127.0.0.1:%d", b.tlsPort), 10*time.Second)
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, data, 0o644))
}

// writePKI makes a CA, a server certificate for 127.0.0.1 and a client
// certificate, as PEM files in b.dir.
func writePKI(t testing.TB, b *broker) {
	t.Helper()
	caKey, caCert := newCert(t, nil, nil, &x509.Certificate{
		Subject: pkix.Name{CommonName: "fleetrelay test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign,
	})
	srvKey, srvCert := newCert(t, caKey, caCert, &x509.Certificate{
		Subject: pkix.Name{CommonName: "127.0.0.1"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	})
	cliKey, cliCert := newCert(t, caKey, caCert, &x509.Certificate{
		Subject: pkix.Name{CommonName: "fleetrelay-forwarder"}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	b.ca = filepath.Join(b.dir, "ca.pem")
	b.cert, b.key = filepath.Join(b.dir, "client.pem"), filepath.Join(b.dir, "client.key")
	writePEM(t, b.ca, "CERTIFICATE", caCert.Raw)
	writePEM(t, filepath.Join(b.dir, "server.pem"), "CERTIFICATE", srvCert.Raw)
	writeKey(t, filepath.Join(b.dir, "server.key"), srvKey)
	writePEM(t, b.cert, "CERTIFICATE", cliCert.Raw)
	writeKey(t, b.key, cliKey)
}

var serial int64

func newCert(t testing.TB, parentKey *ecdsa.PrivateKey, parent, tmpl *x509.Certificate) (*ecdsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return key, cert
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	writeFile(t, path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func writeKey(t testing.TB, path string, key *ecdsa.PrivateKey) {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	writePEM(t, path, "EC PRIVATE KEY", der)
}

// subscriber collects every message under base/# on the plain listener,
// resubscribing after reconnects.
type subscriber struct {
	mu     sync.Mutex
	msgs   map[string][][]byte
	client paho.Client
	ready  chan struct{}
}

func subscribe(t testing.TB, b *broker, filter string) *subscriber {
	t.Helper()
	s := &subscriber{msgs: map[string][][]byte{}, ready: make(chan struct{}, 16)}
	opts := paho.NewClientOptions().AddBroker(b.plainURL()).SetAutoReconnect(true).
		SetConnectRetry(true).SetConnectRetryInterval(100 * time.Millisecond).SetMaxReconnectInterval(200 * time.Millisecond).
		SetOnConnectHandler(func(c paho.Client) {
			tok := c.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) {
				s.mu.Lock()
				defer s.mu.Unlock()
				s.msgs[m.Topic()] = append(s.msgs[m.Topic()], m.Payload())
			})
			tok.Wait()
			s.ready <- struct{}{}
		})
	s.client = paho.NewClient(opts)
	s.client.Connect()
	t.Cleanup(func() { s.client.Disconnect(50) })
	s.waitReady(t)
	return s
}

func (s *subscriber) waitReady(t testing.TB) {
	t.Helper()
	select {
	case <-s.ready:
	case <-time.After(15 * time.Second):
		t.Fatal("subscriber did not (re)subscribe")
	}
}

// snapshot returns a copy of the messages received so far.
func (s *subscriber) snapshot() map[string][][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][][]byte, len(s.msgs))
	for k, v := range s.msgs {
		out[k] = append([][]byte(nil), v...)
	}
	return out
}

// waitFor polls until cond holds on the received messages.
func (s *subscriber) waitFor(t testing.TB, what string, cond func(map[string][][]byte) bool) map[string][][]byte {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		msgs := s.snapshot()
		if cond(msgs) {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (have %d topics)", what, len(msgs))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
