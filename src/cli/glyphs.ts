/**
 * Step status glyphs and the DAG tree layout shared by `dag tree` and the live view of `dag watch`
 * (reference §4.2 `dag tree`).
 * @module
 */

/** ✓ done, ✗ failed, ⊘ skipped, ■ canceled, ▶ running, ⋯ pending, ? anything else. */
export function statusGlyph(status: string): string {
  switch (status) {
    case "done":
      return "✓";
    case "failed":
      return "✗";
    case "skipped":
      return "⊘";
    case "canceled":
      return "■";
    case "running":
      return "▶";
    case "pending":
      return "⋯";
    default:
      return "?";
  }
}

/** A node of the tree: a step, its status and required dependencies, and what to print after it. */
export interface TreeNode {
  readonly id: string;
  readonly status: string;
  readonly deps: readonly string[];
  /** Appended to the line (` ⦿bp`, a duration). */
  readonly suffix?: string | undefined;
}

/**
 * The tree's lines (without the `DAG …` header): roots are steps without dependencies, sorted;
 * children (steps depending on a node) sorted; each step printed once, under its first parent
 * reached; steps never reached appended as roots. A line is `<prefix><├─|└─> <glyph> <id> [<status>]`
 * plus the node's suffix; every root uses `└─`; a child's prefix adds `│  ` under a non-last node,
 * three spaces under a last one.
 */
export function treeLines(nodes: readonly TreeNode[]): string[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const sorted = [...nodes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const children = new Map<string, string[]>();
  for (const n of sorted) for (const d of n.deps) if (byId.has(d)) (children.get(d) ?? children.set(d, []).get(d)!).push(n.id);
  const seen = new Set<string>();
  const lines: string[] = [];
  const visit = (id: string, prefix: string, last: boolean, root: boolean): void => {
    seen.add(id);
    const n = byId.get(id)!;
    lines.push(`${prefix}${root || last ? "└─" : "├─"} ${statusGlyph(n.status)} ${n.id} [${n.status}]${n.suffix ?? ""}`);
    const kids = (children.get(id) ?? []).filter((k) => !seen.has(k));
    // Claim the children first so a node shared by two siblings goes under the first.
    const childPrefix = prefix + (root || last ? "   " : "│  ");
    kids.forEach((k) => seen.add(k));
    kids.forEach((k, i) => {
      seen.delete(k);
      visit(k, childPrefix, i === kids.length - 1, false);
    });
  };
  for (const n of sorted) if (n.deps.length === 0) visit(n.id, "", true, true);
  for (const n of sorted) if (!seen.has(n.id)) visit(n.id, "", true, true);
  return lines;
}
