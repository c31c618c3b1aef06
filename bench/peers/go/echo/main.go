// Command goecho is the Go peer of the TCP echo benchmark (bench/echo_run
// builds it into the build directory and runs it with GOMAXPROCS=1).
//
//	goecho --port P
//
// The net package, a goroutine per connection: read into the goroutine's
// 4 KiB buffer, write it back. (Not io.Copy: between two TCP connections it
// would splice through a pipe, a different thing from what the others do.)
// Go 1.19 and later raise the soft RLIMIT_NOFILE to the hard limit at start.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
)

func serve(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func main() {
	port := flag.Int("port", -1, "TCP port on 127.0.0.1")
	flag.Parse()
	if *port < 0 {
		fmt.Fprintln(os.Stderr, "usage: goecho --port P")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "accept:", err)
			continue
		}
		go serve(c)
	}
}
