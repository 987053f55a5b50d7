// Package gobench parses the output of `go test -bench` and summarises
// repeated runs (-count N) of each benchmark by the median of every metric.
package gobench

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Result is one line of benchmark output: a benchmark name, the iteration
// count and each reported metric by unit (ns/op, MB/s, records/s, ...).
type Result struct {
	// Name is the full benchmark name without the -GOMAXPROCS suffix.
	Name string
	// Procs is the GOMAXPROCS suffix, 1 when absent.
	Procs int
	// Iterations is b.N.
	Iterations int64
	// Metrics maps each unit to its value.
	Metrics map[string]float64
}

// Parse reads benchmark output and returns every result line in order.
// Other lines (goos, pkg, PASS, logs) are skipped. A name printed on its own
// line, as happens when a benchmark logs before its figures, is joined with
// the figures that follow it.
func Parse(r io.Reader) ([]Result, error) {
	var out []Result
	pending := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for line := 1; sc.Scan(); line++ {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) == 0:
			continue
		case strings.HasPrefix(fields[0], "Benchmark") && len(fields) == 1:
			pending = fields[0]
			continue
		case strings.HasPrefix(fields[0], "Benchmark"):
			pending = ""
		case pending != "" && isInteger(fields[0]):
			fields = append([]string{pending}, fields...)
			pending = ""
		default:
			continue
		}
		res, err := parseFields(fields)
		if err != nil {
			return nil, fmt.Errorf("gobench: line %d: %w", line, err)
		}
		out = append(out, res)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("gobench: read: %w", err)
	}
	return out, nil
}

func isInteger(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

// parseFields decodes "Name-P N v1 unit1 v2 unit2 ...".
func parseFields(f []string) (Result, error) {
	if len(f) < 4 || len(f)%2 != 0 {
		return Result{}, fmt.Errorf("malformed result %q", strings.Join(f, " "))
	}
	res := Result{Procs: 1, Metrics: make(map[string]float64, (len(f)-2)/2)}
	res.Name = f[0]
	if i := strings.LastIndexByte(f[0], '-'); i > 0 {
		if p, err := strconv.Atoi(f[0][i+1:]); err == nil {
			res.Name, res.Procs = f[0][:i], p
		}
	}
	n, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return Result{}, fmt.Errorf("iterations %q: %w", f[1], err)
	}
	res.Iterations = n
	for i := 2; i < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return Result{}, fmt.Errorf("metric %q of %s: %w", f[i+1], res.Name, err)
		}
		res.Metrics[f[i+1]] = v
	}
	return res, nil
}

// Summary is the median of every metric over the runs of one benchmark.
type Summary struct {
	Name string
	// Runs is how many result lines the medians cover.
	Runs int
	// Median maps each unit to the median of its values.
	Median map[string]float64
}

// Get returns the median of unit, NaN if the benchmark did not report it.
func (s Summary) Get(unit string) float64 {
	if v, ok := s.Median[unit]; ok {
		return v
	}
	return math.NaN()
}

// Summarize groups results by name, in order of first appearance, and
// takes the median of each metric.
func Summarize(results []Result) []Summary {
	var order []string
	values := map[string]map[string][]float64{}
	runs := map[string]int{}
	for _, r := range results {
		m, ok := values[r.Name]
		if !ok {
			m = map[string][]float64{}
			values[r.Name] = m
			order = append(order, r.Name)
		}
		runs[r.Name]++
		for unit, v := range r.Metrics {
			m[unit] = append(m[unit], v)
		}
	}
	out := make([]Summary, 0, len(order))
	for _, name := range order {
		s := Summary{Name: name, Runs: runs[name], Median: map[string]float64{}}
		for unit, vs := range values[name] {
			s.Median[unit] = median(vs)
		}
		out = append(out, s)
	}
	return out
}

// Find returns the summary named name.
func Find(sums []Summary, name string) (Summary, bool) {
	i := slices.IndexFunc(sums, func(s Summary) bool { return s.Name == name })
	if i < 0 {
		return Summary{}, false
	}
	return sums[i], true
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
