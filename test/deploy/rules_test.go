package deploy

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAlertRules checks the conventions every rule follows: a severity the
// routing understands, a summary and a description, and scrape job names
// the deployments define.
func TestAlertRules(t *testing.T) {
	root := repoRoot(t)
	groups := loadRules(t, root)
	require.NotEmpty(t, groups.Groups)
	jobRef := regexp.MustCompile(`job\s*=~?\s*"([^"]+)"`)
	seen := map[string]bool{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			require.NotEmpty(t, r.Alert, "group %s: only alerting rules are expected", g.Name)
			require.False(t, seen[r.Alert], "alert %s defined twice", r.Alert)
			seen[r.Alert] = true
			require.Contains(t, []string{"warning", "critical"}, r.Labels["severity"], "alert %s severity", r.Alert)
			require.NotEmpty(t, r.Annotations["summary"], "alert %s summary", r.Alert)
			require.NotEmpty(t, r.Annotations["description"], "alert %s description", r.Alert)
			for _, m := range jobRef.FindAllStringSubmatch(r.Expr, -1) {
				require.Contains(t, []string{"fleetrelay-gateway", "fleetrelay-forwarder"}, m[1], "alert %s job", r.Alert)
			}
		}
	}
	for _, want := range []string{
		"FleetrelayGatewayDown", "FleetrelayNoVehiclesConnected", "FleetrelayWALDiskBudgetNear",
		"FleetrelaySinkLagGrowing", "FleetrelaySinkFailing", "FleetrelayDeadLetters",
	} {
		require.True(t, seen[want], "missing alert %s", want)
	}
}

// TestDashboardStructure checks what Grafana needs to import the
// dashboard: a uid, unique panel ids, panels inside the 24-column grid, and
// a query on every non-row panel.
func TestDashboardStructure(t *testing.T) {
	d := loadDashboard(t, repoRoot(t))
	require.NotEmpty(t, d.UID)
	require.NotEmpty(t, d.Title)
	ids := map[int]bool{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			require.False(t, ids[p.ID], "panel id %d used twice", p.ID)
			ids[p.ID] = true
			require.NotEmpty(t, p.Title, "panel %d has no title", p.ID)
			require.LessOrEqual(t, p.GridPos.X+p.GridPos.W, 24, "panel %q is wider than the grid", p.Title)
			require.Positive(t, p.GridPos.W, p.Title)
			require.Positive(t, p.GridPos.H, p.Title)
			if p.Type != "row" {
				require.NotEmpty(t, p.Targets, "panel %q has no query", p.Title)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	require.GreaterOrEqual(t, len(ids), 20)
}
