// Package flowsim is a test harness for congestion controllers: bulk
// senders governed by a congestion.Controller (window and pacing) push
// packets through a shared netem bottleneck Pipe, receivers ack every packet
// over a reverse Pipe, and a simple loss detector (packet threshold 3, time
// threshold 9/8 RTT, RTO) reports losses to the controller; RTT samples feed
// a small RFC 6298 estimator that the controller reads.
//
// Sender, Receiver and RTTEstimator are pure state machines (time is an
// argument); Run wires them to netem and real timers, so call it inside a
// testing/synctest bubble to run in fake time. Test-only: it may import
// netem, which the congestion package itself must not.
package flowsim
