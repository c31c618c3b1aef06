// Command goslowserver is the local site of bench/crawl_run: every page
// answers after a fixed delay, like the slow sites of the brief's crawler.
// bench/crawl_run builds it into the build directory and runs it pinned to
// the core the crawlers do not use.
//
//	goslowserver --port P [--delay 1s] [--pages 1000]
//
//	/page/N      (0 <= N < pages) after the delay: a small HTML page with a
//	             title, a paragraph and links to three other pages
//	/robots.txt  at once: allows everything
//	anything else, and /page/N past the end: 404 at once
//
// Each request waits on its own goroutine's timer, so 100 or 1,000 pages
// in flight cost the server next to nothing: it is never the bottleneck.
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func page(n, pages int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"+
		"<title>Page %d</title></head>\n<body>\n<h1>Page %d</h1>\n", n, n)
	b.WriteString("<p>A page of the local site that bench/crawl_run crawls. " +
		"It answers after a fixed delay, as a slow site would.</p>\n<ul>\n")
	for _, k := range []int{1, 7, 31} {
		m := (n + k) % pages
		fmt.Fprintf(&b, "<li><a href=\"/page/%d\">page %d</a></li>\n", m, m)
	}
	b.WriteString("</ul>\n</body></html>\n")
	return b.String()
}

func main() {
	port := flag.Int("port", -1, "TCP port on 127.0.0.1")
	delay := flag.Duration("delay", time.Second, "delay before each page")
	pages := flag.Int("pages", 1000, "pages /page/0 ... /page/pages-1")
	flag.Parse()
	if *port < 0 || *pages < 1 {
		fmt.Fprintln(os.Stderr, "usage: goslowserver --port P [--delay D] [--pages N]")
		os.Exit(2)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "User-agent: *\nAllow: /\n")
	})
	mux.HandleFunc("/page/", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/page/"))
		if err != nil || n < 0 || n >= *pages {
			http.NotFound(w, r)
			return
		}
		time.Sleep(*delay)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page(n, *pages))
	})
	srv := &http.Server{
		Addr:        fmt.Sprintf("127.0.0.1:%d", *port),
		Handler:     mux,
		IdleTimeout: 120 * time.Second,
	}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
