#!/usr/bin/env node
// Launcher for the `onnxkit` command: runs the compiled CLI, or says how to build it.
//
// The build makes the whole command one CommonJS file with a V8 code cache
// (scripts/bundle-cli.mjs); loading it through vm.Script with that cache skips parsing and
// compiling most of the CLI (Node 20 has no compile cache for ES modules). A cache V8 refuses
// (another Node version, other V8 flags) or one made for another build of the bundle is not used: the bundle is
// then compiled as usual. Without the bundle (or with ONNXKIT_NO_BUNDLE=1) the ES modules run.
//
// This file is CommonJS (bin/package.json): an ES module entry costs Node ≈5 ms more to start
// (its ES module loader), and an ES import of node:fs would build the module's facade, whose
// getters load Node's stream modules.
/* global require, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports */
'use strict';
const { existsSync, readFileSync, renameSync, writeFileSync, writeSync } = require('node:fs');
const { dirname, join } = require('node:path');
const { pathToFileURL } = require('node:url');
const vm = require('node:vm');

const bundle = join(__dirname, '..', 'dist', 'onnxkit.cjs');
// The bundle's dynamic imports need vm's main-context loader (Node ≥ 20.12): older Nodes run the ES modules.
if (process.env.ONNXKIT_NO_BUNDLE !== '1' && vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER !== undefined && existsSync(bundle)) {
  void runBundle(bundle);
} else {
  const entry = join(__dirname, '..', 'dist', 'bin.js');
  if (!existsSync(entry)) {
    process.stderr.write('onnxkit: the CLI is not built yet; run `pnpm build` in the onnxkit checkout first\n');
    process.exit(2);
  }
  void import(pathToFileURL(entry).href);
}

async function runBundle(file) {
  // ASCII only (the build escapes every other character), so latin1 decodes it to a one-byte string.
  const source = readFileSync(file, 'latin1');
  const cacheFile = `${file}.cache`;
  // Set by the build only: write the cache after this run.
  const produce = process.env.ONNXKIT_WRITE_CODE_CACHE === cacheFile;
  // The bundle's first line names its build; the cache starts with the same line, so a cache
  // made for another build (a rebuilt bundle) is never offered to V8.
  const build = source.slice(0, source.indexOf('\n') + 1);
  let cachedData;
  if (!produce && build.startsWith('// onnxkit-build ')) {
    try {
      const c = readFileSync(cacheFile);
      if (c.toString('latin1', 0, build.length) === build) cachedData = c.subarray(build.length);
    } catch {
      // No cache: compile as usual.
    }
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  // (Written to the descriptor: process.stderr would be created, and Node's streams loaded, for it.)
  if (process.env.ONNXKIT_DEBUG_CODE_CACHE === '1') writeSync(2, `onnxkit: code cache ${cachedData === undefined ? 'absent' : script.cachedDataRejected ? 'rejected' : 'used'}\n`);
  const module = { exports: {} };
  script.runInThisContext()(module.exports, lazyRequire(require('node:module').createRequire(file)), module, file, dirname(file));
  if (!produce) {
    await module.exports.start(process.argv);
    return;
  }
  // The build runs several commands in this one process (ONNXKIT_CODE_CACHE_RUNS: a JSON list of
  // argument lists), so the cache holds the functions each of them compiles lazily.
  const runs = process.env.ONNXKIT_CODE_CACHE_RUNS === undefined ? [process.argv.slice(2)] : JSON.parse(process.env.ONNXKIT_CODE_CACHE_RUNS);
  for (const args of runs) {
    await module.exports.start([process.argv[0], process.argv[1], ...args]);
    if ((process.exitCode ?? 0) !== 0) {
      writeSync(2, `onnxkit: the code-cache run \`onnxkit ${args.join(' ')}\` failed (exit code ${process.exitCode})\n`);
      return;
    }
  }
  const data = script.createCachedData();
  const tmp = `${cacheFile}.tmp-${process.pid}`;
  writeFileSync(tmp, Buffer.concat([Buffer.from(build, 'latin1'), data]));
  renameSync(tmp, cacheFile);
}

/**
 * The bundle requires every Node built-in any command uses when it loads; these are needed only
 * by a few commands (serve, batch, the float64 reference, the onnxruntime child process,
 * optimize's heap flags, .npz archives) or only when something is shown on a terminal (tty,
 * which loads net and Node's streams), and cost ≈15–20 ms to load, so they are loaded on first
 * use. (zlib loads Node's stream modules too, whose presence tells ui.ts's whenUsed that a stdio
 * stream may exist already.)
 */
function lazyRequire(req) {
  const lazy = new Set(['node:http', 'node:worker_threads', 'node:child_process', 'node:tty', 'node:v8', 'node:zlib']);
  return (id) => {
    if (!lazy.has(id)) return req(id);
    let mod;
    const real = () => (mod ??= req(id));
    return new Proxy(
      {},
      {
        get: (_, k) => real()[k],
        has: (_, k) => k in real(),
        ownKeys: () => Reflect.ownKeys(real()),
        getOwnPropertyDescriptor: (_, k) => {
          const d = Reflect.getOwnPropertyDescriptor(real(), k);
          return d === undefined ? undefined : { ...d, configurable: true };
        },
      },
    );
  };
}
