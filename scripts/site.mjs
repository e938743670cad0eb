#!/usr/bin/env node
// Assembles Tern's static site directory from the wasm-bindgen output.
//
//   node scripts/site.mjs --root <repo> --bindgen <dir> --out <dir> [--css <file>] [--dev]
//                         [--previous <old site dir>] [--brotli-quality <0-11>] [--compress-cache <dir>]
//
// <bindgen> holds wasm-bindgen's `--target web --out-name tern` output for the main module (tern.js,
// tern_bg.wasm, optionally snippets/) and, in split/, wasm-split's page modules (split_<name>.wasm,
// chunk_<n>.wasm) and their loader (__wasm_split.js). The script writes into <out> (which should be
// empty; build-site.sh hands it a fresh temporary directory and swaps it into place afterwards):
//
//   pkg/tern-<h>.js  pkg/tern-<h>.wasm  pkg/tern-<h>.css  pkg/boot-<h>.js   content-hashed, immutable
//   pkg/split-<h>.js  pkg/split_<name>-<h>.wasm  pkg/chunk_<n>-<h>.wasm      page modules and loader
//   manifest.webmanifest  icons/*                                           copied from public/
//   sw.js                                                                   from public/sw.js
//   asset-manifest.json                                                     read by the server
//   <file>.br  <file>.gz                                                    for every compressible file
//
// With --previous, the first-load assets and page modules of the build in that directory are
// carried over (once):
// a server that still renders the old asset names, or a page loaded just before the swap, keeps
// working until it picks up the new build.
//
// A release build minifies what every page loads: the JS (the glue, the loader, the boot module)
// with terser and the stylesheet with csso, both from node_modules (together about 3.5 KB brotli
// less); --dev uses Node built-ins only. sw.js is left as written: tests and the update check read
// its build-id line.

import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

// The routes that all render the same shell; the service worker precaches each of them: every
// section and every kind's list (app/src/routes.rs; a test there checks this list against it).
const PAGE_ROUTES = [
  "/", "/recommendations", "/projects", "/consultations", "/good-practices", "/people", "/organisations",
  "/network", "/sync", "/settings",
];
// Files that get precompressed siblings. PNG is already compressed.
const COMPRESSIBLE = new Set([".js", ".mjs", ".wasm", ".css", ".webmanifest", ".json", ".svg", ".html", ".txt"]);

function parseArgs(argv) {
  const opts = { dev: false, brotliQuality: 11 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) fail(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case "--root": opts.root = value(); break;
      case "--bindgen": opts.bindgen = value(); break;
      case "--out": opts.out = value(); break;
      case "--css": opts.css = value(); break;
      case "--previous": opts.previous = value(); break;
      case "--compress-cache": opts.compressCache = value(); break;
      case "--brotli-quality": opts.brotliQuality = Number(value()); break;
      case "--dev": opts.dev = true; break;
      default: fail(`unknown argument: ${arg}`);
    }
  }
  for (const key of ["root", "bindgen", "out"]) if (!opts[key]) fail(`--${key} is required`);
  opts.root = path.resolve(opts.root);
  opts.css = path.resolve(opts.css ?? path.join(opts.root, "style", "main.css"));
  return opts;
}

function fail(message) {
  console.error(`site.mjs: ${message}`);
  process.exit(1);
}

const sha256 = (data) => createHash("sha256").update(data).digest("hex");
const shortHash = (data) => sha256(data).slice(0, 10);

function readRequired(file, what) {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    fail(`cannot read ${what} (${file}): ${err.code ?? err.message}`);
  }
}

// Replaces every placeholder; each one must occur in the template, and none may survive.
function fillTemplate(template, name, values) {
  let text = template;
  for (const [placeholder, value] of Object.entries(values)) {
    if (!text.includes(placeholder)) fail(`${name} does not contain the placeholder ${placeholder}`);
    text = text.split(placeholder).join(value);
  }
  const left = text.match(/\b__[A-Z][A-Z_]*[A-Z]__\b/g);
  if (left) fail(`${name}: unknown placeholders: ${[...new Set(left)].join(", ")}`);
  return text;
}

function listFiles(dir, base = dir) {
  if (!fs.existsSync(dir)) return [];
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full, base));
    else if (entry.isFile()) out.push(path.relative(base, full));
  }
  return out.sort();
}

const toUrl = (rel) => "/" + rel.split(path.sep).join("/");

// Compiling (not just validating) gives a useful error if wasm-opt produced something the engine
// rejects, e.g. because of a feature mismatch.
async function compiles(wasm, name) {
  try {
    await WebAssembly.compile(wasm);
  } catch (err) {
    fail(`${name} does not compile in V8: ${err.message}`);
  }
}

