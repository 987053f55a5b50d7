package deploy

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"
)

// Paths of the monitoring artifacts, relative to the repository root.
const (
	dashboardPath = "deployments/grafana/fleetrelay.json"
	alertsPath    = "deployments/prometheus/alerts.yml"
)

// query is one PromQL expression and where it came from.
type query struct {
	where string
	expr  string
}

var promql = parser.NewParser(parser.Options{})

// grafanaVars replaces Grafana's template variables outside label values by
// PromQL that parses: interval variables by a duration, other bare
// variables (used as numbers) by 1. Variables inside quoted label values
// stay as they are: they are strings to the parser.
var (
	grafanaInterval = regexp.MustCompile(`\$__(rate_interval|interval|range)\b`)
	grafanaBareVar  = regexp.MustCompile(`\$\{?[A-Za-z_][A-Za-z0-9_]*\}?`)
	labelValuesCall = regexp.MustCompile(`^label_values\(\s*([^,]+?)\s*,\s*[A-Za-z_][A-Za-z0-9_]*\s*\)$`)
)

func substituteGrafana(expr string) string {
	expr = grafanaInterval.ReplaceAllString(expr, "5m")
	var b strings.Builder
	inQuote := false
	for _, part := range strings.SplitAfter(expr, `"`) {
		if inQuote {
			b.WriteString(part)
		} else {
			b.WriteString(grafanaBareVar.ReplaceAllString(part, "1"))
		}
		// A part ending in an unescaped quote toggles the state.
		if strings.HasSuffix(part, `"`) && !strings.HasSuffix(part, `\"`) {
			inQuote = !inQuote
		}
	}
	return b.String()
}

// dashboard is the part of a Grafana dashboard model that holds queries.
type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Definition string          `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID      int     `json:"id"`
	Type    string  `json:"type"`
	Title   string  `json:"title"`
	Panels  []panel `json:"panels"`
	Targets []struct {
		Expr  string `json:"expr"`
		RefID string `json:"refId"`
	} `json:"targets"`
	GridPos struct {
		H, W, X, Y int
	} `json:"gridPos"`
}

// dashboardQueries returns every PromQL expression of the dashboard: panel
// targets (rows included) and query variables (label_values(metric, label)
// yields its metric selector).
func dashboardQueries(t *testing.T, d dashboard) []query {
	t.Helper()
	var out []query
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				out = append(out, query{where: fmt.Sprintf("panel %q target %s", p.Title, tg.RefID), expr: substituteGrafana(tg.Expr)})
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q := v.Definition
		var obj struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &obj); err == nil && obj.Query != "" {
			q = obj.Query
		}
		m := labelValuesCall.FindStringSubmatch(strings.TrimSpace(q))
		require.NotNil(t, m, "variable %s: only label_values(metric, label) queries are checked, got %q", v.Name, q)
		out = append(out, query{where: "variable " + v.Name, expr: m[1]})
	}
	return out
}

func loadDashboard(t *testing.T, root string) dashboard {
	t.Helper()
	var d dashboard
	require.NoError(t, json.Unmarshal(readFile(t, root, dashboardPath), &d))
	return d
}

// loadRules loads the alert rules as Prometheus does: unknown fields,
// invalid durations, templates and PromQL are errors.
func loadRules(t *testing.T, root string) *rulefmt.RuleGroups {
	t.Helper()
	groups, errs := rulefmt.ParseFile(filepath.Join(root, alertsPath), false, model.UTF8Validation, promql, slog.New(slog.DiscardHandler))
	require.Empty(t, errs, "%s does not load", alertsPath)
	return groups
}

func ruleQueries(groups *rulefmt.RuleGroups) []query {
	var out []query
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			out = append(out, query{where: fmt.Sprintf("group %s alert %s", g.Name, r.Alert+r.Record), expr: r.Expr})
		}
	}
	return out
}

// metricNames parses expr and returns the metric name of every selector.
// A selector without a metric name is an error: it cannot be checked.
func metricNames(expr string) ([]string, error) {
	ast, err := promql.ParseExpr(expr)
	if err != nil {
		return nil, fmt.Errorf("parse %q: %w", expr, err)
	}
	seen := map[string]bool{}
	var missing error
	parser.Inspect(ast, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			if vs.Name == "" {
				missing = fmt.Errorf("selector %s has no metric name", vs)
			}
			seen[vs.Name] = true
		}
		return nil
	})
	if missing != nil {
		return nil, missing
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

func TestMetricNames(t *testing.T) {
	tests := []struct {
		expr    string
		want    []string
		wantErr bool
	}{
		{expr: "up", want: []string{"up"}},
		{expr: `sum by (sink) (rate(a_total{sink=~"$sink"}[5m])) / sum(rate(b_total[5m])) > 0.05`, want: []string{"a_total", "b_total"}},
		{expr: `histogram_quantile(0.99, sum by (le) (rate(x_seconds_bucket[5m])))`, want: []string{"x_seconds_bucket"}},
		{expr: `predict_linear(sum(d)[1h:1m], 3600) > 5 unless absent(e)`, want: []string{"d", "e"}},
		{expr: `vector(1)`, want: []string{}},
		{expr: `{job="x"}`, wantErr: true},
		{expr: `sum(rate(x[5m])`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, err := metricNames(tt.expr)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestSubstituteGrafana(t *testing.T) {
	tests := []struct{ in, want string }{
		{`rate(x{instance=~"$instance"}[$__rate_interval])`, `rate(x{instance=~"$instance"}[5m])`},
		{`sum(x) / $disk_budget`, `sum(x) / 1`},
		{`vector(${disk_budget})`, `vector(1)`},
		{`increase(x{a="q\"$v"}[$__range])`, `increase(x{a="q\"$v"}[5m])`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			require.Equal(t, tt.want, substituteGrafana(tt.in))
		})
	}
}
