#!/usr/bin/env bash
# First-load transfer size of Tern: what every page loads (boot module, JS glue, wasm-split's
# loader, the main wasm, CSS), what each page adds the first time it is shown (its page module and
# the chunks it shares), and the sum of the two per page.
#
#   bench/size.sh
#
# Reads the asset names from <site>/asset-manifest.json and reports raw, gzip (-9) and brotli
# (q11) bytes. Builds the site (scripts/build-site.sh) only if it is missing. Exits non-zero if a
# budget is exceeded.
#
# The first load of a new device is the sign-in screen, which is what every page loads and nothing
# more; the sync-engine issue's goal for it is 300 KB. Once a user is signed in, the sync engine's
# module follows (app/src/store/engine.rs), and a page's module the first time that page is shown;
# the service worker then keeps every module, so later visits and offline use fetch nothing.
#
# Environment:
#   BUDGET_BROTLI_B       budget for what every page loads, in bytes, brotli (default: the size when it
#                         was last set plus about 3 %, a guard well inside the goal of 300000)
#   PAGE_BUDGETS          each page module's guard for its first load (every page + the engine + the
#                         module, and the chunks they need), brotli bytes, as "name=bytes,…"
#                         (default below: each page's size when its budget was last set, plus
#                         about 3 %). A module without a
#                         budget fails the check, so a new page gets one on purpose.
#   CARGO_TARGET_DIR, TERN_SITE_DIR  as for scripts/build-site.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET" in /*) ;; *) TARGET="$PWD/$TARGET" ;; esac
SITE="${TERN_SITE_DIR:-$TARGET/site}"
# Set when the sync engine left the main module: 176,076 B (it was 300,694 B with the engine).
# Raised for the phone frame (issue 17: the header's toggles, the theme choice, the palette in
# both schemes): 183,908 B, plus about 1.5 %.
BUDGET_BROTLI_B="${BUDGET_BROTLI_B:-187000}"
# Set at the same time: a signed-in page now also loads the engine's module, and code the engine
# shares with pages sits in chunks (records 454,407 B before, 483,264 B after; lists 372,974 B,
# 401,587 B), which compress a little less well than one main module did.
# Raised about 1.5 % when the engine gained the listing store and the start's read (issue 10,
# overview 367,038 B at the last setting, 376,512 B after).
# Raised about 1.5 % over the phone frame (issue 17): every page +7.3 KB; lists 426,532 B (+13.8 KB:
# the rows on screen, the text filter, the scroll memory), records 508,798 B (+14.6 KB: the
# outline, growing titles).
# Raised for the record page's header and marks (issue 17): records 528,625 B (+19.8 KB: the
# stamp read from the document, the status chip and last change, dates through Intl, the
# outline's not-synced marks kept in localStorage), plus about 1.5 %.
# Set when the seldom opened pages became one module (account: Settings, invitation, Users, Sync,
# not found; 423,938 B) and a record page's reading view and invitations panel joined its module
# (records 528,178 B, 1.8 KB less than before: fewer chunks), to cut the chunks a page instantiates.
# Raised for drafting (issue 11): records 547,600 B (+16.4 KB: numbered paragraphs, splitting
# them, the undo and redo buttons and keys, a preamble); every signed-in page about +5 KB that
# is not yet explained. The undo history (yrs' undo manager, about 6.7 KB) is the `drafting`
# module, fetched after a record page is drawn; its line counts every page, the engine and the
# chunks it shares with records (359,436 B).
# Raised for formatting without Markdown (issue 11): the `drafting` module now holds the Markdown
# parser (pulldown-cmark; the reading view and the preview render in the browser, also offline),
# the formatting commands and the toolbar: 94.9 KB brotli instead of about 7 KB, so its line is
# 462,647 B. Records 560,005 B (+12.4 KB: the field head and hooks the toolbar plugs into, the
# merge button and Backspace, the merged-back notice, the text-too-long message and download).
# Then the panel of choices made at the same time (part 7) went into `drafting` too (104.7 KB by
# itself), off the record page's first load (564,687 B); with it, more of the code the two share
# sits in chunks both load, which the drafting line counts: 515,249 B. A record page with its
# drafting module loads about 669 KB brotli in all.
# Raised for comments (issue 11, part 3): every signed-in page about +12 KB for the diff that
# turns a saved text into what changed (similar's Myers on words, in the engine with typing:
# measured 11.9 KB by building without it; typing at two places at once, or bolding a phrase,
# was one splice that retyped the words between and lost what was anchored there); records
# 590,964 B (+26.5 KB: that, the outline's comment counts, and about 8 KB of chunks that
# a new module splits off); the comments panel is a module of its own (`comments`, 446,130 B),
# which took 46 KB off the drafting line (534,476 B). Each plus about 1.5 %. Then suggestions
# (part 4) joined the comments module: 462,212 B (+16.3 KB: their list, Accept and Reject, the
# form, the refusal with both versions; the domain's suggestions and accepting). Then the
# suggesting mode: records 596,416 B (+5.6 KB: the switch, and a long text keeping what is typed
# as a proposal), drafting 540,765 B (+6.5 KB: the bar that proposes it, word by word).
PAGE_BUDGETS="${PAGE_BUDGETS:-records=605000,lists=447000,account=452000,overview=403000,drafting=549000,comments=469000}"

if [[ ! -f "$SITE/asset-manifest.json" ]]; then
  echo "size: no site at $SITE; building it first" >&2
  "$ROOT/scripts/build-site.sh"
fi

SITE="$SITE" BUDGET_BROTLI_B="$BUDGET_BROTLI_B" PAGE_BUDGETS="$PAGE_BUDGETS" node --input-type=module - <<'JS'
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

