/**
 * Claims: the targets a worker serves besides untargeted tasks (reference §1.3, §3.9). Every worker
 * holds its concrete claim `worker:<id>`; a {@link ClaimProvider} may add logical ones (`"gpu"`,
 * `"primary"`), refreshed in the background.
 * @module
 */

/** Supplies the logical claims a worker holds now. */
export interface ClaimProvider {
  /** The current claims; an error keeps the previous set. */
  claims(signal: AbortSignal): Promise<readonly string[]> | readonly string[];
}

/** The concrete claim of a worker: `worker:<workerId>`. */
export function concreteTarget(workerId: string): string {
  return `worker:${workerId}`;
}

/** A provider from a function. */
export function claimsFunc(fn: (signal: AbortSignal) => Promise<readonly string[]> | readonly string[]): ClaimProvider {
  return { claims: fn };
}

/** A fixed set of claims, trimmed, without empty strings and duplicates, in the given order. */
export function staticClaims(...claims: string[]): ClaimProvider {
  const cleaned = normalizeClaims(claims);
  return { claims: () => cleaned };
}

/** Trims, drops empty strings and duplicates, keeps order. */
export function normalizeClaims(claims: Iterable<string>): string[] {
  const out: string[] = [];
  for (const raw of claims) {
    const c = raw.trim();
    if (c.length > 0 && !out.includes(c)) out.push(c);
  }
  return out;
}
