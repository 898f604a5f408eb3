// Package bench is skiff's comparison benchmark: it runs skiff's recovery
// strategies and its peers (TCP, kcp-go) over the very same emulated links
// (package netem), with the same workloads, verifies every payload by
// SHA-256, and reports the results as markdown, JSON, CSV and PNG plots.
//
// What it owns: the link profiles P0..P5 of the comparison (profiles.go), the
// Transport seam and its implementations (transport_*.go), the workloads
// (workload_*.go), the runner that executes the matrix one cell at a time
// (runner.go), and the reports (report_*.go, plot.go). The CLI in cmd/skiff is
// a thin layer over Run.
//
// Imports: the library packages (skiff, netem, congestion), kcp-go, gonum
// plot; bench/raw/... for TCP. No library package may import bench.
//
// Measurement conventions (the report repeats them):
//   - Both ends of every transport run in this process, so one monotonic clock
//     measures one-way latency: the sender writes its send time into the
//     message and the receiver subtracts it from its receive time.
//   - Wire bytes are counted where packets enter the emulated link of the
//     data direction (netem Stats.OfferedBytes), so lost packets count; for
//     datagram transports 28 bytes of IPv4+UDP header are added per packet so
//     that UDP- and IP-level transports (TCP) compare at the IP layer.
//   - A run whose payload does not arrive complete and byte-identical is a
//     failure, never a result.
package bench
