package rudp

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func nacked(a *AckFrame) []uint32 {
	var out []uint32
	for i := 0; i < a.NumNacks; i++ {
		for k := uint16(0); k < a.Nacks[i].Count; k++ {
			out = append(out, a.Nacks[i].First+uint32(k))
		}
	}
	return out
}

func TestNackList(t *testing.T) {
	t0 := time.Unix(100, 0)
	ms := time.Millisecond
	const reorder, rto = 5 * time.Millisecond, 200 * time.Millisecond
	fill := func(l *NackList, now time.Time) []uint32 {
		var a AckFrame
		l.Fill(now, &a, reorder, rto)
		return nacked(&a)
	}
	t.Run("reordered_packet_is_never_reported", func(t *testing.T) {
		l := NackList{SRTT: 20 * ms}
		l.OnReceived(t0, 0, 0)
		l.OnReceived(t0, 2, 1) // 1 missing since t0
		require.Empty(t, fill(&l, t0.Add(4*ms)))
		l.OnReceived(t0.Add(4*ms), 1, 1) // arrives within rttvar
		require.Empty(t, fill(&l, t0.Add(100*ms)))
		require.Zero(t, l.Len())
	})
	t.Run("gap_reported_after_t1_plus_rttvar", func(t *testing.T) {
		var l NackList
		l.OnReceived(t0, 0, 0)
		l.OnReceived(t0, 3, 1)
		require.Equal(t, t0.Add(reorder), l.NextDue(reorder, rto))
		require.Empty(t, fill(&l, t0.Add(reorder-time.Microsecond)))
		require.Equal(t, []uint32{1, 2}, fill(&l, t0.Add(reorder)))
		// Not again before an RTO has passed.
		require.Empty(t, fill(&l, t0.Add(reorder+rto-ms)))
		require.Equal(t, []uint32{1, 2}, fill(&l, t0.Add(reorder+rto)))
	})
	t.Run("retransmitted_arrival_stops_requests_at_once", func(t *testing.T) {
		var l NackList
		l.OnReceived(t0, 0, 0)
		l.OnReceived(t0, 2, 1)
		require.Equal(t, []uint32{1}, fill(&l, t0.Add(reorder)))
		l.OnReceived(t0.Add(50*ms), 1, 3) // the retransmission
		require.False(t, l.Missing(1))
		for k := 1; k < 20; k++ {
			require.Empty(t, fill(&l, t0.Add(time.Duration(k)*rto)))
		}
		require.True(t, l.NextDue(reorder, rto).IsZero())
	})
	t.Run("re_reports_bounded_by_retry_limit", func(t *testing.T) {
		l := NackList{MaxReports: 3}
		l.OnReceived(t0, 0, 0)
		l.OnReceived(t0, 2, 1)
		reports := 0
		for now := t0; now.Before(t0.Add(100 * rto)); now = now.Add(ms) {
			reports += len(fill(&l, now))
		}
		require.Equal(t, 3, reports)
		require.Equal(t, 3, l.Reports(1))
		require.True(t, l.NextDue(reorder, rto).IsZero(), "given up: left to the sender's timer")
	})
	t.Run("rtt_longer_than_interval_does_not_multiply_reports", func(t *testing.T) {
		// With an RTT of 1 s (rto 3 s) a naive fixed 20 ms NACK interval
		// would ask 150 times before an answer can arrive; here the
		// re-report interval is the RTO, so one report per RTO.
		var l NackList
		l.OnReceived(t0, 0, 0)
		l.OnReceived(t0, 2, 1)
		reports := 0
		for now := t0; now.Before(t0.Add(3 * time.Second)); now = now.Add(20 * ms) {
			var a AckFrame
			l.Fill(now, &a, reorder, 3*time.Second)
			reports += len(nacked(&a))
		}
		require.Equal(t, 1, reports)
	})
	t.Run("late_original_after_report_widens_allowance", func(t *testing.T) {
		l := NackList{SRTT: 20 * ms}
		l.OnReceived(t0, 0, 0)
		l.OnReceived(t0, 2, 1)
		require.Equal(t, []uint32{1}, fill(&l, t0.Add(reorder)))
		l.OnReceived(t0.Add(reorder+2*ms), 1, 3) // 2 ms after the report: the original
		require.Equal(t, reorder+2*ms+Granularity, l.Reordering())
		l.OnReceived(t0.Add(10*ms), 5, 3) // 3, 4 missing
		require.Empty(t, fill(&l, t0.Add(10*ms+reorder+ms)))
		require.Equal(t, []uint32{3, 4}, fill(&l, t0.Add(10*ms+reorder+3*ms+Granularity)))
	})
	t.Run("packet_numbers_tell_original_from_retransmission", func(t *testing.T) {
		// Seq 1 travelled in packet 10, seq 2 in packet 11 (which revealed
		// the gap). A retransmission (packet 20) arriving right after a
		// report, even the second, is an answer: it teaches nothing. Before,
		// the answer to the first report arriving just after the second was
		// taken for a reordered original, and the allowance grew to the
		// whole SRTT, delaying every later NACK by it.
		for _, tc := range []struct {
			name    string
			pn      uint64
			reports int
			want    time.Duration
		}{
			{"retransmission_after_first_report", 20, 1, 0},
			{"retransmission_after_second_report", 20, 2, 0},
			{"original_after_first_report", 10, 1, reorder + 2*ms + Granularity},
			{"original_after_second_report_capped_at_srtt", 10, 2, 20 * ms},
		} {
			t.Run(tc.name, func(t *testing.T) {
				l := NackList{SRTT: 20 * ms}
				l.OnReceivedPacket(t0, 9, 0, 0)
				l.OnReceivedPacket(t0, 11, 2, 1)
				now := t0.Add(reorder)
				require.Equal(t, []uint32{1}, fill(&l, now))
				for k := 1; k < tc.reports; k++ {
					now = now.Add(rto)
					require.Equal(t, []uint32{1}, fill(&l, now))
				}
				now = now.Add(2 * ms)
				if tc.reports == 1 {
					now = t0.Add(reorder + 2*ms)
				}
				l.OnReceivedPacket(now, tc.pn, 1, 3)
				require.False(t, l.Missing(1))
				require.Equal(t, tc.want, l.Reordering())
			})
		}
	})
	t.Run("without_packet_numbers_only_the_first_report_teaches", func(t *testing.T) {
		l := NackList{SRTT: 20 * ms}
		l.OnReceived(t0, 0, 0)
		l.OnReceived(t0, 2, 1)
		require.Equal(t, []uint32{1}, fill(&l, t0.Add(reorder)))
		require.Equal(t, []uint32{1}, fill(&l, t0.Add(reorder+rto)))
		l.OnReceived(t0.Add(reorder+rto+ms), 1, 3) // answer to the first report
		require.Zero(t, l.Reordering())
	})
	t.Run("entries_below_cum_dropped", func(t *testing.T) {
		var l NackList
		l.OnReceived(t0, 5, 0) // 0..4 missing
		require.Equal(t, 5, l.Len())
		l.OnReceived(t0, 6, 3)
		require.Equal(t, 2, l.Len())
	})
}
