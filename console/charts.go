package console

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/forcesync/forcesync"
)

// chart is an SVG drawn on the server: no script, readable by screen
// readers through its title, description and the table beside it.
type chart struct {
	SVG     template.HTML
	Legend  []legendItem
	Summary string
}

type legendItem struct{ Name, Color string }

// Colours with at least 3:1 contrast on white, told apart also by order.
var outcomeColors = []legendItem{
	{"created", "#1b7f3b"}, {"updated", "#1f5fbf"}, {"unchanged", "#6b6b6b"},
	{"skipped", "#8a6d00"}, {"deleted", "#6a3d9a"}, {"failed", "#b3261e"},
}

const (
	chartW, chartH = 720, 220
	padL, padB     = 48, 28
	padT, padR     = 12, 12
)

// recordsChart draws records per minute by outcome over the last hour, as
// stacked bars, from the runs that finished in that hour.
func recordsChart(runs []forcesync.Run, now time.Time) chart {
	const minutes = 60
	end := now.Truncate(time.Minute).Add(time.Minute)
	start := end.Add(-minutes * time.Minute)
	var bins [minutes][6]int
	total := [6]int{}
	for _, r := range runs {
		t := r.Finished
		if t.IsZero() {
			t = r.Started
		}
		if t.Before(start) || !t.Before(end) {
			continue
		}
		i := int(t.Sub(start) / time.Minute)
		v := [6]int{r.Created, r.Updated, r.Unchanged, r.Skipped, r.Deleted, r.Failed}
		for k := range v {
			bins[i][k] += v[k]
			total[k] += v[k]
		}
	}
	peak := 1
	for _, b := range bins {
		s := 0
		for _, v := range b {
			s += v
		}
		peak = max(peak, s)
	}
	peak = niceCeil(peak)
	var sb strings.Builder
	plotW, plotH := float64(chartW-padL-padR), float64(chartH-padT-padB)
	fmt.Fprintf(&sb, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="rc-title rc-desc" xmlns="http://www.w3.org/2000/svg">`, chartW, chartH)
	fmt.Fprintf(&sb, `<title id="rc-title">Records per minute by outcome, last 60 minutes</title>`)
	parts := []string{}
	for k, it := range outcomeColors {
		parts = append(parts, fmt.Sprintf("%s %d", it.Name, total[k]))
	}
	summary := "In the last hour: " + strings.Join(parts, ", ") + "."
	fmt.Fprintf(&sb, `<desc id="rc-desc">%s</desc>`, template.HTMLEscapeString(summary))
	axes(&sb, peak, plotW, plotH)
	bw := plotW / minutes
	for i, b := range bins {
		y := float64(padT) + plotH
		for k, v := range b {
			if v == 0 {
				continue
			}
			h := plotH * float64(v) / float64(peak)
			y -= h
			fmt.Fprintf(&sb, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %d</title></rect>`,
				float64(padL)+float64(i)*bw+0.5, y, bw-1, h, outcomeColors[k].Color,
				start.Add(time.Duration(i)*time.Minute).UTC().Format("15:04"), outcomeColors[k].Name, v)
		}
	}
	for _, m := range []int{0, 15, 30, 45, 60} {
		x := float64(padL) + float64(m)*bw
		fmt.Fprintf(&sb, `<text x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="#333">%s</text>`, x, chartH-8,
			start.Add(time.Duration(m)*time.Minute).UTC().Format("15:04"))
	}
	sb.WriteString(`</svg>`)
	return chart{SVG: template.HTML(sb.String()), Legend: outcomeColors, Summary: summary}
}

// apiChart is one connection's API calls over 24 hours against its budget.
type apiChart struct {
	Connection string
	Chart      chart
}

