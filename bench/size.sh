#!/usr/bin/env bash
# First-load transfer size of Tern's page assets: boot module, JS glue, wasm and CSS.
#
#   bench/size.sh
#
# Reads the asset names from <site>/asset-manifest.json and reports raw, gzip (-9) and brotli
# (q11) bytes per file and in total. Builds the site (scripts/build-site.sh) only if it is missing.
# Exits non-zero if the brotli total exceeds the budget.
#
# Environment:
#   BUDGET_BROTLI_KB  budget for the brotli total in KiB (default 375, i.e. 375 * 1024 bytes).
#                     A regression guard at today's size plus a little. The sync-engine issue's
#                     goal is 300 KB: the sync engine alone came to 298 KiB (305 KB) once the
#                     wasm was built for size; accounts (sign-in, users, invitations, refused
#                     edits, reading view) brought it to 369 KiB. Keeping the first load small
#                     as features grow needs code splitting (see the issue notes).
#   CARGO_TARGET_DIR, TERN_SITE_DIR  as for scripts/build-site.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET" in /*) ;; *) TARGET="$PWD/$TARGET" ;; esac
SITE="${TERN_SITE_DIR:-$TARGET/site}"
BUDGET_BROTLI_KB="${BUDGET_BROTLI_KB:-375}"

if [[ ! -f "$SITE/asset-manifest.json" ]]; then
  echo "size: no site at $SITE; building it first" >&2
  "$ROOT/scripts/build-site.sh"
fi

SITE="$SITE" BUDGET_BROTLI_KB="$BUDGET_BROTLI_KB" node --input-type=module - <<'JS'
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

const site = process.env.SITE;
const budgetKb = Number(process.env.BUDGET_BROTLI_KB);
if (!Number.isFinite(budgetKb) || budgetKb <= 0) {
  console.error(`size: BUDGET_BROTLI_KB must be a positive number, got "${process.env.BUDGET_BROTLI_KB}"`);
  process.exit(2);
}
const budget = Math.round(budgetKb * 1024);
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
const pages = Object.entries(pageModules)
  .map(([page, urls]) => {
    const own = sum(`+ ${page}`, urls.map(measure));
    return { page, own, first: sum(page, [main, own]) };
  })
  .sort((a, b) => b.first.br - a.first.br);
const worst = pages[0];

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
pages.forEach(({ own }) => console.log(line(own)));
console.log();
header("first load, by page");
console.log(rule);
pages.forEach(({ first }) => console.log(line(first)));
console.log();
const ok = worst.first.br <= budget;
console.log(
  `The largest first load (${worst.page}) is ${kib(worst.first.br)} (${n(worst.first.br)} B) brotli; it ` +
    `${ok ? "is within" : "EXCEEDS"} the budget of ${kib(budget)} (${n(budget)} B)` +
    `${ok ? `, ${kib(budget - worst.first.br)} to spare.` : ` by ${kib(worst.first.br - budget)}.`}`,
);
process.exit(ok ? 0 : 1);
JS
