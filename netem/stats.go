package netem

// Stats are one pipe's counters since it was created. Offered counts every
// Send; every offered packet is then either dropped (by exactly one cause),
// queued, in flight, or delivered. Duplicates are delivered as extra packets;
// Corrupted counts packets that had a bit flipped. The zero value is an idle
// pipe.
type Stats struct {
	OfferedPackets, OfferedBytes     uint64
	DeliveredPackets, DeliveredBytes uint64

	DroppedLoss   uint64 // Bernoulli loss (Profile.Loss)
	DroppedBurst  uint64 // Gilbert-Elliott loss (Profile.Burst)
	DroppedQueue  uint64 // drop-tail queue overflow at the bottleneck
	DroppedMTU    uint64 // larger than Profile.MTU
	DroppedDown   uint64 // offered while Profile.Down
	DroppedScript uint64 // scripted by DropNth

	Duplicated, Corrupted uint64

	// QueueBytes and QueuePackets are the current drop-tail queue depth: what
	// waits to be serialised, not counting the packet being serialised.
	QueueBytes, QueuePackets int
	// InFlight counts packets past the bottleneck waiting for their release
	// time (propagation delay, jitter, slotting), plus the one in service.
	InFlight int
}

// Dropped is the sum of all drop causes.
func (s Stats) Dropped() uint64 {
	return s.DroppedLoss + s.DroppedBurst + s.DroppedQueue + s.DroppedMTU + s.DroppedDown + s.DroppedScript
}
