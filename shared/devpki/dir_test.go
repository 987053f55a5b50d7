package devpki_test

import (
	"crypto/x509"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/shared/devpki"
)

// snapshot reads every file under dir, keyed by relative path.
func snapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[rel] = data
		return err
	})
	require.NoError(t, err)
	return files
}

func TestEnsureCreatesLayout(t *testing.T) {
	dir := t.TempDir()
	vins := devpki.GeneratedVINs(2)
	res, err := devpki.Ensure(devpki.Options{Dir: dir, Hosts: []string{"gw.example", "10.1.2.3"}, VINs: vins})
	require.NoError(t, err)
	require.Len(t, res.Written, 8)

	l := devpki.Layout{Dir: dir}
	for _, key := range []string{l.CAKey(), l.ServerKey(), l.VehicleKey(vins[0]), l.VehicleKey(vins[1])} {
		st, err := os.Stat(key)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), st.Mode().Perm(), key)
	}
	ca, err := devpki.LoadCA(l)
	require.NoError(t, err)
	require.Equal(t, devpki.VehicleIssuerCN, ca.Cert.Subject.CommonName)

	server, err := devpki.ReadCert(l.ServerCert())
	require.NoError(t, err)
	for _, h := range []string{"localhost", "127.0.0.1", "::1", "gw.example", "10.1.2.3"} {
		require.NoError(t, server.VerifyHostname(h), h)
	}
	_, err = server.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	require.NoError(t, err)

	got, err := devpki.VehicleVINs(l)
	require.NoError(t, err)
	require.Equal(t, vins, got)
	for _, vin := range vins {
		pair, err := devpki.LoadVehicle(l, vin)
		require.NoError(t, err)
		require.Equal(t, vin, pair.Leaf.Subject.CommonName)
		require.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, pair.Leaf.ExtKeyUsage)
		_, err = pair.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
		require.NoError(t, err)
	}
}

func TestEnsureIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	opts := devpki.Options{Dir: dir, Hosts: []string{"gw.example"}, VINs: devpki.GeneratedVINs(3)}
	_, err := devpki.Ensure(opts)
	require.NoError(t, err)
	before := snapshot(t, dir)

	res, err := devpki.Ensure(opts)
	require.NoError(t, err)
	require.Empty(t, res.Written)
	require.Equal(t, before, snapshot(t, dir))

	// A subset of the hosts and vehicles changes nothing either.
	res, err = devpki.Ensure(devpki.Options{Dir: dir, VINs: opts.VINs[:1]})
	require.NoError(t, err)
	require.Empty(t, res.Written)
	require.Equal(t, before, snapshot(t, dir))
}

func TestEnsureAddsOnlyWhatIsMissing(t *testing.T) {
	tests := []struct {
		name        string
		second      devpki.Options
		wantWritten []string
	}{
		{name: "new_host_reissues_server_cert_only", second: devpki.Options{Hosts: []string{"other.example"}},
			wantWritten: []string{"server.crt"}},
		{name: "new_vin", second: devpki.Options{VINs: []string{"5YJ3E1EA1KF000009"}},
			wantWritten: []string{"vehicles/5YJ3E1EA1KF000009.key", "vehicles/5YJ3E1EA1KF000009.crt"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := devpki.Ensure(devpki.Options{Dir: dir, VINs: devpki.GeneratedVINs(1)})
			require.NoError(t, err)
			before := snapshot(t, dir)

			tc.second.Dir = dir
			res, err := devpki.Ensure(tc.second)
			require.NoError(t, err)
			require.Equal(t, tc.wantWritten, res.Written)
			after := snapshot(t, dir)
			for name, data := range before {
				if name != "server.crt" || len(tc.second.Hosts) == 0 {
					require.Equal(t, data, after[name], "%s kept", name)
				}
			}
		})
	}
}

func TestEnsureReusesKeyOfMissingCert(t *testing.T) {
	dir := t.TempDir()
	vin := devpki.GeneratedVINs(1)[0]
	l := devpki.Layout{Dir: dir}
	_, err := devpki.Ensure(devpki.Options{Dir: dir, VINs: []string{vin}})
	require.NoError(t, err)
	key, err := os.ReadFile(l.VehicleKey(vin))
	require.NoError(t, err)
	require.NoError(t, os.Remove(l.VehicleCert(vin)))

	res, err := devpki.Ensure(devpki.Options{Dir: dir, VINs: []string{vin}})
	require.NoError(t, err)
	require.Equal(t, []string{"vehicles/" + vin + ".crt"}, res.Written)
	after, err := os.ReadFile(l.VehicleKey(vin))
	require.NoError(t, err)
	require.Equal(t, key, after)
	_, err = devpki.LoadVehicle(l, vin)
	require.NoError(t, err, "certificate matches the kept key")
}

func TestEnsureRefusesInconsistentDir(t *testing.T) {
	tests := []struct {
		name   string
		remove func(devpki.Layout, string) string
	}{
		{name: "ca_key_missing", remove: func(l devpki.Layout, _ string) string { return l.CAKey() }},
		{name: "ca_cert_missing", remove: func(l devpki.Layout, _ string) string { return l.CACert() }},
		{name: "vehicle_key_missing", remove: func(l devpki.Layout, vin string) string { return l.VehicleKey(vin) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			vin := devpki.GeneratedVINs(1)[0]
			opts := devpki.Options{Dir: dir, VINs: []string{vin}}
			_, err := devpki.Ensure(opts)
			require.NoError(t, err)
			require.NoError(t, os.Remove(tc.remove(devpki.Layout{Dir: dir}, vin)))
			_, err = devpki.Ensure(opts)
			require.ErrorIs(t, err, fs.ErrNotExist)
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	require.Error(t, devpki.Options{}.Validate())
	require.ErrorIs(t, devpki.Options{Dir: "x", VINs: []string{"short"}}.Validate(), devpki.ErrVIN)
	require.NoError(t, devpki.Options{Dir: "x", VINs: devpki.GeneratedVINs(2)}.Validate())
}