function replaceAll(text, from, to, name) {
  const parts = text.split(from);
  if (parts.length < 2) fail(`${name}: expected ${from}, found none`);
  return parts.join(to);
}

function replaceExactlyOnce(text, from, to, name) {
  const parts = text.split(from);
  if (parts.length !== 2) fail(`${name}: expected ${from} exactly once, found it ${parts.length - 1} times`);
  return parts.join(to);
}

// Which files each page module needs, read from wasm-split's loader: a module's loader
// (`export const __wasm_split_load_<name> = wrapAsyncCb(makeLoad(<fetch>, [<chunks>]))`) fetches its
// own split_<name> file, if it has one, after the shared chunks it lists
// (`const __chunk_<n> = makeLoad(<fetch of chunk_<n>>, [])`).
function pageModulesOf(loader) {
  const fetched = (text) => [...text.matchAll(/new URL\("\.\/([\w.-]+\.wasm)"/g)].map((m) => `/pkg/${m[1]}`);
  const chunks = new Map();
  for (const m of loader.matchAll(/^const (__chunk_\d+) = makeLoad\(([\s\S]*?)^, \[\]\);$/gm)) {
    chunks.set(m[1], fetched(m[2]));
  }
  const pages = {};
  for (const m of loader.matchAll(/^export const __wasm_split_load_(\w+) = wrapAsyncCb\(makeLoad\(([\s\S]*?), \[([\w, ]*)\]\)\);$/gm)) {
    const deps = m[3].split(",").map((d) => d.trim()).filter(Boolean);
    const files = [];
    for (const dep of deps) {
      if (!chunks.has(dep)) fail(`wasm-split's loader: page ${m[1]} needs ${dep}, which it does not define`);
      files.push(...chunks.get(dep));
    }
    pages[m[1]] = [...files, ...fetched(m[2])];
  }
  if (Object.keys(pages).length === 0) fail("wasm-split's loader defines no page loaders");
  return pages;
}

// In a page the service worker controls, every fetch() costs about half a millisecond of main-thread
// time (the request is handed to the worker), and a record page loads some 20 modules and chunks
// (80 before app/src/pages.rs had five modules: 45 ms on a laptop, four times that on a phone,
// in one task). The Cache API answers the same
// precached bytes for a tenth of that, so the loader asks it first and fetches only on a miss (a
// new device before the worker has installed, or a browser without Cache Storage).
function fromCacheFirst(loader) {
  const helper =
    "const __ternFetch = (url) =>\n" +
    "  Promise.resolve(globalThis.caches && caches.match(url)).catch(() => undefined).then((hit) => hit || fetch(url));\n";
  const rewritten = replaceAll(loader, "fetch(new URL(", "__ternFetch(new URL(", "wasm-split's loader");
  const afterImports = rewritten.indexOf("\n", rewritten.lastIndexOf("\nimport ") + 1) + 1;
  return rewritten.slice(0, afterImports) + helper + rewritten.slice(afterImports);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const { root, bindgen, out, dev } = opts;
  const publicDir = path.join(root, "public");
  const pkgDir = path.join(out, "pkg");
  fs.mkdirSync(pkgDir, { recursive: true });

  const written = []; // site-relative paths of everything we emit (before compression)
  const write = (rel, data) => {
    const full = path.join(out, rel);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, data);
    written.push(rel);
  };

  // Minified in release builds only; the minifiers are loaded on first use, so --dev needs no
  // packages.
  const load = (entry) =>
    import(path.join(root, "node_modules", entry)).catch((error) => {
      throw new Error(`${entry} not found in ${root}/node_modules (run 'npm ci'): ${error.message}`);
    });
  let terser, csso;
  const minified = async (code, what) => {
    if (dev) return code;
    terser ??= await load("terser/main.js");
    const result = await terser.minify(code, { module: true, compress: true, mangle: true });
    if (typeof result.code !== "string") throw new Error(`terser gave no output for ${what}`);
    return result.code;
  };
  const minifiedCss = async (css) => {
    if (dev) return css;
    csso ??= await load("csso/lib/index.js");
    return csso.minify(css).css;
  };

  // --- wasm: the main module ----------------------------------------------------------------
  const wasm = readRequired(path.join(bindgen, "tern_bg.wasm"), "the wasm-bindgen module");
  await compiles(wasm, "tern_bg.wasm");
  const wasmName = `tern-${shortHash(wasm)}.wasm`;
  write(`pkg/${wasmName}`, wasm);

  // --- page modules and their loader (wasm-split) -----------------------------------------------
  const splitDir = path.join(bindgen, "split");
  let loader = readRequired(path.join(splitDir, "__wasm_split.js"), "wasm-split's loader").toString("utf8");
  for (const file of fs.readdirSync(splitDir).filter((f) => f.endsWith(".wasm")).sort()) {
    const data = fs.readFileSync(path.join(splitDir, file));
    await compiles(data, file);
    const name = `${path.basename(file, ".wasm")}-${shortHash(data)}.wasm`;
    write(`pkg/${name}`, data);
    // The loader fetches modules relative to its own URL, and everything sits in /pkg/.
    loader = replaceExactlyOnce(loader, `"./${file}"`, `"./${name}"`, "wasm-split's loader");
  }
  const pageModules = pageModulesOf(loader);
  loader = fromCacheFirst(loader);

  // --- JS glue (+ snippets, if any crate uses inline_js / module imports) ----------------------
  let glue = readRequired(path.join(bindgen, "tern.js"), "the wasm-bindgen glue").toString("utf8");
  const snippetFiles = listFiles(path.join(bindgen, "snippets"));
  if (snippetFiles.length > 0) {
    // Snippet directories are named after the crate, not the content, so give them a content
    // hash too: everything under /pkg/ is served as immutable.
    const h = createHash("sha256");
    for (const rel of snippetFiles) {
      h.update(rel).update("\0").update(fs.readFileSync(path.join(bindgen, "snippets", rel)));
    }
    const snippetsDir = `snippets-${h.digest("hex").slice(0, 10)}`;
    for (const rel of snippetFiles) {
      write(path.join("pkg", snippetsDir, rel), fs.readFileSync(path.join(bindgen, "snippets", rel)));
    }
    glue = glue.replace(/(["'])\.\/snippets\//g, `$1./${snippetsDir}/`);
  }
  // The glue imports the loader and the loader imports the glue, so neither name can be the hash of
  // the other's final text. The loader's name hashes both texts before they name each other, which
  // the final texts follow from: a change to either gives both new names.
  const loaderName = `split-${shortHash(loader + "\0" + glue)}.js`;
  // Only the import statements change (wasm-bindgen writes one per loader function); the keys of the
  // wasm's import object keep the module name the wasm asks for.
  glue = replaceAll(glue, `from "./__wasm_split.js"`, `from "./${loaderName}"`, "the wasm-bindgen glue");
  const appJsName = `tern-${shortHash(glue)}.js`;
  loader = replaceExactlyOnce(loader, `"./tern.js"`, `"./${appJsName}"`, "wasm-split's loader");
  write(`pkg/${appJsName}`, await minified(glue, "the wasm-bindgen glue"));
  write(`pkg/${loaderName}`, await minified(loader, "wasm-split's loader"));

  // --- CSS ------------------------------------------------------------------------------------
  const css = readRequired(opts.css, "the stylesheet");
  const cssName = `tern-${shortHash(css)}.css`;
  write(`pkg/${cssName}`, await minifiedCss(css.toString("utf8")));

  // --- boot module ----------------------------------------------------------------------------
  const boot = fillTemplate(readRequired(path.join(publicDir, "boot.js"), "public/boot.js").toString("utf8"), "public/boot.js", {
    __APP_JS__: `/pkg/${appJsName}`,
    __APP_WASM__: `/pkg/${wasmName}`,
    __SW_ENABLED__: dev ? "false" : "true",
  });
  const bootName = `boot-${shortHash(boot)}.js`;
  write(`pkg/${bootName}`, await minified(boot, "public/boot.js"));

  // --- PWA files copied verbatim --------------------------------------------------------------
  write("manifest.webmanifest", readRequired(path.join(publicDir, "manifest.webmanifest"), "public/manifest.webmanifest"));
  const iconFiles = listFiles(path.join(publicDir, "icons"));
  for (const rel of iconFiles) write(path.join("icons", rel), fs.readFileSync(path.join(publicDir, "icons", rel)));

  // --- service worker -------------------------------------------------------------------------
  const pkgUrls = written.filter((rel) => rel.startsWith(`pkg${path.sep}`)).map(toUrl).sort();
  const buildId = shortHash(pkgUrls.join("\n"));
  const precache = [...PAGE_ROUTES, ...pkgUrls, "/manifest.webmanifest", ...iconFiles.map((rel) => toUrl(path.join("icons", rel)))];
  const sw = fillTemplate(readRequired(path.join(publicDir, "sw.js"), "public/sw.js").toString("utf8"), "public/sw.js", {
    __BUILD_ID__: buildId,
    __PRECACHE__: JSON.stringify(precache, null, 2),
  });
  write("sw.js", sw);

  // --- manifest for the server ----------------------------------------------------------------
  const assetManifest = {
    build_id: buildId,
    boot_js: `/pkg/${bootName}`,
    app_js: `/pkg/${appJsName}`,
    app_wasm: `/pkg/${wasmName}`,
    css: `/pkg/${cssName}`,
    split_js: `/pkg/${loaderName}`,
    // What each page module fetches the first time one of its pages is shown (read by bench/size.sh).
    page_modules: pageModules,
    service_worker: !dev,
  };
  write("asset-manifest.json", JSON.stringify(assetManifest, null, 2) + "\n");

  // --- precompression -------------------------------------------------------------------------
  const compressor = cachedCompressor(opts.compressCache);
  const sizes = new Map();
  for (const rel of written) {
    const raw = fs.readFileSync(path.join(out, rel));
    const entry = { raw: raw.length };
    if (COMPRESSIBLE.has(path.extname(rel))) {
      const brotliParams = {
        [zlib.constants.BROTLI_PARAM_QUALITY]: opts.brotliQuality,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
        [zlib.constants.BROTLI_PARAM_MODE]:
          path.extname(rel) === ".wasm" ? zlib.constants.BROTLI_MODE_GENERIC : zlib.constants.BROTLI_MODE_TEXT,
      };
      const br = compressor(raw, `br-q${opts.brotliQuality}`, () => zlib.brotliCompressSync(raw, { params: brotliParams }));
      const gz = compressor(raw, "gz-9", () => zlib.gzipSync(raw, { level: 9 }));
      fs.writeFileSync(path.join(out, `${rel}.br`), br);
      fs.writeFileSync(path.join(out, `${rel}.gz`), gz);
      entry.br = br.length;
      entry.gz = gz.length;
    }
    sizes.set(rel, entry);
  }
  compressor.prune();

  // --- the previous build's first-load assets, so stale pages still load (not precached) ---------
  const carried = carryOver(opts.previous, out);

  // --- summary --------------------------------------------------------------------------------
  const fmt = (n) => (n === undefined ? "-" : n.toLocaleString("en-US"));
  const width = Math.max(...written.map((rel) => toUrl(rel).length));
  console.log(`site: build ${buildId}${dev ? " (dev, no service worker)" : ""}`);
  for (const rel of written) {
    const { raw, br } = sizes.get(rel);
    console.log(`  ${toUrl(rel).padEnd(width)}  ${fmt(raw).padStart(11)} B  br ${fmt(br).padStart(9)} B`);
  }
  if (carried.length) console.log(`  (kept ${carried.length} first-load assets of the previous build)`);
}

// Brotli at quality 11 takes seconds per megabyte; keep results by content hash so a rebuild only
// compresses what changed. Entries not used by this build are pruned afterwards.
function cachedCompressor(dir) {
  if (!dir) {
    const compress = (_raw, _kind, make) => make();
    compress.prune = () => {};
    return compress;
  }
  fs.mkdirSync(dir, { recursive: true });
  const used = new Set();
  const compress = (raw, kind, make) => {
    const name = `${sha256(raw)}.${kind}`;
    used.add(name);
    const file = path.join(dir, name);
    try {
      return fs.readFileSync(file);
    } catch {
      const data = make();
      fs.writeFileSync(`${file}.tmp`, data);
      fs.renameSync(`${file}.tmp`, file);
      return data;
    }
  };
  compress.prune = () => {
    for (const name of fs.readdirSync(dir)) if (!used.has(name)) fs.rmSync(path.join(dir, name), { force: true });
  };
  return compress;
}

function carryOver(previous, out) {
  if (!previous) return [];
  let manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(previous, "asset-manifest.json"), "utf8"));
  } catch {
    return []; // no previous build, or an unreadable one: nothing to keep
  }
  const carried = [];
  const urls = ["boot_js", "app_js", "app_wasm", "css", "split_js"].map((key) => manifest[key]);
  for (const modules of Object.values(manifest.page_modules ?? {})) if (Array.isArray(modules)) urls.push(...modules);
  for (const url of new Set(urls)) {
    if (typeof url !== "string" || !/^\/pkg\/[\w.-]+$/.test(url)) continue;
    const rel = url.slice(1);
    if (fs.existsSync(path.join(out, rel))) continue; // unchanged asset: same name in this build
    for (const suffix of ["", ".br", ".gz"]) {
      const from = path.join(previous, rel + suffix);
      if (fs.existsSync(from)) fs.copyFileSync(from, path.join(out, rel + suffix));
    }
    carried.push(url);
  }
  return carried;
}

main().catch((err) => fail(err.stack ?? String(err)));