// apiCallsChart draws forcesync's API calls per hour over the last 24
// hours (from the runs), with the hourly pace that would spend exactly the
// budget (the org's daily allocation times the share) as a line.
func apiCallsChart(u usageRow, runs []forcesync.Run, now time.Time) apiChart {
	const hours = 24
	end := now.Truncate(time.Hour).Add(time.Hour)
	start := end.Add(-hours * time.Hour)
	var bins [hours]int
	sum := 0
	for _, r := range runs {
		t := r.Finished
		if t.IsZero() {
			t = r.Started
		}
		if t.Before(start) || !t.Before(end) {
			continue
		}
		bins[int(t.Sub(start)/time.Hour)] += r.APICalls
		sum += r.APICalls
	}
	pace := 0
	if u.Budget > 0 {
		pace = (u.Budget + hours - 1) / hours
	}
	peak := max(1, pace)
	for _, v := range bins {
		peak = max(peak, v)
	}
	peak = niceCeil(peak)
	plotW, plotH := float64(chartW-padL-padR), float64(chartH-padT-padB)
	id := "api-" + safeID(u.Connection)
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-title %s-desc" xmlns="http://www.w3.org/2000/svg">`, chartW, chartH, id, id)
	fmt.Fprintf(&sb, `<title id="%s-title">API calls per hour, last 24 hours, connection %s</title>`, id, template.HTMLEscapeString(u.Connection))
	summary := fmt.Sprintf("forcesync made %d API calls in the last 24 hours.", sum)
	if u.Known {
		summary += fmt.Sprintf(" The org reports %d of %d used (all clients); forcesync's budget is %d (%.0f%%), %d an hour.",
			u.Used, u.Max, u.Budget, u.Share*100, pace)
	} else {
		summary += " The org's allocation is not known yet (no call has reported it)."
	}
	fmt.Fprintf(&sb, `<desc id="%s-desc">%s</desc>`, id, template.HTMLEscapeString(summary))
	axes(&sb, peak, plotW, plotH)
	bw := plotW / hours
	for i, v := range bins {
		if v == 0 {
			continue
		}
		h := plotH * float64(v) / float64(peak)
		fmt.Fprintf(&sb, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#1f5fbf"><title>%s: %d calls</title></rect>`,
			float64(padL)+float64(i)*bw+1, float64(padT)+plotH-h, bw-2, h, start.Add(time.Duration(i)*time.Hour).UTC().Format("15:04"), v)
	}
	if pace > 0 {
		y := float64(padT) + plotH - plotH*float64(pace)/float64(peak)
		fmt.Fprintf(&sb, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#b3261e" stroke-width="2" stroke-dasharray="6 4"/>`, padL, chartW-padR, y, y)
		fmt.Fprintf(&sb, `<text x="%d" y="%.1f" font-size="11" text-anchor="end" fill="#b3261e">budget pace %d/h</text>`, chartW-padR, y-4, pace)
	}
	for _, h := range []int{0, 6, 12, 18, 24} {
		fmt.Fprintf(&sb, `<text x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="#333">%s</text>`,
			float64(padL)+float64(h)*bw, chartH-8, start.Add(time.Duration(h)*time.Hour).UTC().Format("15:04"))
	}
	sb.WriteString(`</svg>`)
	return apiChart{Connection: u.Connection, Chart: chart{SVG: template.HTML(sb.String()), Summary: summary,
		Legend: []legendItem{{"API calls", "#1f5fbf"}, {"budget pace", "#b3261e"}}}}
}

// axes draws the y axis with four gridlines up to peak.
func axes(sb *strings.Builder, peak int, plotW, plotH float64) {
	for i := 0; i <= 4; i++ {
		v := peak * i / 4
		y := float64(padT) + plotH - plotH*float64(i)/4
		fmt.Fprintf(sb, `<line x1="%d" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#d0d0d0" stroke-width="1"/>`, padL, float64(padL)+plotW, y, y)
		fmt.Fprintf(sb, `<text x="%d" y="%.1f" font-size="11" text-anchor="end" fill="#333">%d</text>`, padL-6, y+4, v)
	}
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten.
func niceCeil(n int) int {
	p := 1
	for {
		for _, m := range []int{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
		p *= 10
	}
}

func safeID(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}
