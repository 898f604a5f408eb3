package skiff

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/rudp"
)

// connState is the lifecycle of a session.
type connState int

const (
	stateHandshake connState = iota // client: hello sent, waiting for accept
	stateOpen                       // established
	stateLinger                     // both FINs exchanged; absorbing late packets
	stateDone
)

// conn is a session's protocol state: buffers, estimators, congestion
// control and the recovery strategy. It is owned by the run loop
// goroutine (run); nothing else touches it, except rxPool (shared) and
// the immutable fields. It implements rudp.Env for the strategy.
type conn struct {
	s     *Session
	cfg   *Config
	tr    *transport
	id    uint64
	epoch time.Time
	now   time.Time
	state connState

	remote netip.AddrPort

	hist  rudp.SentHistory
	sb    rudp.SendBuffer
	rb    rudp.RecvBuffer
	rp    rudp.ReceivedPackets
	rtt   rudp.RTTEstimator
	cc    congestion.Controller
	strat rudp.Strategy

	txPool, rxPool *bufPool // payload buffers
	maxPayload     int      // data bytes per packet sent now
	rxUnit         int      // most data bytes a packet from the peer can carry
	capacity       int      // receive window in packets of rxUnit bytes

	peerMaxSeq uint64 // the peer's flow-control limit (exclusive)
	advMaxSeq  uint64 // the limit we advertised
	useqNext   uint64 // next unreliable sequence number to send

	// Receive side of messages.
	msgBuf      []byte // reliable message being reassembled (in order)
	msgActive   bool
	ureasm      unreliableReassembly
	lastSeqUseq uint64 // newest unreliable-sequenced message delivered (+1)

	// Acknowledgement scheduling.
	ackEliciting int       // ack-eliciting packets not yet acknowledged
	ackDeadline  time.Time // when a delayed ack must go
	// lastAckEliciting is when the last ack-eliciting packet arrived.
	lastAckEliciting time.Time
	ackNow           bool
	lastEcho         uint32 // newest peer timestamp sampled for RTT

	lastRecv   time.Time
	lastSend   time.Time // any ack-eliciting transmission
	probe      bool      // send an ack-eliciting packet even if cwnd is full
	pacingWait time.Time
	blocked    bool // flow-control blocked with data waiting
	// repairIsLoss: holes filled without a retransmission are loss events
	// (Config.FECRepairIsCongestion with RecoveryFEC).
	repairIsLoss bool

	// Close.
	finSeq      uint64
	finQueued   bool
	remoteFin   bool
	lingerUntil time.Time
	closeErr    error

	// Handshake.
	helloTS    uint32 // server: the client's hello timestamp, echoed in accept
	cookie     []byte
	hsStart    time.Time
	hsNext     time.Time
	hsInterval time.Duration

	pmtu pmtuSearch // path-MTU discovery

	st      Stats
	pktPool *bufPool    // encode buffers (a session keeps none while idle)
	repairQ [][]byte    // FEC repair payloads waiting for pacing (SendRepair)
	pkt     rudp.Packet // decode target
	out     rudp.Packet // encode scratch
}

var _ rudp.Env = (*conn)(nil)

func newConn(s *Session, now time.Time) (*conn, error) {
	cfg := &s.cfg
	c := &conn{
		s:      s,
		cfg:    cfg,
		tr:     s.tr,
		id:     s.connID,
		epoch:  now,
		now:    now,
		remote: s.remote,
	}
	c.repairIsLoss = cfg.FECRepairIsCongestion && cfg.Recovery == RecoveryFEC
	c.rtt = rudp.RTTEstimator{MinRTO: cfg.MinRTO, MaxRTO: cfg.MaxRTO}
	var err error
	switch cfg.Recovery {
	case RecoveryRTO:
		c.strat = rudp.NewTimed(c, rudp.DefaultMaxAckDelay)
	case RecoveryNACK:
		c.strat = rudp.NewNACK(c, rudp.DefaultMaxAckDelay, cfg.NackRetries)
	case RecoveryFEC:
		if fecFactory == nil {
			return nil, fmt.Errorf("%w: RecoveryFEC", ErrNotImplemented)
		}
		fcfg := *cfg
		fcfg.MTU = cfg.maxDatagram()
		c.strat, err = fecFactory(c, &fcfg)
		if err != nil {
			return nil, err
		}
	}
	// Buffers are sized for the largest datagram discovery may reach, so
	// raising the MTU later changes no pool.
	ceiling := cfg.maxDatagram()
	c.txPool = poolFor(max(2048, ceiling-rudp.Overhead-rudp.DataFrameHeaderSize))
	c.pktPool = poolFor(max(2048, ceiling))
	c.setMTU(cfg.MTU)
	c.pmtu.ceiling = ceiling
	c.rxPool = s.tr.pool // inbound datagrams and received payloads
	// The window counts packets; the peer's may grow to our advertised
	// largest datagram, so that is the unit that keeps the window within
	// ReceiveBufferSize bytes.
	c.rxUnit = ceiling - rudp.Overhead - rudp.DataFrameHeaderSize
	c.capacity = max(cfg.ReceiveBufferSize/c.rxUnit, 4)
	c.rb.Capacity = c.capacity
	c.advMaxSeq = uint64(c.capacity)
	c.sb.Release = func(b []byte) { c.txPool.put(b) }
	c.cc, err = congestion.New(cfg.Congestion, congestion.Config{
		MaxDatagramSize:      cfg.MTU,
		InitialWindowPackets: initialWindowPackets(cfg.Congestion, c.capacity),
		RTT:                  &c.rtt,
		Tracer:               cfg.CongestionTracer,
		Seed:                 cfg.congestionSeed(c.id),
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return c, nil
}

// maxFixedWindowPackets is the largest window congestion.Config accepts.
const maxFixedWindowPackets = 1000

// initialWindowPackets is the controller's initial window: the default for
// real controllers; for "none"/"fixed" the flow-control window (the receive
// window in packets, at most 1000), so that without congestion control only
// flow control limits the sender, like KCP's nocwnd.
func initialWindowPackets(cc string, rwndPackets int) int {
	switch strings.ToLower(cc) {
	case "none", "fixed":
		return min(max(rwndPackets, congestion.DefaultInitialWindowPackets), maxFixedWindowPackets)
	}
	return 0
}

// setMTU sets the datagram size this side sends: at creation, when the
// handshake agrees on a smaller one, and when path-MTU discovery confirms a
// larger one. Frames already cut keep their size (they are never larger
// than the new one: the size only falls before data flows).
func (c *conn) setMTU(mtu int) {
	c.cfg.MTU = mtu
	c.maxPayload = c.cfg.maxPayload(c.strat.Overhead())
	c.st.MTU = mtu
}

func randomConnID() (uint64, error) {
	var b [8]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return 0, err
		}
		if id := binary.BigEndian.Uint64(b[:]); id != 0 {
			return id, nil
		}
	}
}

