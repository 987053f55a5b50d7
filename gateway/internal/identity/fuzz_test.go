package identity

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzProxyChain feeds arbitrary RFC 9440 header values to the proxy
// header parser: it must never panic, and every certificate it returns
// must have been parsed (never nil).
func FuzzProxyChain(f *testing.F) {
	f.Add(":MAo=:", "")
	f.Add(":AAAA:", ":AAAA:, :AAAA:")
	f.Add("not-a-byte-sequence", ":")
	f.Add("::", ",,,")
	f.Fuzz(func(t *testing.T, cert, chain string) {
		h := http.Header{}
		h.Set(HeaderClientCert, cert)
		h.Set(HeaderClientCertChain, chain)
		certs, err := proxyChain(h)
		if err != nil {
			require.Nil(t, certs)
			return
		}
		require.NotEmpty(t, certs)
		require.LessOrEqual(t, len(certs), maxProxyCerts+1)
		for _, c := range certs {
			require.NotNil(t, c)
		}
	})
}

// FuzzReadVINs feeds arbitrary allowlist files to the parser: every VIN it
// keeps is trimmed, non-empty and free of comments.
func FuzzReadVINs(f *testing.F) {
	f.Add("5YJ3E1EA1KF000001\n# comment\n\n  5YJ3E1EA1KF000002  # car\n")
	f.Add("#only a comment")
	f.Add("\x00\xff\r\n")
	f.Fuzz(func(t *testing.T, content string) {
		path := t.TempDir() + "/vins.txt"
		require.NoError(t, writeTestFile(path, content))
		set, err := readVINs(path)
		if err != nil {
			return
		}
		for vin := range set {
			require.NotEmpty(t, vin)
			require.NotContains(t, vin, "#")
		}
	})
}
