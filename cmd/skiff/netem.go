package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/skiffnet/skiff/netem"
)

// impairmentFlags registers the flags that describe one netem profile.
type impairmentFlags struct {
	loss, dup, corrupt float64
	burst              float64
	delay, jitter      time.Duration
	rate, queue        int64
	mtu                int
	reorder, normal    bool
}

func (f *impairmentFlags) register(fs *flag.FlagSet) {
	fs.Var(percentValue{&f.loss}, "loss", "random loss rate (e.g. 5% or 0.05)")
	fs.Var(percentValue{&f.dup}, "duplicate", "duplication rate (e.g. 1%)")
	fs.Var(percentValue{&f.corrupt}, "corrupt", "rate of packets with one bit flipped (e.g. 0.1%)")
	fs.Var(floatValue{&f.burst}, "burst", "mean loss burst length in packets: with -loss, loss follows a Gilbert-Elliott model (e.g. 3)")
	fs.Var(durationValue{&f.delay}, "delay", "one-way delay (e.g. 20ms)")
	fs.Var(durationValue{&f.jitter}, "jitter", "delay variation, ± uniform (e.g. 5ms)")
	fs.BoolVar(&f.normal, "jitter-normal", false, "jitter is normally distributed with -jitter as its standard deviation")
	fs.BoolVar(&f.reorder, "reorder", false, "let jitter reorder packets (off: a packet never overtakes an earlier one)")
	fs.Var(rateValue{&f.rate}, "rate", "bottleneck bandwidth (e.g. 10mbit, 500kbit; 0 = unlimited)")
	fs.Var(sizeValue{&f.queue}, "queue", "drop-tail queue in front of the bottleneck (e.g. 64KiB; 0 = unlimited; needs -rate)")
	fs.IntVar(&f.mtu, "mtu", 0, "drop packets larger than this many bytes (0 = no limit)")
}

// profile builds and validates the netem profile the flags describe.
func (f *impairmentFlags) profile() (netem.Profile, error) {
	p := netem.Profile{
		Delay: f.delay, Jitter: f.jitter, AllowReorder: f.reorder, Duplicate: f.dup, Corrupt: f.corrupt,
		Bandwidth: f.rate, QueueBytes: int(f.queue), MTU: f.mtu,
	}
	if f.normal {
		p.JitterDist = netem.JitterNormal
	}
	if f.burst > 0 {
		if f.loss == 0 {
			return p, usageErr("-burst needs -loss (the average loss rate)")
		}
		ge, err := netem.GilbertElliottFromLoss(f.loss, f.burst)
		if err != nil {
			return p, usageErr("-loss %g with -burst %g: %v", f.loss*100, f.burst, err)
		}
		p.Burst = &ge
	} else {
		p.Loss = f.loss
	}
	if f.queue > 0 && f.rate == 0 {
		return p, usageErr("-queue needs -rate (the queue sits in front of the bottleneck)")
	}
	if err := p.Validate(); err != nil {
		return p, usageErr("%v", err)
	}
	return p, nil
}

func cmdNetem(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "netem", "netem --listen ADDR --to ADDR [impairments]\n\n"+
		"A UDP proxy that impairs what crosses it, for testing any UDP program: clients send to\n"+
		"--listen, the proxy forwards to --to, and replies come back the same way. Both directions\n"+
		"get the same impairment unless -one-way is set. Stops on Ctrl-C and prints its counters.\n\n"+
		"Example: skiff netem --listen 127.0.0.1:9000 --to 127.0.0.1:4242 --loss 5% --delay 20ms --jitter 5ms --rate 10mbit")
	listen := fs.String("listen", "", "address to listen on (host:port)")
	to := fs.String("to", "", "address to forward to (host:port)")
	oneWay := fs.Bool("one-way", false, "impair only the direction towards --to; replies pass unimpaired")
	seed := fs.Int64("seed", 1, "seed of the random choices (same seed, same impairments)")
	every := fs.Duration("stats", 0, "print the counters at this interval (e.g. 5s; 0 = only at exit)")
	var f impairmentFlags
	f.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *listen == "" || *to == "" {
		return usageErr("both --listen and --to are required")
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q", fs.Arg(0))
	}
	p, err := f.profile()
	if err != nil {
		return err
	}
	back := p
	if *oneWay {
		back = netem.Profile{}
	}
	px, err := netem.NewProxy(*listen, *to, p, back, *seed)
	if err != nil {
		return err
	}
	defer px.Close()
	fmt.Fprintf(e.stderr, "skiff netem: %s -> %s, impairing %s\n", px.Addr(), *to, describeProfile(p))
	if *every > 0 {
		t := time.NewTicker(*every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				printProxyStats(e, px)
				return nil
			case <-t.C:
				printProxyStats(e, px)
			}
		}
	}
	<-ctx.Done()
	printProxyStats(e, px)
	return nil
}

func printProxyStats(e *env, px *netem.Proxy) {
	for _, d := range []struct {
		name string
		s    netem.Stats
	}{{"to target  ", px.ToTarget().Stats()}, {"from target", px.FromTarget().Stats()}} {
		s := d.s
		fmt.Fprintf(e.stderr, "%s: %d packets in, %d out; dropped %d loss, %d burst, %d queue, %d mtu; %d duplicated, %d corrupted\n",
			d.name, s.OfferedPackets, s.DeliveredPackets, s.DroppedLoss, s.DroppedBurst, s.DroppedQueue, s.DroppedMTU,
			s.Duplicated, s.Corrupted)
	}
}

func describeProfile(p netem.Profile) string {
	s := fmt.Sprintf("delay %v", p.Delay)
	if p.Jitter > 0 {
		s += fmt.Sprintf(" ±%v", p.Jitter)
	}
	if p.Burst != nil {
		s += fmt.Sprintf(", bursty loss %.2f%%", p.Burst.LossRate()*100)
	} else if p.Loss > 0 {
		s += fmt.Sprintf(", loss %.2f%%", p.Loss*100)
	}
	if p.Bandwidth > 0 {
		s += fmt.Sprintf(", rate %.3g Mbit/s", float64(p.Bandwidth)/1e6)
		if p.QueueBytes > 0 {
			s += fmt.Sprintf(", queue %d B", p.QueueBytes)
		}
	}
	if p.Duplicate > 0 {
		s += fmt.Sprintf(", duplicate %.2f%%", p.Duplicate*100)
	}
	if p.Corrupt > 0 {
		s += fmt.Sprintf(", corrupt %.2f%%", p.Corrupt*100)
	}
	return s
}
