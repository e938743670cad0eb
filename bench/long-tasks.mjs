// What each long task of a page load ran: reads a trace kept by bench/lighthouse.mjs
// (TERN_LIGHTHOUSE_TRACE=<dir>) and prints, for every task on the page's main thread longer than
// MIN_MS (default 12.5: what a phone's 4x slower CPU turns into 50 ms, Lighthouse's limit of a
// long task), the functions that took its time (self time, and the app's and the loader's
// functions by inclusive time). For the names of Rust functions, build the site without
// stripping them (wasm-opt -g instead of --strip-debug in scripts/build-site.sh).
//
//   TERN_LIGHTHOUSE_TRACE=/tmp/traces TERN_LIGHTHOUSE_ONLY=record TERN_LIGHTHOUSE_RUNS=1 node bench/lighthouse.mjs
//   node bench/long-tasks.mjs /tmp/traces/<name>.trace.json
import { readFileSync } from 'node:fs';

const [file] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/long-tasks.mjs <trace.json>');
  process.exit(2);
}
const MIN_MS = Number(process.env.MIN_MS || 12.5);
// Which functions the inclusive list shows: the app's, the domain's, and the module loader's.
const SHOWN = /tern_app|tern_domain|split|hydrate|fetch|match|instantiate/;

const events = JSON.parse(readFileSync(file, 'utf8'));
const navigation = events
  .filter((e) => e.name === 'navigationStart' && e.args?.data?.isLoadingMainFrame && e.args.data.documentLoaderURL?.startsWith('http'))
  .at(-1);
if (!navigation) throw new Error(`${file}: no navigation of a main frame`);
const { pid, tid, ts: start } = navigation;

// The main thread's samples: a Profile event names the profile, ProfileChunk events carry its nodes
// (each with its parent) and its samples.
const ids = new Set(events.filter((e) => e.name === 'Profile' && e.pid === pid && e.tid === tid).map((e) => e.id));
const nodes = new Map();
const samples = [];
let clock = null;
for (const e of events.filter((e) => e.pid === pid && ids.has(e.id))) {
  if (e.name === 'Profile') {
    clock ??= e.args.data.startTime;
    continue;
  }
  if (e.name !== 'ProfileChunk') continue;
  const { cpuProfile = {}, timeDeltas = [] } = e.args.data;
  for (const node of cpuProfile.nodes ?? []) nodes.set(node.id, node);
  (cpuProfile.samples ?? []).forEach((node, i) => {
    clock += timeDeltas[i] ?? 0;
    samples.push({ node, at: clock });
  });
}
if (samples.length === 0) console.log('(no samples: was the trace taken with TERN_LIGHTHOUSE_TRACE?)');

const label = (node) => {
  const frame = node.callFrame;
  // Rust's mangled names keep the crate and the path; drop the hashes.
  const name = (frame.functionName || '(anonymous)').replace(/\[[0-9a-f]+\]/g, '').replace(/^_R\w+?\d+(tern_app|tern_domain)/, '$1');
  return `${name.slice(0, 130)}  ${(frame.url || '').split('/').pop()}`;
};
const top = (map, count) =>
  [...map].sort((a, b) => b[1] - a[1]).slice(0, count).map(([name, ms]) => `${ms.toFixed(1).padStart(6)}  ${name}`).join('\n    ');

const tasks = events.filter((e) => e.pid === pid && e.tid === tid && e.ph === 'X' && e.name === 'RunTask' && e.ts >= start && e.dur >= MIN_MS * 1000);
for (const task of tasks) {
  const self = new Map();
  const inclusive = new Map();
  samples.forEach(({ node, at }, i) => {
    if (at < task.ts || at > task.ts + task.dur) return;
    const ms = ((samples[i + 1]?.at ?? at) - at) / 1000;
    const leaf = label(nodes.get(node));
    self.set(leaf, (self.get(leaf) ?? 0) + ms);
    const seen = new Set();
    for (let id = node; id !== undefined; id = nodes.get(id)?.parent) {
      const name = label(nodes.get(id));
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + ms);
    }
  });
  const shown = new Map([...inclusive].filter(([name]) => SHOWN.test(name)));
  console.log(`\ntask at ${((task.ts - start) / 1000).toFixed(0)} ms: ${(task.dur / 1000).toFixed(1)} ms (a phone: ${(task.dur / 250).toFixed(0)} ms)`);
  console.log(`  self:\n    ${top(self, 10)}`);
  console.log(`  inclusive:\n    ${top(shown, 25)}`);
}
