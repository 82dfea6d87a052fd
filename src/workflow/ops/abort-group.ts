/**
 * One abort listener per signal, shared by every wait that passed it (issue 14): a process that
 * awaits 10,000 steps with one `AbortSignal` adds one listener to it, not 10,000 (each a closure and
 * a listener record, and a walk of the signal's list to add or remove). The members are a set, so a
 * wait that settles leaves it at once; the listener is removed with the last member.
 * @module
 */

/** A wait that ends when its signal aborts. */
export interface AbortMember {
  /** The signal aborted with `reason` (the member has already left the group). Must not throw. */
  onAbort(reason: unknown): void;
}

/** The members of each signal that has any. */
const groups = new WeakMap<AbortSignal, Set<AbortMember>>();

/** The one listener every group's signal carries. */
function onSignalAbort(this: AbortSignal): void {
  const members = groups.get(this);
  if (members === undefined) return;
  groups.delete(this);
  for (const member of members) member.onAbort(this.reason);
}

/** Adds `member` to `signal`'s group: its `onAbort` is called once when the signal aborts. The signal must not be aborted yet. */
export function joinAbort(signal: AbortSignal, member: AbortMember): void {
  let members = groups.get(signal);
  if (members === undefined) {
    members = new Set();
    groups.set(signal, members);
    signal.addEventListener("abort", onSignalAbort, { once: true });
  }
  members.add(member);
}

/** Takes `member` out of `signal`'s group (nothing if it is not in it). */
export function leaveAbort(signal: AbortSignal, member: AbortMember): void {
  const members = groups.get(signal);
  if (members === undefined || !members.delete(member) || members.size > 0) return;
  groups.delete(signal);
  signal.removeEventListener("abort", onSignalAbort);
}
