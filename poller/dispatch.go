package poller

import (
	"slices"
	"strconv"
	"sync"
	"time"
)

// dispatcher runs events on at most limit goroutines, events of one order one
// at a time in the order they were queued (a scope_change never overtakes its
// new_order), events of different orders side by side. Workers start when
// there is work and end when there is none, so an idle poller costs one
// goroutine.
type dispatcher struct {
	limit int
	run   func(entry)

	mu      sync.Mutex
	orders  map[string][]entry // per order: the running or next event first
	ready   []string           // orders whose first event may start
	running map[uint64]entry   // by entry.n, for saying who is stuck
	workers int
	pending int           // events queued or running
	idle    chan struct{} // closed when pending drops to 0
	quiet   chan struct{} // closed when workers drops to 0
}

func newDispatcher(limit int, run func(entry)) *dispatcher {
	closed := make(chan struct{})
	close(closed)
	return &dispatcher{limit: limit, run: run, orders: map[string][]entry{}, running: map[uint64]entry{}, idle: closed, quiet: closed}
}

// orderKey groups events that must not overtake each other.
func orderKey(e entry) string {
	switch {
	case e.header.OrderID != "":
		return "ord:" + e.header.OrderID
	case e.header.ID != "":
		return "evt:" + e.header.ID
	}
	return "n:" + strconv.FormatUint(e.n, 10) // neither: alone
}

func (d *dispatcher) enqueue(e entry) {
	key := orderKey(e)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pending == 0 {
		d.idle = make(chan struct{})
	}
	d.pending++
	q := d.orders[key]
	d.orders[key] = append(q, e)
	if len(q) == 0 {
		d.ready = append(d.ready, key)
	}
	if d.workers < d.limit {
		if d.workers == 0 {
			d.quiet = make(chan struct{})
		}
		d.workers++
		go d.work()
	}
}

func (d *dispatcher) work() {
	for {
		d.mu.Lock()
		if len(d.ready) == 0 {
			if d.workers--; d.workers == 0 {
				close(d.quiet)
			}
			d.mu.Unlock()
			return
		}
		key := d.ready[0]
		d.ready = d.ready[1:]
		e := d.orders[key][0]
		d.running[e.n] = e
		d.mu.Unlock()

		d.run(e)

		d.mu.Lock()
		delete(d.running, e.n)
		if q := d.orders[key][1:]; len(q) == 0 {
			delete(d.orders, key)
		} else {
			d.orders[key] = q
			d.ready = append(d.ready, key)
		}
		d.pending--
		if d.pending == 0 {
			close(d.idle)
		}
		d.mu.Unlock()
	}
}

// idleCh is closed once nothing is queued or running.
func (d *dispatcher) idleCh() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.idle
}

// stopWithin waits up to grace for every worker to end (the caller has
// cancelled the handlers' context, so queued events return at once), and
// returns the events still running when it gave up.
func (d *dispatcher) stopWithin(grace time.Duration) []entry {
	d.mu.Lock()
	quiet := d.quiet
	d.mu.Unlock()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-quiet:
		return nil
	case <-t.C:
		return d.inFlight()
	}
}

// inFlight returns the events running now, oldest first.
func (d *dispatcher) inFlight() []entry {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]entry, 0, len(d.running))
	for _, e := range d.running {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b entry) int { return cmpUint(a.n, b.n) })
	return out
}

// load reports the events running and those queued.
func (d *dispatcher) load() (running, queued int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.running), d.pending - len(d.running)
}
