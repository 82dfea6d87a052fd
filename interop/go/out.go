package main

// Output: every subcommand prints JSON lines on stdout, one object per line, written by Go's encoder.

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
)

var outMu sync.Mutex

// emit writes v as one JSON line on stdout.
func emit(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"event": "emit_error", "error": err.Error()})
	}
	outMu.Lock()
	defer outMu.Unlock()
	_, _ = os.Stdout.Write(append(b, '\n'))
}

// die prints {"event":"error"} and the error on stderr, and exits 1.
func die(err error) {
	emit(map[string]string{"event": "error", "error": err.Error()})
	fmt.Fprintln(os.Stderr, "ebgo:", err)
	os.Exit(1)
}
