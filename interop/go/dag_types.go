package main

// The workflow documents of Go ebind (reference §2.6.6–§2.6.10, §2.7), as Go ebind declares them.

import (
	"encoding/json"
	"time"
)

// DAGMeta is KV <dag>.meta (§2.6.6).
type DAGMeta struct {
	ID                string       `json:"id"`
	Status            string       `json:"status"`
	CreatedAt         time.Time    `json:"created_at"`
	DefaultPolicy     *RetryPolicy `json:"default_policy,omitempty"`
	PausedAt          time.Time    `json:"paused_at"`
	TerminalSteps     []string     `json:"terminal_steps,omitempty"`
	ActiveBreakpoints []string     `json:"active_breakpoints,omitempty"`
	Labels            []string     `json:"labels,omitempty"`
}

// PlacementSpec is a step's placement (§2.6.7).
type PlacementSpec struct {
	Mode   string `json:"mode,omitempty"`
	Target string `json:"target,omitempty"`
	StepID string `json:"step_id,omitempty"`
}

// StepRecord is KV <dag>.step.<step> (§2.6.7).
type StepRecord struct {
	DAGID        string          `json:"dag_id"`
	StepID       string          `json:"step_id"`
	FnName       string          `json:"fn_name"`
	ArgsJSON     json.RawMessage `json:"args_json"`
	Deps         []string        `json:"deps,omitempty"`
	OptionalDeps []string        `json:"optional_deps,omitempty"`
	Status       string          `json:"status"`
	Attempt      int             `json:"attempt"`
	ErrorKind    string          `json:"error_kind,omitempty"`
	ErrorMessage string          `json:"error_message,omitempty"`
	Optional     bool            `json:"optional,omitempty"`
	Held         bool            `json:"held,omitempty"`
	HeldAt       time.Time       `json:"held_at"`
	BreakBefore  []string        `json:"break_before,omitempty"`
	BreakAfter   []string        `json:"break_after,omitempty"`
	BPBefore     string          `json:"bp_before,omitempty"`
	BPAfter      string          `json:"bp_after,omitempty"`
	BPBlockedAt  time.Time       `json:"bp_blocked_at"`
	WaitSignals  []string        `json:"wait_signals,omitempty"`
	Policy       *RetryPolicy    `json:"policy,omitempty"`
	Placement    *PlacementSpec  `json:"placement,omitempty"`
	WorkerID     string          `json:"worker_id,omitempty"`
	AddedAt      time.Time       `json:"added_at"`
	StartedAt    time.Time       `json:"started_at"`
	FinishedAt   time.Time       `json:"finished_at"`
}

// Ref is the argument placeholder for an upstream result (§2.6.8).
type Ref struct {
	Marker  string          `json:"__ebind_ref__"`
	StepID  string          `json:"step_id"`
	Mode    string          `json:"mode"`
	Default json.RawMessage `json:"default,omitempty"`
}

// SigRef is the argument placeholder for a signal's payload (§2.6.8).
type SigRef struct {
	Marker string `json:"__ebind_signal__"`
	Name   string `json:"name"`
}

// Event is the body on DAG.* (§2.6.9).
type Event struct {
	Kind         string   `json:"kind"`
	DAGID        string   `json:"dag_id"`
	StepID       string   `json:"step_id"`
	Status       string   `json:"status,omitempty"`
	ErrorKind    string   `json:"error_kind,omitempty"`
	ErrorMessage string   `json:"error_message,omitempty"`
	BPPosition   string   `json:"bp_position,omitempty"`
	BPLabels     []string `json:"bp_labels,omitempty"`
	SignalName   string   `json:"signal_name,omitempty"`
}

// SignalRecord is KV <dag>.signal.<b64url(name)> (§2.6.10).
type SignalRecord struct {
	DAGID       string          `json:"dag_id"`
	Name        string          `json:"name"`
	Payload     json.RawMessage `json:"payload,omitempty"`
	DeliveredAt time.Time       `json:"delivered_at"`
}

func metaKey(dag string) string         { return dag + ".meta" }
func stepKey(dag, step string) string   { return dag + ".step." + step }
func resultKey(dag, step string) string { return dag + ".result." + step }
func signalKey(dag, name string) string { return dag + ".signal." + b64url(name) }
func eventSubject(e Event) string {
	last := e.StepID
	if e.Kind == "signal" {
		last = b64url(e.SignalName)
	}
	return "DAG." + e.DAGID + "." + e.Kind + "." + last
}

func isTerminalStep(s string) bool {
	return s == "done" || s == "failed" || s == "skipped" || s == "canceled"
}
