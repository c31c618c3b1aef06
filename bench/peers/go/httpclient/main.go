// Command gohttpclient is the Go peer of bench/http_run (client
// throughput); bench/http_run builds it into the build directory and runs
// it with GOMAXPROCS=1.
//
//	gohttpclient --url URL [--conc N] [--warmup SEC] [--duration SEC]
//
// What bench/http/http_client.c does with cio: N goroutines GET the URL
// over one net/http Client (keep-alive; the transport keeps up to N idle
// connections to the host, not Go's default of 2), each reading the whole
// body and checking the status, again and again. The main goroutine takes
// the count of finished requests and the process's CPU time (getrusage:
// user + system, every thread) after the warm-up and after the measured
// window, then stops the goroutines. Prints one JSON line:
//
//	{"requests":N,"seconds":S,"cpu_s":C,"errors":E,"bytes":B}
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) +
		float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

type counters struct {
	done, errors, bytes atomic.Uint64
	stop                atomic.Bool
	firstError          atomic.Value
}

func (c *counters) fail(what string) {
	if c.errors.Add(1) == 1 {
		c.firstError.Store(what)
	}
}

func worker(client *http.Client, url string, c *counters, wg *sync.WaitGroup) {
	defer wg.Done()
	for !c.stop.Load() {
		resp, err := client.Get(url)
		if err != nil {
			c.fail(err.Error())
		} else {
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				c.fail(err.Error())
			} else if resp.StatusCode != 200 {
				c.fail(fmt.Sprintf("status %d", resp.StatusCode))
			}
			c.bytes.Add(uint64(len(body)))
		}
		c.done.Add(1)
	}
}

func main() {
	url := flag.String("url", "", "the URL to GET")
	conc := flag.Int("conc", 50, "goroutines (and connections)")
	warmup := flag.Float64("warmup", 1, "seconds before the window")
	duration := flag.Float64("duration", 3, "the measured window, seconds")
	flag.Parse()
	if *url == "" || *conc < 1 || *duration <= 0 {
		fmt.Fprintln(os.Stderr, "usage: gohttpclient --url URL [--conc N] "+
			"[--warmup SEC] [--duration SEC]")
		os.Exit(2)
	}
	transport := &http.Transport{
		MaxIdleConns:        *conc,
		MaxIdleConnsPerHost: *conc,
		MaxConnsPerHost:     *conc,
	}
	client := &http.Client{Transport: transport}
	var c counters
	var wg sync.WaitGroup
	for i := 0; i < *conc; i++ {
		wg.Add(1)
		go worker(client, *url, &c, &wg)
	}
	time.Sleep(time.Duration(*warmup * 1e9))
	done0, err0, bytes0 := c.done.Load(), c.errors.Load(), c.bytes.Load()
	cpu0, t0 := cpuSeconds(), time.Now()
	time.Sleep(time.Duration(*duration * 1e9))
	done1, err1, bytes1 := c.done.Load(), c.errors.Load(), c.bytes.Load()
	cpu1, t1 := cpuSeconds(), time.Now()
	c.stop.Store(true)
	wg.Wait()
	out, _ := json.Marshal(map[string]interface{}{
		"requests": done1 - done0, "seconds": t1.Sub(t0).Seconds(),
		"cpu_s": cpu1 - cpu0, "errors": err1 - err0, "bytes": bytes1 - bytes0,
	})
	fmt.Println(string(out))
	if n := c.errors.Load(); n > 0 {
		fmt.Fprintf(os.Stderr, "gohttpclient: %d failed requests, the first: %v\n",
			n, c.firstError.Load())
		os.Exit(1)
	}
}
