#!/usr/bin/env node
// Local fuzzing: `node fuzz/run.mjs --seconds N --seed S [--target import|analyze|optimize]`.
//
// Runs onnxkit's TypeScript sources directly (no build needed): when started without them, it
// re-executes itself with `--conditions=source --import fuzz/ts-loader/register.mjs`, the same
// resolution vitest uses. Fatal findings are minimised and written to fuzz/regressions/ (or
// --out DIR), where the CI test (fuzz/fuzz.test.ts) replays them on every run. Exit code 1 when
// there are fatal findings. See fuzz/README.md.
//
//   --seconds N          time budget (default 60)
//   --seed S             run seed (default: today's date as YYYYMMDD, printed)
//   --target T           import | analyze | optimize: run T on every decoded case
//   --workers K          child processes (default min(2, cores))
//   --cases N            stop after N cases
//   --case I             run only case I of the seed (replays a finding) and keep its input
//   --start I            first case index (default 0)
//   --small-seeds        draw only seeds of at most 64 KiB (the throughput benchmark)
//   --analyze-every N    analyze one decoded case in N (default 8, 0 = never)
//   --optimize-every N   optimize one decoded case in N (default 40, 0 = never)
//   --replay FILE...     hold the given .onnx files to every property (default: fuzz/regressions)
//   --out DIR            where findings go (default fuzz/regressions; warnings to DIR/warnings)
//   --no-write           do not write findings
//   --minimize-seconds N budget per finding (default 20); hangs and crashes get 3×N
//   --json               print the summary as JSON
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

if (process.env.ONNXKIT_FUZZ_LOADER !== '1') {
  const args = ['--conditions=source', '--import', `${here}ts-loader/register.mjs`, '--enable-source-maps', fileURLToPath(import.meta.url), ...process.argv.slice(2)];
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...process.env, ONNXKIT_FUZZ_LOADER: '1' } });
  process.exit(r.status ?? 1);
}

const argv = process.argv.slice(2);
const opts = { seconds: 60, workers: undefined, write: true, json: false, replay: null, out: `${here}regressions`, minimizeSeconds: 20 };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const next = () => {
    const v = argv[++i];
    if (v === undefined) usage(`${a} needs a value`);
    return v;
  };
  const int = (v) => {
    if (!/^-?\d+$/.test(v)) usage(`${a} needs an integer, got ${v}`);
    return Number(v);
  };
  switch (a) {
    case '--seconds': opts.seconds = Number(next()); break;
    case '--seed': opts.seed = int(next()); break;
    case '--target': opts.target = next(); break;
    case '--workers': opts.workers = int(next()); break;
    case '--cases': opts.cases = int(next()); break;
    case '--case': opts.case = int(next()); break;
    case '--start': opts.start = int(next()); break;
    case '--small-seeds': opts.small = true; break;
    case '--analyze-every': opts.analyzeEvery = int(next()); break;
    case '--optimize-every': opts.optimizeEvery = int(next()); break;
    case '--out': opts.out = next(); break;
    case '--no-write': opts.write = false; break;
    case '--minimize-seconds': opts.minimizeSeconds = Number(next()); break;
    case '--json': opts.json = true; break;
    case '--replay':
      opts.replay = [];
      while (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) opts.replay.push(argv[++i]);
      break;
    case '-h':
    case '--help': usage(); break;
    default: usage(`unknown option ${a}`);
  }
}
if (opts.target !== undefined && !['import', 'analyze', 'optimize'].includes(opts.target)) usage(`--target must be import, analyze or optimize, got ${opts.target}`);
if (!(opts.seconds > 0)) usage('--seconds must be positive');

function usage(problem) {
  const text = `usage: node fuzz/run.mjs [--seconds N] [--seed S] [--target import|analyze|optimize] [--workers K] [--cases N] [--case I] [--start I] [--small-seeds] [--analyze-every N] [--optimize-every N] [--replay FILE...] [--out DIR] [--no-write] [--minimize-seconds N] [--json]`;
  if (problem) {
    console.error(`fuzz/run.mjs: ${problem}\n${text}`);
    process.exit(2);
  }
  console.log(text);
  process.exit(0);
}

const { fuzz, replay, regressionFiles } = await import('./supervisor.ts');
const { formatSummary } = await import('./report.ts');
const { dateSeed } = await import('./seed-of-day.ts');

let summary;
if (opts.replay !== null) {
  const files = opts.replay.length > 0 ? opts.replay : regressionFiles();
  console.error(`replaying ${files.length} file(s)`);
  summary = await replay(files);
} else {
  const seed = opts.seed ?? dateSeed();
  const single = opts.case !== undefined;
  console.error(`fuzzing with seed ${seed}${single ? `, case ${opts.case}` : ` for ${opts.seconds} s`}${opts.target ? `, target ${opts.target}` : ''} (replay a case with: node fuzz/run.mjs --seed ${seed} --case I)`);
  summary = await fuzz({
    seed,
    seconds: single ? 3600 : opts.seconds,
    ...(single ? { start: opts.case, maxCases: 1, workers: 1, analyzeEvery: 1, optimizeEvery: 1 } : {}),
    ...(opts.cases !== undefined ? { maxCases: opts.cases } : {}),
    ...(opts.start !== undefined && !single ? { start: opts.start } : {}),
    ...(opts.workers !== undefined && !single ? { workers: opts.workers } : {}),
    ...(opts.target ? { target: opts.target } : {}),
    ...(opts.small ? { smallSeedsOnly: true } : {}),
    ...(opts.analyzeEvery !== undefined && !single ? { analyzeEvery: opts.analyzeEvery } : {}),
    ...(opts.optimizeEvery !== undefined && !single ? { optimizeEvery: opts.optimizeEvery } : {}),
    ...(opts.write ? { outDir: opts.out } : {}),
    minimizeSeconds: opts.minimizeSeconds,
    minimizeHangSeconds: opts.minimizeSeconds * 3,
    onProgress: (p) => process.stderr.write(`  ${p.cases} cases, ${p.elapsed.toFixed(0)} s, ${p.findings} finding(s)\n`),
  });
}
if (opts.json) console.log(JSON.stringify(summary, (k, v) => (k === 'bytesBase64' ? `${v.length} chars` : v), 2));
else console.log(formatSummary(summary));
process.exit(summary.findings.length > 0 ? 1 : 0);
