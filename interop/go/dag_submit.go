package main

// `ebgo dag submit --spec JSON`: DAG.Submit as reference §3.10/§3.11 describe it, for a DAG given
// as JSON. Step arguments are raw JSON, except the placeholders {"$ref":"a"} (Ref, required),
// {"$ref":"a","$default":X} (RefOrDefault) and {"$signal":"n"} (SignalRef).

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
)

type stepSpec struct {
	ID          string            `json:"id"`
	Fn          string            `json:"fn"`
	Args        []json.RawMessage `json:"args"`
	After       []string          `json:"after"`
	AfterAny    []string          `json:"after_any"`
	Optional    bool              `json:"optional"`
	WaitSignals []string          `json:"wait_signals"`
	BreakBefore []string          `json:"break_before"`
	BreakAfter  []string          `json:"break_after"`
	Policy      *RetryPolicy      `json:"policy"`
	Target      string            `json:"target"`
}

type dagSpec struct {
	ID                string       `json:"id"`
	Labels            []string     `json:"labels"`
	ActiveBreakpoints []string     `json:"active_breakpoints"`
	DefaultPolicy     *RetryPolicy `json:"default_policy"`
	Steps             []stepSpec   `json:"steps"`
}

// placeholder turns a spec argument into what Go's builder stores in args_json.
func placeholder(arg json.RawMessage) (raw json.RawMessage, ref string, sig string, err error) {
	var p struct {
		Ref     *string         `json:"$ref"`
		Default json.RawMessage `json:"$default"`
		Signal  *string         `json:"$signal"`
	}
	if json.Unmarshal(arg, &p) != nil || (p.Ref == nil && p.Signal == nil) {
		return arg, "", "", nil
	}
	if p.Signal != nil {
		raw, err = json.Marshal(SigRef{Marker: "__ebind_signal__", Name: *p.Signal})
		return raw, "", *p.Signal, err
	}
	r := Ref{Marker: "__ebind_ref__", StepID: *p.Ref, Mode: "required"}
	if p.Default != nil {
		r.Mode, r.Default = "or_default", p.Default
	}
	raw, err = json.Marshal(r)
	return raw, *p.Ref, "", err
}

func appendUnique(list []string, items ...string) []string {
	for _, it := range items {
		if it != "" && !slices.Contains(list, it) {
			list = append(list, it)
		}
	}
	return list
}

func dagSubmit(ctx context.Context, s *store, spec dagSpec) error {
	if spec.ID == "" {
		spec.ID = newUUID()
	}
	now := time.Now().UTC()
	meta := DAGMeta{ID: spec.ID, Status: "running", CreatedAt: now, DefaultPolicy: spec.DefaultPolicy,
		ActiveBreakpoints: appendUnique(nil, spec.ActiveBreakpoints...), Labels: appendUnique(nil, spec.Labels...)}
	if _, err := s.put(ctx, metaKey(spec.ID), meta, 0); err != nil {
		return fmt.Errorf("workflow: put meta: %w", err)
	}
	type created struct {
		rec StepRecord
		rev uint64
	}
	var roots []created
	for _, st := range spec.Steps {
		rec := StepRecord{DAGID: spec.ID, StepID: st.ID, FnName: st.Fn, Status: "pending", Optional: st.Optional,
			BreakBefore: st.BreakBefore, BreakAfter: st.BreakAfter, AddedAt: now}
		args := make([]json.RawMessage, 0, len(st.Args))
		var sigRefs []string
		for i, a := range st.Args {
			raw, ref, sig, err := placeholder(a)
			if err != nil {
				return fmt.Errorf("workflow: step %q: marshal arg %d: %w", st.ID, i, err)
			}
			args = append(args, raw)
			rec.Deps = appendUnique(rec.Deps, ref)
			sigRefs = appendUnique(sigRefs, sig)
		}
		rec.ArgsJSON, _ = json.Marshal(args)
		rec.Deps = appendUnique(rec.Deps, st.After...)
		for _, d := range st.AfterAny {
			if !slices.Contains(rec.Deps, d) {
				rec.OptionalDeps = appendUnique(rec.OptionalDeps, d)
			}
		}
		rec.WaitSignals = appendUnique(appendUnique(nil, st.WaitSignals...), sigRefs...)
		rec.Policy = st.Policy
		if rec.Policy == nil && spec.DefaultPolicy != nil {
			p := *spec.DefaultPolicy
			rec.Policy = &p
		}
		if st.Target != "" {
			rec.Placement = &PlacementSpec{Mode: "direct", Target: st.Target}
		}
		rev, err := s.put(ctx, stepKey(spec.ID, st.ID), rec, 0)
		if err != nil {
			return fmt.Errorf("workflow: put step %q: %w", st.ID, err)
		}
		if len(rec.Deps) == 0 && len(rec.OptionalDeps) == 0 {
			roots = append(roots, created{rec, rev})
		}
	}
	signals := map[string]SignalRecord{}
	for _, r := range roots {
		for _, name := range r.rec.WaitSignals {
			var sr SignalRecord
			if _, err := s.get(ctx, signalKey(spec.ID, name), &sr); err == nil {
				signals[name] = sr
			}
		}
	}
	var started, blocked, waiting []string
	for _, r := range roots {
		outcome, err := startRoot(ctx, s, meta, r.rec, r.rev, signals)
		if err != nil {
			return err
		}
		switch outcome {
		case "started":
			started = append(started, r.rec.StepID)
		case "blocked":
			blocked = append(blocked, r.rec.StepID)
		case "waiting":
			waiting = append(waiting, r.rec.StepID)
		}
	}
	emit(map[string]any{"event": "submitted", "dag_id": spec.ID, "started": started, "blocked": blocked, "waiting": waiting})
	return nil
}

