// Command ebgo stands in for Go ebind in the interop tests: its documents are Go structs shaped as
// reference/ebind-reference.md §2 says Go ebind's are, read and written by encoding/json.
//
//	ebgo streams ensure --url U
//	ebgo worker  --url U [--id ID] [--claims a,b]
//	ebgo enqueue --url U --name N [--args JSON] [--target T] [--deadline-in D] [--retry JSON] [--async]
//	ebgo dlq list|requeue --url U [seq...]
//	ebgo dag submit|get|pause|resume|signal|bp-resume --url U ...
//	ebgo produce --url U [--name N] [--n N] [--inflight K] [--await]   (a load generator for bench/)
//
// Every subcommand prints JSON lines on stdout.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		die(errors.New("usage: ebgo streams|worker|enqueue|dlq|dag ..."))
	}
	switch os.Args[1] {
	case "streams":
		runStreams(os.Args[2:])
	case "worker":
		runWorker(os.Args[2:])
	case "enqueue":
		runEnqueue(os.Args[2:])
	case "dlq":
		runDLQ(os.Args[2:])
	case "dag":
		runDAG(os.Args[2:])
	case "produce":
		runProduce(os.Args[2:])
	default:
		die(fmt.Errorf("unknown command %q", os.Args[1]))
	}
}

// runStreams: `streams ensure` is stream.EnsureStreams with the default config.
func runStreams(args []string) {
	if len(args) == 0 || args[0] != "ensure" {
		die(errors.New("streams: want ensure"))
	}
	fs := flag.NewFlagSet("streams", flag.ExitOnError)
	url := fs.String("url", "", "NATS URL")
	_ = fs.Parse(args[1:])
	js, ctx, done := session(*url, 10*time.Second)
	defer done()
	if err := ensureStreams(ctx, js); err != nil {
		die(err)
	}
	emit(map[string]string{"event": "ensured"})
}
