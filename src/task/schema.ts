/**
 * Running Standard Schema validators (zod, valibot, arktype…) and describing their issues in one
 * line, for the dispatcher's argument and result checks (DESIGN §4, "Validation").
 * @module
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { pathKey } from "./json-safe.js";

/** The outcome of {@link runSchema}: the schema's output value, or a one-line description of what failed. */
export type SchemaOutcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly problem: string };

/** How many issues a message lists before summarising the rest. */
const MAX_LISTED_ISSUES = 5;

/** Whether `value` looks like a Standard Schema v1 validator. */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  if ((typeof value !== "object" && typeof value !== "function") || value === null) return false;
  const props: unknown = (value as { "~standard"?: unknown })["~standard"];
  return typeof props === "object" && props !== null && typeof (props as { validate?: unknown }).validate === "function";
}

/**
 * Formats an issue path as a JavaScript accessor: `["user", "email"]` → `.user.email`,
 * `[0, {key: "a b"}]` → `[0]["a b"]`. Empty or missing path → `""`.
 */
export function formatIssuePath(path: StandardSchemaV1.Issue["path"]): string {
  let out = "";
  for (const segment of path ?? []) {
    const key: PropertyKey = typeof segment === "object" && segment !== null ? segment.key : segment;
    if (typeof key === "number") out += `[${key}]`;
    else if (typeof key === "symbol") out += `[${key.toString()}]`;
    else out = pathKey(out, key);
  }
  return out;
}

/**
 * Describes issues as `<label> at <path>: <message>` (just `<label>: <message>` for an empty path),
 * joined by `; `, listing at most five.
 */
export function formatIssues(label: string, issues: readonly StandardSchemaV1.Issue[]): string {
  const parts = issues.slice(0, MAX_LISTED_ISSUES).map((issue) => {
    const path = formatIssuePath(issue.path);
    return `${label}${path === "" ? "" : ` at ${path}`}: ${issue.message}`;
  });
  if (issues.length > MAX_LISTED_ISSUES) parts.push(`and ${issues.length - MAX_LISTED_ISSUES} more issues`);
  return parts.join("; ");
}

/**
 * Validates `value` with `schema` (whose `validate` may return a promise). A validator that throws is
 * reported as a failure, not rethrown.
 * @param label how the value is named in the problem, e.g. `"arg 0"` or `"result"`.
 */
export async function runSchema(schema: StandardSchemaV1, value: unknown, label: string): Promise<SchemaOutcome> {
  let result: StandardSchemaV1.Result<unknown>;
  try {
    result = await schema["~standard"].validate(value);
  } catch (e) {
    return { ok: false, problem: `${label}: the validator threw: ${e instanceof Error ? e.message : String(e)}` };
  }
  // Standard Schema: a falsy `issues` means success.
  if (result.issues) return { ok: false, problem: formatIssues(label, result.issues) };
  return { ok: true, value: result.value };
}
