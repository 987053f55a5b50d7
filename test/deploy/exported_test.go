package deploy

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// instrumentKind is how an OpenTelemetry instrument is exported to
// Prometheus.
type instrumentKind int

const (
	kindCounter instrumentKind = iota
	kindGauge
	kindHistogram
)

// constructors maps metric.Meter methods to the Prometheus type of their
// instrument.
var constructors = map[string]instrumentKind{
	"Int64Counter":                   kindCounter,
	"Float64Counter":                 kindCounter,
	"Int64ObservableCounter":         kindCounter,
	"Float64ObservableCounter":       kindCounter,
	"Int64UpDownCounter":             kindGauge,
	"Float64UpDownCounter":           kindGauge,
	"Int64ObservableUpDownCounter":   kindGauge,
	"Float64ObservableUpDownCounter": kindGauge,
	"Int64Gauge":                     kindGauge,
	"Float64Gauge":                   kindGauge,
	"Int64ObservableGauge":           kindGauge,
	"Float64ObservableGauge":         kindGauge,
	"Int64Histogram":                 kindHistogram,
	"Float64Histogram":               kindHistogram,
}

// instrument is one instrument created in the source with a literal name.
type instrument struct {
	name string
	unit string
	kind instrumentKind
	pos  string
}

// sourceInstruments reads every non-test Go file under dirs (relative to
// root) and returns the instruments created with a string-literal name.
// Names built at run time (such as a sink's "fleetrelay_forwarder_<sink>_"
// counters) are not found here; the scrape covers them.
func sourceInstruments(t *testing.T, root string, dirs ...string) []instrument {
	t.Helper()
	var out []instrument
	fset := token.NewFileSet()
	for _, d := range dirs {
		err := filepath.WalkDir(filepath.Join(root, d), func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() && (e.Name() == "testdata" || strings.HasPrefix(e.Name(), ".")) {
				return filepath.SkipDir
			}
			if e.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return fmt.Errorf("parse %s: %w", path, err)
			}
			out = append(out, fileInstruments(fset, f)...)
			return nil
		})
		require.NoError(t, err)
	}
	return out
}

func fileInstruments(fset *token.FileSet, f *ast.File) []instrument {
	var out []instrument
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		kind, ok := constructors[sel.Sel.Name]
		if !ok {
			return true
		}
		name, ok := stringLit(call.Args[0])
		if !ok {
			return true
		}
		in := instrument{name: name, kind: kind, pos: fset.Position(call.Pos()).String()}
		for _, a := range call.Args[1:] {
			if opt, ok := a.(*ast.CallExpr); ok {
				if s, ok := opt.Fun.(*ast.SelectorExpr); ok && s.Sel.Name == "WithUnit" && len(opt.Args) == 1 {
					in.unit, _ = stringLit(opt.Args[0])
				}
			}
		}
		out = append(out, in)
		return true
	})
	return out
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// unitSuffixes maps UCUM units to the suffix the Prometheus exporter
// appends; annotations in braces ("{record}") add nothing.
var unitSuffixes = map[string]string{
	"By": "bytes",
	"s":  "seconds",
	"ms": "milliseconds",
	"us": "microseconds",
	"ns": "nanoseconds",
}

// prometheusName is the name the OpenTelemetry Prometheus exporter gives an
// instrument: the unit's suffix unless the name already has it as a word,
// then "_total" for counters unless the name already ends with it. The
// scrape test checks this rule against the real exporter.
func prometheusName(in instrument) string {
	name := in.name
	words := strings.Split(name, "_")
	if suffix, ok := unitSuffixes[in.unit]; ok && !contains(words, suffix) {
		name += "_" + suffix
	}
	if in.kind == kindCounter && !strings.HasSuffix(name, "_total") {
		name += "_total"
	}
	return name
}

func contains(words []string, w string) bool {
	for _, x := range words {
		if x == w {
			return true
		}
	}
	return false
}

// seriesNames returns the names a family of this kind is queried by.
func seriesNames(name string, kind instrumentKind) []string {
	if kind == kindHistogram {
		return []string{name + "_bucket", name + "_sum", name + "_count"}
	}
	return []string{name}
}

func TestPrometheusName(t *testing.T) {
	tests := []struct {
		in   instrument
		want string
	}{
		{instrument{name: "fleetrelay_gateway_acks", unit: "{frame}", kind: kindCounter}, "fleetrelay_gateway_acks_total"},
		{instrument{name: "fleetrelay_gateway_received", unit: "By", kind: kindCounter}, "fleetrelay_gateway_received_bytes_total"},
		{instrument{name: "fleetrelay_wal_appended_bytes_total", unit: "By", kind: kindCounter}, "fleetrelay_wal_appended_bytes_total"},
		{instrument{name: "fleetrelay_wal_disk_bytes", unit: "By", kind: kindGauge}, "fleetrelay_wal_disk_bytes"},
		{instrument{name: "fleetrelay_gateway_wal_append_duration", unit: "s", kind: kindHistogram}, "fleetrelay_gateway_wal_append_duration_seconds"},
		{instrument{name: "fleetrelay_gateway_connections", unit: "{connection}", kind: kindGauge}, "fleetrelay_gateway_connections"},
		{instrument{name: "fleetrelay_wal_batch_records", kind: kindHistogram}, "fleetrelay_wal_batch_records"},
	}
	for _, tt := range tests {
		t.Run(tt.in.name, func(t *testing.T) {
			require.Equal(t, tt.want, prometheusName(tt.in))
		})
	}
}

func TestFileInstruments(t *testing.T) {
	src := `package p
func f(m metric.Meter, prefix string) {
	m.Int64Counter("a_records", metric.WithUnit("{record}"), metric.WithDescription("d"))
	meter.Float64Histogram("b_duration", metric.WithDescription("d"), metric.WithUnit("s"))
	m.Int64Counter(prefix + "dynamic")
	m.Int64ObservableGauge("c_bytes", metric.WithUnit("By"))
	other.Something("not_an_instrument")
}`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, 0)
	require.NoError(t, err)
	got := fileInstruments(fset, f)
	require.Len(t, got, 3)
	require.Equal(t, []string{"a_records_total", "b_duration_seconds", "c_bytes"},
		[]string{prometheusName(got[0]), prometheusName(got[1]), prometheusName(got[2])})
}
