package poller

import (
	"context"
	"sync"
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
	workers int
	pending int           // events queued or running
	idle    chan struct{} // closed when pending drops to 0
	wg      sync.WaitGroup
}

func newDispatcher(limit int, run func(entry)) *dispatcher {
	idle := make(chan struct{})
	close(idle)
	return &dispatcher{limit: limit, run: run, orders: map[string][]entry{}, idle: idle}
}

// orderKey groups events that must not overtake each other.
func orderKey(e entry) string {
	if e.header.OrderID != "" {
		return "ord:" + e.header.OrderID
	}
	return "evt:" + e.header.ID
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
		d.workers++
		d.wg.Add(1)
		go d.work()
	}
}

func (d *dispatcher) work() {
	defer d.wg.Done()
	for {
		d.mu.Lock()
		if len(d.ready) == 0 {
			d.workers--
			d.mu.Unlock()
			return
		}
		key := d.ready[0]
		d.ready = d.ready[1:]
		e := d.orders[key][0]
		d.mu.Unlock()

		d.run(e)

		d.mu.Lock()
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

// wait returns true once nothing is queued or running, false if ctx ends first.
func (d *dispatcher) wait(ctx context.Context) bool {
	d.mu.Lock()
	idle := d.idle
	d.mu.Unlock()
	select {
	case <-idle:
		return true
	case <-ctx.Done():
		return false
	}
}

// stop waits for every worker to end. The caller has made run return quickly
// (by cancelling the handlers' context) or knows the queue is empty.
func (d *dispatcher) stop() { d.wg.Wait() }

// load reports the events queued or running.
func (d *dispatcher) load() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pending
}