// startRoot is §3.10 step 6 for one root.
func startRoot(ctx context.Context, s *store, meta DAGMeta, rec StepRecord, rev uint64, signals map[string]SignalRecord) (string, error) {
	for attempt := 0; attempt < 5; attempt++ {
		if rec.Status != "pending" || rec.Held {
			return "owned", nil
		}
		if armed(rec.BreakBefore, meta.ActiveBreakpoints) && rec.BPBefore != "released" {
			mark := rec
			mark.BPBefore, mark.BPBlockedAt = "blocked", time.Now().UTC()
			if _, err := s.put(ctx, stepKey(rec.DAGID, rec.StepID), mark, rev); err == nil {
				_ = s.publish(ctx, Event{Kind: "bp_hit", DAGID: rec.DAGID, StepID: rec.StepID, BPPosition: "before", BPLabels: rec.BreakBefore})
			}
			return "blocked", nil
		}
		for _, name := range rec.WaitSignals {
			if _, ok := signals[name]; !ok {
				return "waiting", nil
			}
		}
		run := rec
		run.Status, run.StartedAt = "running", time.Now().UTC()
		if _, err := s.put(ctx, stepKey(rec.DAGID, rec.StepID), run, rev); err != nil {
			if err != errStale {
				return "", fmt.Errorf("workflow: mark root running %q: %w", rec.StepID, err)
			}
			if rev, err = s.get(ctx, stepKey(rec.DAGID, rec.StepID), &rec); err != nil {
				return "", fmt.Errorf("workflow: get root %q: %w", rec.StepID, err)
			}
			continue
		}
		payload, err := resolveSignals(rec.ArgsJSON, signals)
		if err != nil {
			return "", err
		}
		if err := enqueueStep(ctx, s, run, payload); err != nil {
			return "", fmt.Errorf("workflow: enqueue root %q: %w", rec.StepID, err)
		}
		return "started", nil
	}
	return "", fmt.Errorf("workflow: mark root running %q: %w", rec.StepID, errStale)
}

func armed(labels, active []string) bool {
	for _, l := range labels {
		if slices.Contains(active, l) {
			return true
		}
	}
	return false
}

// resolveSignals replaces SigRef arguments by the delivered payloads (roots have no Refs).
func resolveSignals(argsJSON json.RawMessage, signals map[string]SignalRecord) (json.RawMessage, error) {
	var args []json.RawMessage
	if err := json.Unmarshal(argsJSON, &args); err != nil {
		return nil, err
	}
	for i, a := range args {
		var sr SigRef
		if json.Unmarshal(a, &sr) == nil && sr.Marker == "__ebind_signal__" {
			p := signals[sr.Name].Payload
			if len(p) == 0 {
				p = json.RawMessage("null")
			}
			args[i] = p
		}
	}
	return json.Marshal(args)
}

// enqueueStep publishes the step's task (§3.11) with msg-id <dag>:<step>.
func enqueueStep(ctx context.Context, s *store, rec StepRecord, payload json.RawMessage) error {
	t := Task{ID: rec.DAGID + ":" + rec.StepID, Name: rec.FnName, Payload: payload, EnqueuedAt: time.Now().UTC(),
		DAGID: rec.DAGID, StepID: rec.StepID, RetryPolicy: rec.Policy}
	if rec.Placement != nil && rec.Placement.Mode == "direct" {
		t.Target = rec.Placement.Target
	}
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("workflow: marshal task: %w", err)
	}
	msg := &nats.Msg{Subject: taskPublishSubject(t.Name, t.Target), Data: b, Header: nats.Header{}}
	msg.Header.Set(msgIDHeader, t.ID)
	_, err = s.js.PublishMsg(ctx, msg)
	return err
}
