/**
 * NATS subject patterns shared by the backends (`*`: one token, `>`: one or more trailing tokens):
 * which patterns contain which, and whether a consumer's filter fits its stream's subjects by the
 * rule nats-server 2.9 applies when it creates or updates a consumer (error 10093, "consumer filter
 * subject is not a valid subset of the interest subjects"): the filter is accepted when it is a
 * subset of one of the stream's subjects, or, when the filter has a wildcard, when one of the
 * stream's subjects is a subset of it. nats-server 2.10 and later no longer check this and create a
 * consumer that never receives anything, so the NATS backend applies the rule itself on every server.
 * @module
 */

/** True when every subject matching `inner` also matches `outer` (a filter inside a stream's subjects). */
export function patternIsSubset(inner: string, outer: string): boolean {
  const x = inner.split(".");
  const y = outer.split(".");
  for (let i = 0; i < x.length; i++) {
    const o = y[i];
    if (o === undefined) return false;
    if (o === ">") return true;
    const s = x[i];
    if (s === ">") return false;
    if (s === "*" && o !== "*") return false;
    if (s !== "*" && o !== "*" && s !== o) return false;
  }
  return x.length === y.length;
}

/**
 * True when a consumer filter fits a stream's subjects under the 2.9 rule (see the module doc).
 * A stream without subjects (a mirror, or one fed only by sources) accepts any filter, as the server does.
 *
 * @param filter the consumer's filter subject, non-empty.
 * @param streamSubjects the stream's configured subjects.
 */
export function filterFitsStream(filter: string, streamSubjects: readonly string[]): boolean {
  if (streamSubjects.length === 0) return true;
  const wildcard = filter.split(".").some((t) => t === "*" || t === ">");
  return streamSubjects.some((s) => patternIsSubset(filter, s) || (wildcard && patternIsSubset(s, filter)));
}
