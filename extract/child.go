package extract

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// RunChildIfRequested makes this process a sandbox child, and exits, when
// it was started as one (see sandbox.go); otherwise it returns at once.
// Call it first thing in main, and in the TestMain of every package whose
// tests extract text (test binaries are their own sandbox children).
func RunChildIfRequested() {
	if os.Getenv(childEnv) != "1" {
		return
	}
	os.Exit(child(os.Stdin, os.Stdout))
}

// child reads one request from in and answers on out. It applies its
// limits before it reads the file.
func child(in io.Reader, out io.Writer) int {
	runtime.GOMAXPROCS(1)
	debug.SetMaxStack(maxStack)
	br := bufio.NewReaderSize(in, 4096)
	line, err := br.ReadSlice('\n') // at most 4096 bytes
	var req request
	if err == nil {
		err = json.Unmarshal(line, &req)
	}
	if err == nil && (req.Size < 0 || req.Size > maxInput || req.Limit < 0 || req.Limits.Memory <= 0 || req.Limits.CPU <= 0) {
		err = fmt.Errorf("bad request %s", line)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "extract child:", err)
		return 1
	}
	// The GC works harder well before the watchdog's limit.
	debug.SetMemoryLimit(req.Limits.Memory / 2)
	limitProcess(req.Limits)
	go watchMemory(req.Limits.Memory)

	data := make([]byte, req.Size)
	if _, err := io.ReadFull(br, data); err != nil {
		fmt.Fprintln(os.Stderr, "extract child: reading the file:", err)
		return 1
	}
	var resp response
	res, err := inProcess(context.Background(), req.Format, data, req.Limit)
	if err != nil {
		resp.Error = err.Error()
	} else {
		resp.Result = *res
	}
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(resp); err != nil || w.Flush() != nil {
		return 1
	}
	return 0
}

// watchMemory ends the process once the Go runtime has mapped more than
// limit bytes. It is the memory limit where the OS has none (macOS ignores
// RLIMIT_AS) and names the cause where the OS has one. A single huge
// allocation is seen on the next tick: the runtime maps address space,
// which costs nothing until it is touched.
func watchMemory(limit int64) {
	sample := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	for range time.Tick(5 * time.Millisecond) {
		metrics.Read(sample)
		if int64(sample[0].Value.Uint64()) > limit {
			fmt.Fprintf(os.Stderr, "extract child: memory limit exceeded (%d MB mapped)\n", sample[0].Value.Uint64()>>20)
			os.Exit(exitMemory)
		}
	}
}
