package main

// The task-queue documents of Go ebind (reference §2.6.1–§2.6.5), declared the way Go ebind declares
// them: time.Time, time.Duration (integer nanoseconds), json.RawMessage for payloads and results.
// Go's encoding/json is then what reads and writes every document the TypeScript side meets.

import (
	"encoding/json"
	"fmt"
	"time"
)

// Task is the envelope on TASKS.* / TASKS_TARGET.* (§2.6.1).
type Task struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Payload     json.RawMessage   `json:"payload"`
	ReplyTo     string            `json:"reply_to,omitempty"`
	Deadline    time.Time         `json:"deadline"`
	EnqueuedAt  time.Time         `json:"enqueued_at"`
	Attempt     int               `json:"attempt"`
	TraceCtx    map[string]string `json:"trace_ctx,omitempty"`
	DAGID       string            `json:"dag_id,omitempty"`
	StepID      string            `json:"step_id,omitempty"`
	RetryPolicy *RetryPolicy      `json:"retry_policy,omitempty"`
	Target      string            `json:"target,omitempty"`
	WorkerID    string            `json:"worker_id,omitempty"`
}

// Response is the body on RESP.<client>.<task> (§2.6.3).
type Response struct {
	TaskID      string          `json:"task_id"`
	Result      json.RawMessage `json:"result,omitempty"`
	Error       *TaskError      `json:"error,omitempty"`
	Attempts    int             `json:"attempts"`
	CompletedAt time.Time       `json:"completed_at"`
}

// TaskError is a handler failure (§2.6.4).
type TaskError struct {
	Kind      string `json:"kind"`
	Message   string `json:"message"`
	Retryable bool   `json:"retryable"`
}

func (e *TaskError) Error() string { return fmt.Sprintf("%s: %s", e.Kind, e.Message) }

// Error kinds of §1.1.
const (
	KindHandler        = "handler"
	KindDecode         = "decode"
	KindUnknownHandler = "unknown_handler"
	KindPanic          = "panic"
	KindDeadline       = "deadline"
	KindArgCount       = "arg_count"
)

// DLQEntry is the body on DLQ.<name> (§2.6.5).
type DLQEntry struct {
	Task           Task      `json:"task"`
	Error          TaskError `json:"error"`
	FinalAttempt   int       `json:"final_attempt"`
	DeadLetteredAt time.Time `json:"dead_lettered_at"`
}
