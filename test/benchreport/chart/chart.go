// Package chart draws a line chart as a self-contained SVG document: one x
// axis, a left and an optional right y axis, each series on one of them,
// grid lines at round tick values and a legend.
package chart

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Axis selects the y axis a series is drawn against.
type Axis int

// The y axes.
const (
	Left Axis = iota
	Right
)

// Point is one data point.
type Point struct{ X, Y float64 }

// Series is one line.
type Series struct {
	Name   string
	Axis   Axis
	Color  string // any SVG colour
	Dashed bool
	Points []Point
}

// Chart is a line chart.
type Chart struct {
	Title                  string
	XLabel                 string
	LeftLabel, RightLabel  string
	Width, Height          int // pixels; defaults 800 × 450
	Series                 []Series
	marginL, marginR       float64
	marginT, marginB       float64
	plotW, plotH           float64
	xTicks, lTicks, rTicks []float64
}

// WriteSVG renders the chart. Series without points are listed in the
// legend but not drawn; a chart without any point is an error.
func (c Chart) WriteSVG(w io.Writer) error {
	if c.Width == 0 {
		c.Width = 800
	}
	if c.Height == 0 {
		c.Height = 450
	}
	c.marginL, c.marginR, c.marginT, c.marginB = 70, 80, 40, 90
	c.plotW = float64(c.Width) - c.marginL - c.marginR
	c.plotH = float64(c.Height) - c.marginT - c.marginB
	xmax, lmax, rmax, any := c.extent()
	if !any {
		return fmt.Errorf("chart %q: no points", c.Title)
	}
	c.xTicks, c.lTicks, c.rTicks = Ticks(xmax, 6), Ticks(lmax, 5), Ticks(rmax, 5)

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		c.Width, c.Height, c.Width, c.Height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	text(&b, float64(c.Width)/2, 22, "middle", 15, c.Title, "")
	c.axes(&b)
	for _, s := range c.Series {
		c.line(&b, s)
	}
	c.legend(&b)
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("chart: write: %w", err)
	}
	return nil
}

// extent returns the largest x and the largest y of each axis.
func (c Chart) extent() (xmax, lmax, rmax float64, any bool) {
	for _, s := range c.Series {
		for _, p := range s.Points {
			if !finite(p.X) || !finite(p.Y) {
				continue
			}
			any = true
			xmax = math.Max(xmax, p.X)
			if s.Axis == Right {
				rmax = math.Max(rmax, p.Y)
			} else {
				lmax = math.Max(lmax, p.Y)
			}
		}
	}
	return xmax, lmax, rmax, any
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func (c Chart) hasRight() bool {
	for _, s := range c.Series {
		if s.Axis == Right {
			return true
		}
	}
	return false
}

func (c Chart) px(x float64) float64 { return c.marginL + c.plotW*x/last(c.xTicks) }

func (c Chart) py(y float64, a Axis) float64 {
	top := last(c.lTicks)
	if a == Right {
		top = last(c.rTicks)
	}
	return c.marginT + c.plotH*(1-y/top)
}

func last(v []float64) float64 { return v[len(v)-1] }

func (c Chart) axes(b *strings.Builder) {
	x0, x1 := c.marginL, c.marginL+c.plotW
	y0, y1 := c.marginT+c.plotH, c.marginT
	for _, t := range c.lTicks {
		y := c.py(t, Left)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", x0, y, x1, y)
		text(b, x0-6, y+4, "end", 11, Format(t), "")
	}
	for _, t := range c.xTicks {
		x := c.px(t)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/>`+"\n", x, y0, x, y1)
		text(b, x, y0+16, "middle", 11, Format(t), "")
	}
	fmt.Fprintf(b, `<polyline points="%.1f,%.1f %.1f,%.1f %.1f,%.1f" fill="none" stroke="#333"/>`+"\n", x0, y1, x0, y0, x1, y0)
	text(b, (x0+x1)/2, y0+36, "middle", 12, c.XLabel, "")
	text(b, 18, (y0+y1)/2, "middle", 12, c.LeftLabel, fmt.Sprintf("rotate(-90 18 %.1f)", (y0+y1)/2))
	if !c.hasRight() {
		return
	}
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333"/>`+"\n", x1, y0, x1, y1)
	for _, t := range c.rTicks {
		text(b, x1+6, c.py(t, Right)+4, "start", 11, Format(t), "")
	}
	xr := float64(c.Width) - 14
	text(b, xr, (y0+y1)/2, "middle", 12, c.RightLabel, fmt.Sprintf("rotate(90 %.1f %.1f)", xr, (y0+y1)/2))
}

func (c Chart) line(b *strings.Builder, s Series) {
	var pts []string
	for _, p := range s.Points {
		if finite(p.X) && finite(p.Y) {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", c.px(p.X), c.py(p.Y, s.Axis)))
		}
	}
	if len(pts) == 0 {
		return
	}
	dash := ""
	if s.Dashed {
		dash = ` stroke-dasharray="6 4"`
	}
	fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", strings.Join(pts, " "), attr(s.Color), dash)
	for _, p := range pts {
		xy := strings.SplitN(p, ",", 2)
		fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="3" fill="%s"/>`+"\n", xy[0], xy[1], attr(s.Color))
	}
}

func (c Chart) legend(b *strings.Builder) {
	y := float64(c.Height) - 22
	x := c.marginL
	for _, s := range c.Series {
		dash := ""
		if s.Dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"%s/>`+"\n", x, y-4, x+24, y-4, attr(s.Color), dash)
		name := s.Name
		if c.hasRight() {
			name += map[Axis]string{Left: " (left)", Right: " (right)"}[s.Axis]
		}
		text(b, x+30, y, "start", 11, name, "")
		x += 40 + 6.5*float64(len(name))
	}
}

// text writes an escaped SVG text element.
func text(b *strings.Builder, x, y float64, anchor string, size int, s, transform string) {
	if transform != "" {
		transform = fmt.Sprintf(` transform="%s"`, transform)
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="%s" font-size="%d"%s>%s</text>`+"\n", x, y, anchor, size, transform, escape(s))
}

func escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // writes to a strings.Builder cannot fail
	return b.String()
}

func attr(s string) string {
	if s == "" {
		return "black"
	}
	return escape(s)
}

// Ticks returns round tick values 0, step, 2·step, ... up to the first
// value at or above max, with about n intervals; step is 1, 2 or 5 times a
// power of ten. A max of zero or less gives [0 1].
func Ticks(max float64, n int) []float64 {
	if !(max > 0) || n < 1 {
		return []float64{0, 1}
	}
	raw := max / float64(n)
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	step := pow * 10
	for _, m := range []float64{1, 2, 5} {
		if m*pow >= raw {
			step = m * pow
			break
		}
	}
	var out []float64
	for i := 0; ; i++ {
		v := float64(i) * step
		out = append(out, roundTo(v, step))
		if v >= max*(1-1e-9) {
			return out
		}
	}
}

// roundTo removes floating-point noise from a multiple of step.
func roundTo(v, step float64) float64 {
	digits := max(0, -int(math.Floor(math.Log10(step))))
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', digits, 64), 64)
	return r
}

// Format prints a tick value compactly: 1500 → "1.5k", 20000 → "20k",
// 0.5 → "0.5".
func Format(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case a >= 1e3:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
