package main

// Go-side DAG controls on a DAG another scheduler runs: Pause/Resume (reference §3.18),
// ResumeBreakpoint (§3.19), Signal (§3.21). Every write is a KV compare-and-set; events go on DAG.*.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// dagPause fences pending steps (held), then writes meta pausing or paused.
func dagPause(ctx context.Context, s *store, dag string) (string, error) {
	for try := 0; try < 5; try++ {
		meta, rev, err := s.meta(ctx, dag)
		if err != nil {
			return "", err
		}
		if meta.Status != "running" {
			return "", fmt.Errorf("ebind: cannot pause DAG %s: status is %s: workflow: DAG not running", dag, meta.Status)
		}
		inFlight := false
		stable := false
		for pass := 0; pass < 5 && !stable; pass++ {
			steps, err := s.steps(ctx, dag)
			if err != nil {
				return "", err
			}
			stable, inFlight = true, false
			for _, st := range steps {
				if st.rec.Status == "running" {
					inFlight = true
				}
				if st.rec.Status != "pending" || st.rec.Held {
					continue
				}
				held := st.rec
				held.Held, held.HeldAt = true, time.Now().UTC()
				if _, err := s.put(ctx, stepKey(dag, held.StepID), held, st.rev); err == nil {
					stable = false
				} else if err != errStale {
					return "", err
				} else {
					stable = false
				}
			}
		}
		if !stable {
			inFlight = true
		}
		meta.Status = "paused"
		if inFlight {
			meta.Status = "pausing"
		} else {
			meta.PausedAt = time.Now().UTC()
		}
		if _, err := s.put(ctx, metaKey(dag), meta, rev); err == errStale {
			continue
		} else if err != nil {
			return "", err
		}
		return meta.Status, nil
	}
	return "", errStale
}

// dagResume sets meta running (paused_at zero), releases held steps, publishes resumed.
func dagResume(ctx context.Context, s *store, dag string) error {
	for try := 0; ; try++ {
		if try == 5 {
			return errStale
		}
		meta, rev, err := s.meta(ctx, dag)
		if err != nil {
			return err
		}
		if meta.Status == "running" {
			break
		}
		if meta.Status != "paused" && meta.Status != "pausing" {
			return fmt.Errorf("ebind: cannot resume DAG %s: status is %s: workflow: DAG not paused", dag, meta.Status)
		}
		meta.Status, meta.PausedAt = "running", time.Time{}
		if _, err := s.put(ctx, metaKey(dag), meta, rev); err == errStale {
			continue
		} else if err != nil {
			return err
		}
		break
	}
	steps, err := s.steps(ctx, dag)
	if err != nil {
		return err
	}
	for _, st := range steps {
		rec, rev := st.rec, st.rev
		for try := 0; try < 5 && rec.Held; try++ {
			rec.Held, rec.HeldAt = false, time.Time{}
			if _, err = s.put(ctx, stepKey(dag, rec.StepID), rec, rev); err != errStale {
				break
			}
			if rev, err = s.get(ctx, stepKey(dag, rec.StepID), &rec); err != nil {
				break
			}
		}
	}
	return s.publish(ctx, Event{Kind: "resumed", DAGID: dag, StepID: dag})
}

// dagSignal creates the signal record (first wins) and always publishes a signal event.
func dagSignal(ctx context.Context, s *store, dag, name string, payload json.RawMessage) (bool, error) {
	if name == "" {
		return false, fmt.Errorf("workflow: signal name must be non-empty")
	}
	meta, _, err := s.meta(ctx, dag)
	if err != nil {
		return false, err
	}
	if meta.Status == "done" || meta.Status == "failed" || meta.Status == "canceled" {
		return false, nil
	}
	if len(payload) == 0 {
		payload = json.RawMessage("null")
	}
	delivered := true
	if _, err := s.put(ctx, signalKey(dag, name), SignalRecord{DAGID: dag, Name: name, Payload: payload, DeliveredAt: time.Now().UTC()}, 0); err == errStale {
		delivered = false
	} else if err != nil {
		return false, err
	}
	return delivered, s.publish(ctx, Event{Kind: "signal", DAGID: dag, StepID: dag, SignalName: name})
}

// dagResumeBreakpoint releases every stopped position carrying label, then publishes resumed.
func dagResumeBreakpoint(ctx context.Context, s *store, dag, label string) (int, error) {
	meta, _, err := s.meta(ctx, dag)
	if err != nil {
		return 0, err
	}
	if meta.Status == "done" || meta.Status == "failed" || meta.Status == "canceled" {
		return 0, nil
	}
	steps, err := s.steps(ctx, dag)
	if err != nil {
		return 0, err
	}
	byID := map[string]StepRecord{}
	for _, st := range steps {
		byID[st.rec.StepID] = st.rec
	}
	released := 0
	for _, st := range steps {
		rec, rev := st.rec, st.rev
		for _, pos := range []string{"before", "after"} {
			if !stoppedAt(rec, pos, meta, byID) || !slices.Contains(labelsAt(rec, pos), label) {
				continue
			}
			if pos == "before" {
				rec.BPBefore = "released"
			} else {
				rec.BPAfter = "released"
			}
			rec.BPBlockedAt = time.Time{}
			n, err := s.put(ctx, stepKey(dag, rec.StepID), rec, rev)
			if err != nil {
				return released, err
			}
			rev = n
			released++
			_ = s.publish(ctx, Event{Kind: "bp_resumed", DAGID: dag, StepID: rec.StepID, BPPosition: pos, BPLabels: []string{label}})
		}
	}
	return released, s.publish(ctx, Event{Kind: "resumed", DAGID: dag, StepID: dag})
}

func labelsAt(rec StepRecord, pos string) []string {
	if pos == "before" {
		return rec.BreakBefore
	}
	return rec.BreakAfter
}

// stoppedAt: blocked-before (pending, armed, not released, deps terminal) or holding-after (done,
// armed, not released) — §3.12.
func stoppedAt(rec StepRecord, pos string, meta DAGMeta, byID map[string]StepRecord) bool {
	if !armed(labelsAt(rec, pos), meta.ActiveBreakpoints) {
		return false
	}
	if pos == "after" {
		return rec.Status == "done" && rec.BPAfter != "released"
	}
	if rec.Status != "pending" || rec.BPBefore == "released" {
		return false
	}
	for _, d := range append(slices.Clone(rec.Deps), rec.OptionalDeps...) {
		if dep, ok := byID[d]; !ok || !isTerminalStep(dep.Status) {
			return false
		}
	}
	return true
}
