package rtcp

import (
	"time"

	pionrtcp "github.com/pion/rtcp"
)

// maxReportBlocks is the most reception report blocks one SR/RR carries (the
// 5-bit RC field).
const maxReportBlocks = 31

// SenderInfo is what a sender reports about its own transmission in an SR
// (RFC 3550 §6.4.1). The zero value reports nothing sent.
type SenderInfo struct {
	SSRC        uint32
	RTPTime     uint32 // RTP timestamp corresponding to the SR's NTP time
	PacketCount uint32 // RTP packets sent since the start
	OctetCount  uint32 // payload octets sent since the start
}

// BuildSenderReport returns an SR stamped with now's NTP time carrying up to
// 31 reception report blocks (extra blocks are dropped).
func BuildSenderReport(now time.Time, info SenderInfo, blocks []pionrtcp.ReceptionReport) *pionrtcp.SenderReport {
	if len(blocks) > maxReportBlocks {
		blocks = blocks[:maxReportBlocks]
	}
	return &pionrtcp.SenderReport{
		SSRC:        info.SSRC,
		NTPTime:     NTPTime(now),
		RTPTime:     info.RTPTime,
		PacketCount: info.PacketCount,
		OctetCount:  info.OctetCount,
		Reports:     blocks,
	}
}

// BuildReceiverReport returns an RR from ssrc with up to 31 report blocks.
func BuildReceiverReport(ssrc uint32, blocks []pionrtcp.ReceptionReport) *pionrtcp.ReceiverReport {
	if len(blocks) > maxReportBlocks {
		blocks = blocks[:maxReportBlocks]
	}
	return &pionrtcp.ReceiverReport{SSRC: ssrc, Reports: blocks}
}

// BuildSDES returns the SDES packet carrying the CNAME every compound RTCP
// packet must include (RFC 3550 §6.1).
func BuildSDES(ssrc uint32, cname string) *pionrtcp.SourceDescription {
	return pionrtcp.NewCNAMESourceDescription(ssrc, cname)
}