const site = process.env.SITE;
function budgetFrom(name) {
  const value = Number(process.env[name]);
  if (!Number.isInteger(value) || value <= 0) {
    console.error(`size: ${name} must be a positive number of bytes, got "${process.env[name]}"`);
    process.exit(2);
  }
  return value;
}
const budget = budgetFrom("BUDGET_BROTLI_B");
const pageBudgets = new Map(
  process.env.PAGE_BUDGETS.split(",").filter(Boolean).map((pair) => {
    const [name, bytes] = pair.split("=");
    const value = Number(bytes);
    if (!name || !Number.isInteger(value) || value <= 0) {
      console.error(`size: PAGE_BUDGETS has a bad entry: ${pair}`);
      process.exit(2);
    }
    return [name, value];
  }),
);
const manifest = JSON.parse(fs.readFileSync(path.join(site, "asset-manifest.json"), "utf8"));

// Size of the precompressed sibling the server will send; computed if it is missing.
function compressedSize(file, ext, compress) {
  try {
    return fs.statSync(`${file}.${ext}`).size;
  } catch {
    return compress(fs.readFileSync(file)).length;
  }
}
const brotli = (buf) =>
  zlib.brotliCompressSync(buf, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: buf.length,
    },
  });
const gzip = (buf) => zlib.gzipSync(buf, { level: 9 });

function measure(url) {
  const file = path.join(site, url.replace(/^\//, ""));
  return { url, raw: fs.statSync(file).size, gz: compressedSize(file, "gz", gzip), br: compressedSize(file, "br", brotli) };
}
const sum = (url, rows) =>
  rows.reduce((t, r) => ({ url, raw: t.raw + r.raw, gz: t.gz + r.gz, br: t.br + r.br }), { url, raw: 0, gz: 0, br: 0 });

// What every page loads: the boot module, the glue and wasm-split's loader, the main wasm, the CSS.
const rows = [];
for (const key of ["boot_js", "app_js", "split_js", "app_wasm", "css"]) {
  const url = manifest[key];
  if (typeof url !== "string") {
    console.error(`size: asset-manifest.json has no "${key}"`);
    process.exit(2);
  }
  rows.push(measure(url));
}
const main = sum("every page", rows);
// Plus, on the first visit to a page, its own module and the chunks it shares with others.
const pageModules = manifest.page_modules;
if (!pageModules || typeof pageModules !== "object" || Object.keys(pageModules).length === 0) {
  console.error('size: asset-manifest.json has no "page_modules"');
  process.exit(2);
}
// The sync engine's module comes once a user is signed in, so with every page but the sign-in
// screen (app/src/store/engine.rs); a chunk it shares with a page counts once.
const ENGINE = "engine";
if (!Array.isArray(pageModules[ENGINE])) {
  console.error(`size: asset-manifest.json has no "${ENGINE}" module (the sync engine's split point)`);
  process.exit(2);
}
const engineUrls = pageModules[ENGINE];
const pages = Object.entries(pageModules)
  .filter(([page]) => page !== ENGINE)
  .map(([page, urls]) => {
    const own = sum(`+ ${page}`, urls.map(measure));
    const withEngine = [...new Set([...engineUrls, ...urls])];
    return { page, own, first: sum(page, [main, sum(page, withEngine.map(measure))]) };
  })
  .sort((a, b) => b.first.br - a.first.br);
const engine = sum(`+ ${ENGINE} (signed in)`, engineUrls.map(measure));

const n = (v) => v.toLocaleString("en-US");
const kib = (v) => `${(v / 1024).toFixed(1)} KiB`;
const w = Math.max(18, ...rows.map((r) => r.url.length));
const line = (r) =>
  `${r.url.padEnd(w)}  ${n(r.raw).padStart(11)}  ${n(r.gz).padStart(11)}  ${n(r.br).padStart(11)}  ${kib(r.br).padStart(10)}`;
const rule = "-".repeat(w + 2 + 11 + 2 + 11 + 2 + 11 + 2 + 10);
const header = (title) =>
  console.log(`${title.padEnd(w)}  ${"raw B".padStart(11)}  ${"gzip-9 B".padStart(11)}  ${"brotli B".padStart(11)}  ${"brotli".padStart(10)}`);

console.log(`First-load assets of build ${manifest.build_id} (${site})`);
header("loaded by every page");
console.log(rule);
rows.forEach((r) => console.log(line(r)));
console.log(rule);
console.log(line(main));
console.log();
header("page modules");
console.log(rule);
console.log(line(engine));
pages.forEach(({ own }) => console.log(line(own)));
console.log();
header("first load, by page (signed in: every page, the engine, the page)");
console.log(rule);
pages.forEach(({ first }) => console.log(line(first)));
console.log();
const verdict = (what, size, limit) => {
  const ok = size <= limit;
  console.log(
    `${what}: ${kib(size)} (${n(size)} B) brotli, ${ok ? "within" : "OVER"} the budget of ${n(limit)} B` +
      (ok ? ` (${n(limit - size)} B to spare).` : ` by ${n(size - limit)} B.`),
  );
  return ok;
};
const ok = [
  verdict("Every page (the first load of a new device: the sign-in screen)", main.br, budget),
  ...pages.map(({ page, first }) => {
    const limit = pageBudgets.get(page);
    if (limit === undefined) {
      console.log(`${page}: no budget in PAGE_BUDGETS; give the new module one.`);
      return false;
    }
    return verdict(`First load of the ${page} page`, first.br, limit);
  }),
].every(Boolean);
process.exit(ok ? 0 : 1);
JS
