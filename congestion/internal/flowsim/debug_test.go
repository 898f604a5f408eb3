package flowsim

import (
	"os"
	"testing"
	"time"

	"github.com/skiffnet/skiff/congestion"
)

func TestDebugTwo(t *testing.T) {
	a, b := os.Getenv("A"), os.Getenv("B")
	if a == "" {
		t.Skip()
	}
	last := map[int]string{}
	res := run(t, Scenario{Link: tenMbit, Duration: 60 * time.Second, Seed: 7, Flows: []Flow{
		{Name: a, Controller: a}, {Name: b, Controller: b, Start: 5 * time.Second},
	}, Tracer: func(f int, e congestion.Event) {
		if os.Getenv("V") != "" && last[f] != e.State {
			last[f] = e.State
			t.Logf("%v flow %d %s cwnd %d rate %.2f", e.Time.Sub(time.Unix(946684800, 0)), f, e.State, e.CWND, float64(e.PacingRate)/1e6)
		}
	}})
	for i := range 60 {
		t.Logf("%2d: %.2f %.2f", i, float64(res.Flows[0].Bins[i])*8/1e6, float64(res.Flows[1].Bins[i])*8/1e6)
	}
}