// timestamp is now on this side's microsecond wire clock.
func (c *conn) timestamp() uint32 {
	return uint32(c.now.Sub(c.epoch) / time.Microsecond)
}

// --- rudp.Env ---

func (c *conn) RTT() *rudp.RTTEstimator         { return &c.rtt }
func (c *conn) History() *rudp.SentHistory      { return &c.hist }
func (c *conn) SendBuffer() *rudp.SendBuffer    { return &c.sb }
func (c *conn) RecvCum() uint64                 { return c.rb.Cum() }
func (c *conn) QueueRetransmit(seq uint64) bool { return c.sb.QueueRetransmit(seq) }
func (c *conn) SendProbe()                      { c.probe = true }
func (c *conn) RequestAck()                     { c.ackNow = true }

func (c *conn) DeclareLost(now time.Time, p *rudp.SentPacket, retransmit bool) {
	if !p.Lost && !p.Acked {
		prior := c.hist.BytesInFlight()
		if !p.InFlight {
			prior += p.Size // it left the flight earlier without a signal
		}
		c.hist.MarkLost(p)
		c.st.PacketsLost++
		c.cc.OnCongestionEvent(now, p.PN, p.Size, prior)
	}
	if retransmit && p.HasSeq {
		if f := c.sb.Get(p.Seq); f != nil && f.LastPN == p.PN {
			c.sb.QueueRetransmit(p.Seq)
		}
	}
}

func (c *conn) RetransmissionTimeout(now time.Time) {
	c.st.RetransmissionTimeouts++
	c.cc.OnRetransmissionTimeout(now)
}

func (c *conn) SendRepair(now time.Time, payload []byte) error {
	if rudp.Overhead+len(payload) > c.cfg.MTU {
		return fmt.Errorf("skiff: repair payload of %d bytes exceeds the MTU %d", len(payload), c.cfg.MTU)
	}
	if len(c.repairQ) == 0 && c.sb.PendingRetransmits() == 0 && !c.dataQueued() {
		// Nothing else waits to be sent (sparse messages, the end of a
		// transfer): the repairs go at once, as fast as the frame they
		// protect; a sparse flow's pacing rate would hold them back.
		c.out = rudp.Packet{Header: c.header(rudp.TypeRepair), Repair: payload}
		c.sendPacket(&c.out, true, false, 0)
		return nil
	}
	// A bulk flow: queued for flush, which sends repairs ahead of data as
	// pacing and the congestion window allow. (Sent back to back with
	// their group's last data packet, on top of the paced data, they
	// raised the bottleneck's queue drops and so the loss FEC measures and
	// pays parity for. Fake-time 16 MiB RS bulk, TestCompareRecoveryBulk:
	// wire 1.276 -> 1.209 at 5% loss, 1.385 -> 1.370 at 10%, 1.360 ->
	// 1.290 on P4; goodput 40.4 -> 42.2 Mbit/s at 5%.)
	b := c.pktPool.get()[:len(payload)]
	copy(b, payload)
	c.repairQ = append(c.repairQ, b)
	return nil
}

// dataQueued reports whether the application has data waiting to be cut
// into frames.
func (c *conn) dataQueued() bool {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return len(c.s.sendQ) > 0
}

// sendQueuedRepair sends the oldest queued repair packet.
func (c *conn) sendQueuedRepair() {
	b := c.repairQ[0]
	c.repairQ[0] = nil
	c.repairQ = c.repairQ[1:]
	c.out = rudp.Packet{Header: c.header(rudp.TypeRepair), Repair: b}
	c.sendPacket(&c.out, true, false, 0)
	c.pktPool.put(b)
}

func (c *conn) InjectData(now time.Time, pn uint32, frame []byte) error {
	var d rudp.DataFrame
	if _, err := d.Unmarshal(frame); err != nil {
		return err
	}
	pn64 := c.unwrapRecvPN(pn)
	if c.rp.Add(pn64, now, 0) != rudp.PacketNew {
		return nil
	}
	c.st.RecoveredByFEC++
	c.ackEliciting++
	c.onData(pn64, &d, nil, frame)
	return nil
}
