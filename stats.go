package skiff

import "time"

// Stats is a snapshot of a session's counters and estimates. All counters
// start at zero and only grow.
type Stats struct {
	SRTT, RTTVar, MinRTT, RTO time.Duration
	CWND, SSThresh            int // bytes
	BytesInFlight             int
	CongestionState           string

	PacketsSent, BytesSent         uint64 // every datagram, headers included
	PacketsReceived, BytesReceived uint64 // valid datagrams
	DataBytesSent                  uint64 // payload bytes of data frames, first transmissions
	DataBytesReceived              uint64 // payload bytes delivered (stream and messages)
	PacketsRetransmitted           uint64 // reliable frames sent again
	BytesRetransmitted             uint64
	PacketsLost                    uint64 // transmissions declared lost
	RecoveredByFEC                 uint64 // data packets recovered by FEC
	RepairCongestionEvents         uint64 // filled holes reported as loss (Config.FECRepairIsCongestion)
	DuplicatesReceived             uint64 // packets or frames received twice
	RetransmissionTimeouts         uint64
	ProbesSent                     uint64 // tail-loss probes and pings
	MTU                            int    // datagram size sent now (path-MTU discovery raises it)
	MTUProbesSent                  uint64 // path-MTU probes (padded pings), not in ProbesSent
	MTUProbesLost                  uint64 // probes not acknowledged in time

	// Bad input, dropped and counted.
	BadChecksum    uint64 // corrupted datagrams
	BadPackets     uint64 // malformed, wrong version or type for the state
	OutOfWindow    uint64 // reliable frames beyond the advertised window
	DroppedInbound uint64 // datagrams dropped because the session was busy
	AddressChanges uint64 // peer address changes (NAT rebinding)

	MessagesDropped uint64 // unreliable messages dropped (stale or incomplete)
}
