package main

// `ebgo dag …`: submit, get, pause, resume, signal, bp-resume.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"
)

func runDAG(args []string) {
	if len(args) == 0 {
		die(errors.New("dag: want submit|get|pause|resume|signal|bp-resume"))
	}
	fs := flag.NewFlagSet("dag", flag.ExitOnError)
	url := fs.String("url", "", "NATS URL")
	specJSON := fs.String("spec", "", "submit: the DAG as JSON")
	_ = fs.Parse(args[1:])
	rest := fs.Args()
	js, ctx, done := session(*url, 20*time.Second)
	defer done()
	s, err := openStore(ctx, js)
	if err != nil {
		die(err)
	}
	need := func(n int) {
		if len(rest) < n {
			die(fmt.Errorf("dag %s: want %d arguments, got %d", args[0], n, len(rest)))
		}
	}
	switch args[0] {
	case "submit":
		var spec dagSpec
		if err := json.Unmarshal([]byte(*specJSON), &spec); err != nil {
			die(fmt.Errorf("--spec: %w", err))
		}
		err = dagSubmit(ctx, s, spec)
	case "get":
		need(1)
		err = dagGet(ctx, s, rest[0])
	case "pause":
		need(1)
		var status string
		if status, err = dagPause(ctx, s, rest[0]); err == nil {
			emit(map[string]string{"event": "paused", "dag_id": rest[0], "status": status})
		}
	case "resume":
		need(1)
		if err = dagResume(ctx, s, rest[0]); err == nil {
			emit(map[string]string{"event": "resumed", "dag_id": rest[0]})
		}
	case "signal":
		need(2)
		var payload json.RawMessage
		if len(rest) > 2 {
			if !json.Valid([]byte(rest[2])) {
				die(fmt.Errorf("payload is not valid JSON: %q", rest[2]))
			}
			payload = json.RawMessage(rest[2])
		}
		var delivered bool
		if delivered, err = dagSignal(ctx, s, rest[0], rest[1], payload); err == nil {
			emit(map[string]any{"event": "signal", "dag_id": rest[0], "name": rest[1], "delivered": delivered})
		}
	case "bp-resume":
		need(2)
		var n int
		if n, err = dagResumeBreakpoint(ctx, s, rest[0], rest[1]); err == nil {
			emit(map[string]any{"event": "bp_resumed", "dag_id": rest[0], "label": rest[1], "released": n})
		}
	default:
		err = fmt.Errorf("dag: unknown subcommand %q", args[0])
	}
	if err != nil {
		die(err)
	}
}

// dagGet prints {"event":"dag","meta":…,"steps":[…],"results":{step: raw},"signals":[…]}, every
// document decoded into Go's structs first (DAGInfo plus results and signals).
func dagGet(ctx context.Context, s *store, dag string) error {
	meta, _, err := s.meta(ctx, dag)
	if err != nil {
		return err
	}
	steps, err := s.steps(ctx, dag)
	if err != nil {
		return err
	}
	recs := make([]StepRecord, 0, len(steps))
	results := map[string]json.RawMessage{}
	for _, st := range steps {
		recs = append(recs, st.rec)
		if e, err := s.kv.Get(ctx, resultKey(dag, st.rec.StepID)); err == nil && len(e.Value()) > 0 {
			results[st.rec.StepID] = json.RawMessage(e.Value())
		}
	}
	slices.SortFunc(recs, func(a, b StepRecord) int { return strings.Compare(a.StepID, b.StepID) })
	var signals []SignalRecord
	keys, _ := s.keys(ctx)
	for _, k := range keys {
		if strings.HasPrefix(k, dag+".signal.") {
			var sr SignalRecord
			if _, err := s.get(ctx, k, &sr); err == nil {
				signals = append(signals, sr)
			}
		}
	}
	emit(map[string]any{"event": "dag", "meta": meta, "steps": recs, "results": results, "signals": signals})
	return nil
}
