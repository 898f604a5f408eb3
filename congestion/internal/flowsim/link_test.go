package flowsim

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// The issue's link: 10 Mbit/s, 40 ms RTT, a 1-BDP (50 kB) drop-tail queue.
var tenMbit = Link{Bandwidth: 10_000_000, RTT: 40 * time.Millisecond, QueueBytes: 50_000}

func run(t *testing.T, sc Scenario) Result {
	t.Helper()
	var res Result
	synctest.Test(t, func(t *testing.T) {
		var err error
		res, err = Run(sc)
		require.NoError(t, err)
	})
	return res
}

func TestSingleFlowUtilisation(t *testing.T) {
	for _, cc := range []string{"reno", "cubic", "bbr"} {
		t.Run(cc, func(t *testing.T) {
			const d = 30 * time.Second
			res := run(t, Scenario{Link: tenMbit, Flows: []Flow{{Name: cc, Controller: cc}}, Duration: d, Seed: 1})
			f := res.Flows[0]
			util := f.Goodput(time.Second, d) / 1e7
			t.Logf("%s: goodput %.2f Mbit/s (utilisation %.1f%%), queue loss %.2f%%, declared loss %.2f%%, rtt mean %v max %v, rtos %d",
				cc, f.Goodput(time.Second, d)/1e6, 100*util, 100*res.QueueLossRate(), 100*f.LossRate(), f.MeanRTT, f.MaxRTT, f.Sender.RTOs)
			require.GreaterOrEqual(t, util, 0.90)
			require.Less(t, res.QueueLossRate(), 0.02)
		})
	}
}

func ExampleJain() {
	fmt.Printf("%.2f %.2f\n", Jain([]float64{5, 5}), Jain([]float64{10, 0}))
	// Output: 1.00 0.50
}
