package main

import (
	"fmt"
	"net"
	"os"
	"strconv"
)

// runFreePort prints N ports that were free on 127.0.0.1 a moment ago (all held open at
// once, so they differ from each other).
func runFreePort(args []string) int {
	n := 1
	if len(args) > 0 {
		v, err := strconv.Atoi(args[0])
		if err != nil || v < 1 {
			fmt.Fprintf(os.Stderr, "cvcluster freeport: count %q is not a positive number\n", args[0])
			return 2
		}
		n = v
	}
	var ls []net.Listener
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintf(os.Stderr, "cvcluster freeport: %v\n", err)
			return 1
		}
		ls = append(ls, l)
		fmt.Println(l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		_ = l.Close()
	}
	return 0
}
