/**
 * A listing reads the bucket through a watch of the last value per key, ended when the watch has
 * caught up. A key updated while the watch delivers its first values reaches it twice before it
 * catches up (a DAG advancing while `listDags` runs): each key must still be listed once
 * (seen in a full run as `listDags` returning 10 rows for 9 DAGs).
 */
import { describe, expect, it } from "vitest";
import type { KvEntry, KvWatchOptions } from "../../../src/broker/index.js";
import { encodeDagMeta } from "../../../src/workflow/model/codec.js";
import type { DagMeta } from "../../../src/workflow/model/records.js";
import { listDags } from "../../../src/workflow/ops/listing.js";
import { scanEntries } from "../../../src/workflow/ops/records.js";
import type { WorkflowCore } from "../../../src/workflow/store/core.js";

const utf8 = new TextEncoder();

function entry(key: string, revision: number, value: string): KvEntry {
  return { key, value: utf8.encode(value), revision, operation: "PUT", createdAt: new Date() };
}

/** A core whose bucket watch yields `entries` and then says it caught up. */
function coreWatching(entries: KvEntry[]): WorkflowCore {
  const kv = {
    name: "ebind-dags",
    async *watch(options: KvWatchOptions = {}) {
      for (const e of entries) yield e;
      options.onCaughtUp?.();
    },
  };
  return { store: { kv } } as unknown as WorkflowCore;
}

const meta = (id: string, status: DagMeta["status"]): string => encodeDagMeta({ id, status, createdAt: new Date("2026-12-07T10:00:00Z") });

describe("listing through a watch", () => {
  it("scanEntries gives each key once: the first value seen", async () => {
    const seen: string[] = [];
    await scanEntries(coreWatching([entry("a.meta", 1, "1"), entry("b.meta", 2, "2"), entry("a.meta", 3, "3")]), "*.meta", (e) => seen.push(`${e.key}@${e.revision}`));
    expect(seen).toEqual(["a.meta@1", "b.meta@2"]);
  });

  it("listDags lists a DAG once when its meta changed during the scan", async () => {
    const core = coreWatching([entry("d1.meta", 1, meta("d1", "running")), entry("d2.meta", 2, meta("d2", "running")), entry("d1.meta", 3, meta("d1", "done"))]);
    expect((await listDags(core)).map((r) => r.meta.id).sort()).toEqual(["d1", "d2"]);
  });
});
