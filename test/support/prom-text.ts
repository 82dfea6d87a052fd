/**
 * A small parser of Prometheus' text exposition format (version 0.0.4), for tests that scrape
 * `/metrics` over HTTP and check what a Prometheus server would read: `# TYPE` lines and samples
 * `name{label="value",…} value`, with the format's escapes (`\\`, `\"`, `\n`) in label values.
 * @module
 */

/** One sample line. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A parsed exposition: its samples and the declared type of each metric family. */
export interface Exposition {
  readonly samples: readonly Sample[];
  readonly types: ReadonlyMap<string, string>;
  /**
   * The value of the one sample named `name` whose labels include `labels`; undefined when none.
   * @throws Error when several samples match (the test asked an ambiguous question).
   */
  value(name: string, labels?: Readonly<Record<string, string>>): number | undefined;
  /** The sum of every sample named `name` whose labels include `labels` (0 when none). */
  sum(name: string, labels?: Readonly<Record<string, string>>): number;
  /** Every sample named `name` whose labels include `labels`. */
  find(name: string, labels?: Readonly<Record<string, string>>): Sample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/;

/** Parses the text; throws on a line that is neither a comment, blank, nor a sample. */
export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const [i, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue;
    if (line.startsWith("#")) {
      const m = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (m) types.set(m[1]!, m[2]!);
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`exposition line ${i + 1} is not a sample: ${JSON.stringify(line)}`);
    samples.push({ name: m[1]!, labels: parseLabels(m[3] ?? "", i + 1), value: parseValue(m[4]!, i + 1) });
  }
  const find = (name: string, labels: Readonly<Record<string, string>> = {}): Sample[] =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return {
    samples,
    types,
    find,
    value(name, labels) {
      const found = find(name, labels);
      if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels ?? {})}`);
      return found[0]?.value;
    },
    sum: (name, labels) => find(name, labels).reduce((a, s) => a + s.value, 0),
  };
}

function parseValue(text: string, line: number): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  const v = Number(text);
  if (Number.isNaN(v)) throw new Error(`exposition line ${line}: bad value ${JSON.stringify(text)}`);
  return v;
}

function parseLabels(text: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const name = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(text.slice(i));
    if (!name) throw new Error(`exposition line ${line}: bad labels ${JSON.stringify(text)}`);
    i += name[0].length;
    let value = "";
    for (;;) {
      const c = text[i++];
      if (c === undefined) throw new Error(`exposition line ${line}: unterminated label value`);
      if (c === '"') break;
      if (c === "\\") {
        const e = text[i++];
        value += e === "n" ? "\n" : e;
      } else value += c;
    }
    labels[name[1]!] = value;
    if (text[i] === ",") i++;
  }
  return labels;
}

/** GETs `url` and parses the body; fails unless the answer is 200 with Prometheus' text content type. */
export async function scrape(url: string): Promise<Exposition> {
  const res = await fetch(url);
  const body = await res.text();
  if (res.status !== 200) throw new Error(`scrape ${url}: HTTP ${res.status}: ${body}`);
  const type = res.headers.get("content-type") ?? "";
  if (!type.startsWith("text/plain")) throw new Error(`scrape ${url}: content type ${type}`);
  return parseExposition(body);
}
