package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// unit says how a metric's values print.
type unit int

const (
	unitSeconds   unit = iota // wall or CPU time, in seconds
	unitMB                    // memory, in MB (values in bytes)
	unitCount                 // requests, goroutines
	unitPerSecond             // requests per second
)

func (u unit) format(v float64) string {
	switch u {
	case unitSeconds:
		if v < 1 {
			return fmt.Sprintf("%.0f ms", v*1000)
		}
		return fmt.Sprintf("%.2f s", v)
	case unitMB:
		return fmt.Sprintf("%.0f MB", v/(1<<20))
	case unitPerSecond:
		return fmt.Sprintf("%.1f /s", v)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

// aggregate is how a row's repetitions become one number.
type aggregate int

const (
	aggMedian aggregate = iota
	aggMean
	aggMax
)

func (a aggregate) of(vs []float64) float64 {
	if len(vs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	switch a {
	case aggMax:
		return s[len(s)-1]
	case aggMean:
		sum := 0.0
		for _, v := range s {
			sum += v
		}
		return sum / float64(len(s))
	}
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func (a aggregate) String() string {
	switch a {
	case aggMax:
		return "max"
	case aggMean:
		return "mean"
	}
	return "median"
}

// row is one metric of one scenario, measured on both systems: every
// repetition's value, in the order measured.
type row struct {
	scenario string
	metric   string
	unit     unit
	agg      aggregate
	peer     []float64 // consul-template; none when it is not measured
	ours     []float64 // tmplrun
	floor    string
	// peerNote replaces the peer's value when it has none.
	peerNote string
}

// ratio is tmplrun's value over consul-template's, NaN without both.
func (r row) ratio() float64 {
	p, o := r.agg.of(r.peer), r.agg.of(r.ours)
	if math.IsNaN(p) || math.IsNaN(o) || p == 0 {
		return math.NaN()
	}
	return o / p
}

func (r row) cell(vs []float64, note string) string {
	if len(vs) == 0 {
		if note != "" {
			return note
		}
		return "—"
	}
	return r.unit.format(r.agg.of(vs))
}

// writeTable prints the rows as a markdown table, then every
// repetition's value.
func writeTable(w io.Writer, rows []row) {
	fmt.Fprintln(w, "| scenario | metric | consul-template | tmplrun | ratio | floor |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---|")
	for _, r := range rows {
		ratio := "—"
		if q := r.ratio(); !math.IsNaN(q) {
			ratio = fmt.Sprintf("%.2f", q)
		}
		metric := r.metric
		if r.agg != aggMedian {
			metric += " (" + r.agg.String() + ")"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n",
			r.scenario, metric, r.cell(r.peer, r.peerNote), r.cell(r.ours, ""), ratio, r.floor)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Every repetition (consul-template | tmplrun), in the order measured:")
	fmt.Fprintln(w)
	for i, r := range rows {
		if i > 0 && rows[i-1].scenario == r.scenario && rows[i-1].metric == r.metric {
			continue // the same values, another aggregate
		}
		fmt.Fprintf(w, "- %s, %s: %s | %s\n", r.scenario, r.metric, values(r.unit, r.peer), values(r.unit, r.ours))
	}
}

func values(u unit, vs []float64) string {
	if len(vs) == 0 {
		return "—"
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = u.format(v)
	}
	return strings.Join(out, ", ")
}
