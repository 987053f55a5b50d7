// Package prom reads the Prometheus text exposition format far enough for
// a benchmark to scrape gauges, counters and histograms from a running
// gateway or forwarder.
package prom

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Sample is one exposed value.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// Samples is a scrape.
type Samples []Sample

// Parse reads a text exposition; comments and blank lines are skipped.
func Parse(r io.Reader) (Samples, error) {
	var out Samples
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		s, err := parseLine(text)
		if err != nil {
			return nil, fmt.Errorf("prom: line %d: %w", line, err)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("prom: read: %w", err)
	}
	return out, nil
}

// parseLine decodes `name{k="v",...} value [timestamp]`.
func parseLine(text string) (Sample, error) {
	s := Sample{Labels: map[string]string{}}
	rest := text
	if i := strings.IndexAny(text, "{ "); i < 0 {
		return s, fmt.Errorf("no value in %q", text)
	} else if text[i] == '{' {
		s.Name = text[:i]
		end, err := parseLabels(text[i+1:], s.Labels)
		if err != nil {
			return s, fmt.Errorf("%s: %w", s.Name, err)
		}
		rest = text[i+1+end:]
	} else {
		s.Name, rest = text[:i], text[i:]
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return s, fmt.Errorf("%s: no value", s.Name)
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return s, fmt.Errorf("%s: value: %w", s.Name, err)
	}
	s.Value = v
	return s, nil
}

// parseLabels reads `k="v",...}` into m and returns the offset just past
// the closing brace.
func parseLabels(text string, m map[string]string) (int, error) {
	i := 0
	for {
		for i < len(text) && (text[i] == ',' || text[i] == ' ') {
			i++
		}
		if i < len(text) && text[i] == '}' {
			return i + 1, nil
		}
		eq := strings.IndexByte(text[i:], '=')
		if eq < 0 || i+eq+1 >= len(text) || text[i+eq+1] != '"' {
			return 0, fmt.Errorf("malformed labels %q", text)
		}
		key := text[i : i+eq]
		i += eq + 2
		var val strings.Builder
		for ; i < len(text) && text[i] != '"'; i++ {
			if text[i] == '\\' && i+1 < len(text) {
				i++
				switch text[i] {
				case 'n':
					val.WriteByte('\n')
				default:
					val.WriteByte(text[i])
				}
				continue
			}
			val.WriteByte(text[i])
		}
		if i >= len(text) {
			return 0, fmt.Errorf("unterminated label value in %q", text)
		}
		m[key] = val.String()
		i++
	}
}

// Sum adds the values of every sample named name whose labels include
// match (nil matches all); found is false when none matched.
func (ss Samples) Sum(name string, match map[string]string) (sum float64, found bool) {
	for _, s := range ss {
		if s.Name == name && hasLabels(s.Labels, match) {
			sum += s.Value
			found = true
		}
	}
	return sum, found
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// bucket is a cumulative histogram bucket.
type bucket struct {
	le    float64
	count float64
}

// Quantile estimates the q-quantile (0..1) of histogram name (without the
// _bucket suffix) from its cumulative buckets, summed over every series
// whose labels include match, by linear interpolation inside the bucket, as
// Prometheus' histogram_quantile does. It returns NaN when the histogram is
// missing or empty; a quantile in the +Inf bucket returns the highest finite
// bound.
func (ss Samples) Quantile(name string, q float64, match map[string]string) float64 {
	byLE := map[float64]float64{}
	for _, s := range ss {
		if s.Name != name+"_bucket" || !hasLabels(s.Labels, match) {
			continue
		}
		le, err := strconv.ParseFloat(s.Labels["le"], 64)
		if err != nil {
			continue
		}
		byLE[le] += s.Value
	}
	bs := make([]bucket, 0, len(byLE))
	for le, c := range byLE {
		bs = append(bs, bucket{le: le, count: c})
	}
	slices.SortFunc(bs, func(a, b bucket) int { return cmpFloat(a.le, b.le) })
	if len(bs) == 0 || bs[len(bs)-1].count == 0 {
		return math.NaN()
	}
	rank := q * bs[len(bs)-1].count
	lower, below := 0.0, 0.0
	for i, b := range bs {
		if b.count >= rank {
			if math.IsInf(b.le, 1) {
				if i == 0 {
					return math.NaN()
				}
				return bs[i-1].le
			}
			if b.count == below {
				return b.le
			}
			return lower + (b.le-lower)*(rank-below)/(b.count-below)
		}
		lower, below = b.le, b.count
	}
	return bs[len(bs)-1].le
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// key identifies a series: its name and labels.
func (s Sample) key() string {
	keys := make([]string, 0, len(s.Labels))
	for k := range s.Labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(s.Name)
	for _, k := range keys {
		fmt.Fprintf(&b, "\x00%s=%s", k, s.Labels[k])
	}
	return b.String()
}

// Sub returns after minus before for every series of after (a series
// missing from before counts from zero): the counters and histograms of a
// period between two scrapes. Gauges come out as differences too.
func Sub(after, before Samples) Samples {
	prev := make(map[string]float64, len(before))
	for _, s := range before {
		prev[s.key()] = s.Value
	}
	out := make(Samples, 0, len(after))
	for _, s := range after {
		s.Value -= prev[s.key()]
		out = append(out, s)
	}
	return out
}

// String renders the sample as a line of the text exposition format, labels
// sorted by name.
func (s Sample) String() string {
	keys := make([]string, 0, len(s.Labels))
	for k := range s.Labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(s.Name)
	if len(keys) > 0 {
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%s=%s", k, strconv.Quote(s.Labels[k]))
		}
		b.WriteByte('}')
	}
	b.WriteByte(' ')
	b.WriteString(strconv.FormatFloat(s.Value, 'g', -1, 64))
	return b.String()
}
