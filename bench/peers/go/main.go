// Command gobench is the Go peer of cio's benchmarks (bench/run builds it
// into the build directory and runs it with GOMAXPROCS=1).
//
//	gobench switch [YIELDS]        two goroutines ping-ponging runtime.Gosched
//	gobench spawn [N]              go f() + WaitGroup.Wait, N times
//	gobench memory [N]             N goroutines blocked on one channel
//	gobench timers [PENDING] [OPS] AfterFunc+Stop with PENDING pending; firing
//
// Each figure is printed as a JSON line, like the C benchmarks.
package main

import (
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func emit(bench string, value float64, unit string) {
	fmt.Printf("{\"bench\":\"%s\",\"value\":%.4g,\"unit\":\"%s\"}\n", bench, value, unit)
}

func arg(i int, def int) int {
	if len(os.Args) > i {
		if n, err := strconv.Atoi(os.Args[i]); err == nil {
			return n
		}
	}
	return def
}

func perOp(d time.Duration, n int) float64 {
	return float64(d.Nanoseconds()) / float64(n)
}

func benchSwitch() {
	n := arg(2, 2000000)
	var wg sync.WaitGroup
	ping := func() {
		for i := 0; i < n; i++ {
			runtime.Gosched()
		}
		wg.Done()
	}
	wg.Add(2)
	t0 := time.Now()
	go ping()
	go ping()
	wg.Wait()
	emit("switch", perOp(time.Since(t0), 2*n), "ns/switch")
}

func trivial(wg *sync.WaitGroup) { wg.Done() }

func benchSpawn() {
	n := arg(2, 1000000)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go trivial(&wg)
		wg.Wait()
	}
	emit("spawn", perOp(time.Since(t0), n), "ns/spawn+join")
}

// statm's resident pages and status's VmPTE, in bytes.
func rssBytes() int {
	b, _ := os.ReadFile("/proc/self/statm")
	f := strings.Fields(string(b))
	pages, _ := strconv.Atoi(f[1])
	return pages * os.Getpagesize()
}

func pageTableBytes() int {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmPTE:") {
			kib, _ := strconv.Atoi(strings.Fields(line)[1])
			return kib * 1024
		}
	}
	return 0
}

func benchMemory() {
	n := arg(2, 1000000)
	release := make(chan struct{})
	var started, done sync.WaitGroup
	started.Add(n)
	done.Add(n)
	runtime.GC()
	rss0, pt0 := rssBytes(), pageTableBytes()
	t0 := time.Now()
	for i := 0; i < n; i++ {
		go func() {
			started.Done()
			<-release
			done.Done()
		}()
	}
	started.Wait()
	dt := time.Since(t0)
	rss1, pt1 := rssBytes(), pageTableBytes()
	emit("memory", float64(rss1-rss0)/1024/float64(n), "KiB/task")
	emit("memory_pagetables", float64(pt1-pt0)/1024/float64(n), "KiB/task")
	fmt.Printf("go: %d goroutines blocked on a channel in %.2f s\n", n, dt.Seconds())
	close(release)
	done.Wait()
}

func median(v []float64) float64 {
	sort.Float64s(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// PENDING goroutines sleep (deadlines at random in [1 h, 2 h)); meanwhile
// AfterFunc + Stop, OPS times in ROUNDS chunks, and FIRERS goroutines
// sleeping until a common instant (plus up to 1 ms) woken together, ROUNDS
// times. Each figure is the median over the rounds.
func benchTimers() {
	pending := arg(2, 1000000)
	ops := arg(3, 2000000)
	firers := arg(4, 100000)
	rounds := arg(5, 5)
	rng := rand.New(rand.NewSource(42))
	between := func(lo, hi time.Duration) time.Duration {
		return lo + time.Duration(rng.Int63n(int64(hi-lo)))
	}

	var asleep sync.WaitGroup
	asleep.Add(pending)
	for i := 0; i < pending; i++ {
		d := between(time.Hour, 2*time.Hour)
		go func() {
			asleep.Done()
			time.Sleep(d)
		}()
	}
	asleep.Wait()
	runtime.Gosched() // the last ones from Done to Sleep
	// Start from a finished collection, as Go's own benchmarks do: a cycle
	// still marking a million goroutine stacks would charge its assists to
	// whatever allocates next, by chance.
	runtime.GC()

	never := func() { panic("timer fired") }
	samples := make([]float64, rounds)
	chunk := ops / rounds
	for r := range samples {
		t0 := time.Now()
		for i := 0; i < chunk; i++ {
			time.AfterFunc(between(time.Hour, 2*time.Hour), never).Stop()
		}
		samples[r] = perOp(time.Since(t0), chunk)
	}
	emit("timer_insert_cancel", median(samples), "ns/timer")

	// Firing: the firers sleep until base + jitter; main spins (so the
	// scheduler gets no chance to run timers) until all are due, then
	// times their wake-ups. Between rounds they wait on a gate.
	var base time.Time
	var fired int64
	var armed sync.WaitGroup
	gate := make(chan struct{})
	done := make(chan struct{})
	firer := func(jitter time.Duration) {
		for {
			g := gate // the gate of the round after this one
			armed.Done()
			time.Sleep(time.Until(base) + jitter)
			if atomic.AddInt64(&fired, 1) == int64(firers) {
				close(done)
			}
			<-g
		}
	}
	var fire []float64
	spoilt := 0
	for r := 0; r < rounds; r++ {
		atomic.StoreInt64(&fired, 0)
		done = make(chan struct{})
		old := gate
		gate = make(chan struct{})
		margin := 300 * time.Millisecond // to arm the sleeps
		if r == 0 {
			margin = time.Second // and to make the goroutines first
		}
		base = time.Now().Add(margin)
		armed.Add(firers)
		if r == 0 {
			for i := 0; i < firers; i++ {
				go firer(between(0, time.Millisecond))
			}
		} else {
			close(old)
		}
		armed.Wait() // every firer is (about to be) asleep
		// Sleep most of the way, then spin less than the 10 ms after which
		// the runtime preempts a goroutine (and would fire the timers).
		time.Sleep(time.Until(base) - 5*time.Millisecond)
		for time.Now().Before(base.Add(2 * time.Millisecond)) {
		}
		e := int(atomic.LoadInt64(&fired))
		t0 := time.Now()
		<-done
		if e == 0 {
			fire = append(fire, perOp(time.Since(t0), firers))
		} else {
			spoilt++ // some fired while arming: the round says nothing
		}
	}
	if len(fire) > 0 {
		emit("timer_fire", median(fire), "ns/timer")
	}
	if spoilt > 0 {
		fmt.Printf("go: %d of %d firing rounds spoilt (timers fired before "+
			"the timed window) and left out\n", spoilt, rounds)
	}
	os.Exit(0) // nothing to learn from tearing a million goroutines down
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gobench switch|spawn|memory|timers [N...]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "switch":
		benchSwitch()
	case "spawn":
		benchSpawn()
	case "memory":
		benchMemory()
	case "timers":
		benchTimers()
	default:
		fmt.Fprintln(os.Stderr, "unknown benchmark", os.Args[1])
		os.Exit(2)
	}
}
