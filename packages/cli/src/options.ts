/**
 * The CLI's options in one place: the definitions every command shares (`--json`, `--quiet`,
 * `--input-shape`, `--dim`, `--device`, `--threads`, `--seed`, `--ort-opt`, `-o`) and the parsers
 * that turn their strings into what the library calls take. Commands import from here, never
 * from one another.
 */
import { InvalidArgumentError, Option } from './commander.js';
import { DEFAULT_DEVICE, type QuantType } from '@onnxkit/passes';
import type { CalibrationMethod } from '@onnxkit/runtime';
import type { Model } from '@onnxkit/graph';
import type { InputFile } from '@onnxkit/runtime';
import { CliError } from './errors.js';

/** `--inputs a.npz x=input.npy` → InputFile[] (NAME=PATH names a single-tensor file). */
export function parseInputFiles(specs: string[] | undefined): InputFile[] | undefined {
  if (!specs || specs.length === 0) return undefined;
  return specs.map((s) => {
    const eq = s.indexOf('=');
    if (eq > 0 && !s.slice(0, eq).includes('/')) return { name: s.slice(0, eq), path: s.slice(eq + 1) };
    return s;
  });
}

/** `--tolerance out=1e-3:1e-2` (atol:rtol) → per-output overrides. */
export function parsePerOutput(specs: string[] | undefined): Record<string, { atol?: number; rtol?: number }> | undefined {
  if (!specs || specs.length === 0) return undefined;
  const out: Record<string, { atol?: number; rtol?: number }> = {};
  for (const s of specs) {
    const m = /^(.+)=([^:]*):([^:]*)$/.exec(s);
    if (!m) throw new CliError(`--tolerance '${s}' is not NAME=ATOL:RTOL`, { hint: 'for example --tolerance logits=1e-4:1e-3' });
    const [, name, a, r] = m;
    const entry: { atol?: number; rtol?: number } = {};
    if (a !== '') entry.atol = positive('--tolerance atol', a!);
    if (r !== '') entry.rtol = positive('--tolerance rtol', r!);
    out[name!] = entry;
  }
  return out;
}

/** A non-negative number, or a usage error naming the flag (`--atol`, `--tolerance atol`). */
export function positive(flag: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new CliError(`${flag} expects a non-negative number, got '${v}'`);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Value parsers for commander's argParser: a flag's string becomes a typed value while commander
// parses the command line, so a command receives numbers (never re-parses a string, never repeats
// a default), and a bad value is a usage error before any work: one line naming the flag, as
// `--threads expects an integer ≥ 1, got 'x'` (usage.ts prints InvalidArgumentError's message).

/** An integer ≥ min (and ≤ max when given). */
export function intArg(flag: string, { min = 0, max }: { min?: number; max?: number } = {}): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^-?\d+$/.test(v) || n < min || (max !== undefined && n > max)) {
      throw new InvalidArgumentError(max === undefined ? `${flag} expects an integer ≥ ${min}, got '${v}'` : `${flag} expects an integer from ${min} to ${max}, got '${v}'`);
    }
    return n;
  };
}

/** A finite number (non-negative with `nonNegative`). */
export function numberArg(flag: string, { nonNegative = false }: { nonNegative?: boolean } = {}): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || (nonNegative && n < 0)) throw new InvalidArgumentError(`${flag} expects a ${nonNegative ? 'non-negative ' : ''}number, got '${v}'`);
    return n;
  };
}

export const ORT_OPT_LEVELS = ['disabled', 'basic', 'extended', 'all'] as const;
export const VERIFY_EACH = ['off', 'pass', 'change'] as const;
export const EXPLAIN_MODES = ['all', 'changes'] as const;
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
/** Activation-range calibration methods: @onnxkit/runtime's CalibrationMethod, all of it (checked below). */
export const CALIBRATION_METHODS = ['minmax', 'percentile', 'entropy'] as const;
/** Activation types of static int8: @onnxkit/passes' QuantType, all of it (checked below). */
export const ACTIVATION_TYPES = ['uint8', 'int8'] as const;
/** The presets of @onnxkit/passes (PRESETS; test/options.test.ts checks they agree). */
export const PRESET_NAMES = ['default', 'edge'] as const;
// A method or type added to the library and not here (or the reverse) fails typecheck.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
true satisfies Same<(typeof CALIBRATION_METHODS)[number], CalibrationMethod>;
true satisfies Same<(typeof ACTIVATION_TYPES)[number], QuantType>;

/**
 * `--device`, the device a roofline estimate assumes. Its default differs by command, on purpose:
 * - analyze, report, batch: DEFAULT_DEVICE of @onnxkit/passes (jetson-agx-orin), the lecture's
 *   edge device, so an estimate means the same thing on every machine and in every report;
 * - bench --profile: `local`, this machine — the profile is measured here, and the estimate is
 *   put next to it (a Jetson estimate beside x86 timings would compare two machines);
 * - demo: this machine too (it also times the models here), measured once with a short
 *   calibration kept in the output folder when `onnxkit calibrate` has not been run, so a first
 *   `onnxkit demo` needs nothing set up.
 */
export const DEVICE_DEFAULTS = { estimate: DEFAULT_DEVICE, bench: 'local', demo: 'local' } as const;
/** The built-in profiles (@onnxkit/passes' DEVICES ids), for help and completion; `--device` also takes a profile .json. */
const DEVICE_HELP = 'jetson-agx-orin, raspberry-pi-4, h100-sxm, local (this machine, see calibrate) or a profile .json';

/** The iteration counts commands time with when the flag gives none (one place, stated in each flag's help). */
export const ITERATIONS = {
  /** `bench --iterations`: timed runs (pairs with --vs). */
  bench: 50,
  /** `bench --warmup`. */
  warmup: 5,
  /** `demo --iterations`: interleaved pairs per benchmark (two benchmarks: all and disabled). */
  demo: 30,
  /** `verify --bench` without a count: interleaved pairs. */
  verifyBench: 20,
  /** `report --bench` without a count (and without --no-bench): interleaved pairs. */
  reportBench: 30,
} as const;

// ---------------------------------------------------------------------------------------------
// Shared option definitions. Every flag that more than one command takes is declared here once
// (name, value syntax, help text, default, allowed choices, parser), so `--json` or
// `--input-shape` mean the same thing on every command; definitions.ts adds them with
// `.addOption(…)`. A flag two commands spell alike but mean differently stays with its command's
// definition (`--max-error`: verify's absolute error budget, optimize's decoupling weight error,
// which pipeline.ts parses) or takes the difference as a parameter (`--bench`, `--iterations`).

const collectStrings = (v: string, prev: string[] = []): string[] => [...prev, v];

/** Where each shared option's value ends up in a command's options object. */
export interface CommonOptions {
  json?: boolean;
  quiet?: boolean;
}

export interface ShapeOptions {
  /** `--input-shape` specs, unparsed (see parseInputShapes). */
  inputShape?: string[];
  /** `--dim` specs, unparsed (see parseDimValues). */
  dim?: string[];
}

/** The calibration flags of `quantize`, `optimize --preset edge`, `report --quantize` and `demo --quantize`. */
export interface CalibrationFlags {
  calibration?: string;
  eval?: string;
  method?: (typeof CALIBRATION_METHODS)[number];
  percentile?: number;
  samples?: number;
  evalSamples?: number;
  activationType?: (typeof ACTIVATION_TYPES)[number];
  perTensor?: boolean;
}

export const options = {
  json: (help = 'machine-readable output on stdout') => new Option('--json', help),
  quiet: () => new Option('-q, --quiet', 'no progress or notes on stderr, and no summary when the result is a written file; errors still print'),
  inputShape: () =>
    new Option('--input-shape <name=dims>', 'pin an input\'s dims: input=1x3x224x224 or input:1,3,224,224 (repeatable)').argParser(collectStrings),
  dim: () => new Option('--dim <symbol=n>', 'bind a symbolic dim wherever the inputs use it, e.g. N=1 (repeatable)').argParser(collectStrings),
  /** `--device`: the estimate's device; the command's default and why it differs: DEVICE_DEFAULTS. */
  device: (fallback: string = DEFAULT_DEVICE) => new Option('--device <name>', `roofline device: ${DEVICE_HELP} (default: ${fallback})`),
  /** `--device` defaulting to `local` (bench): the value is set, so the help's default is commander's. */
  threads: (help = 'onnxruntime intra-op threads') => new Option('--threads <n>', help).default(1).argParser(intArg('--threads', { min: 1 })),
  seed: (help = 'seed of the synthetic inputs') => new Option('--seed <n>', help).default(0).argParser(intArg('--seed')),
  ortOpt: (fallback: (typeof ORT_OPT_LEVELS)[number]) =>
    new Option('--ort-opt <level>', 'onnxruntime graph optimization level').choices(ORT_OPT_LEVELS).default(fallback),
  /** `-o`: every command creates the output's missing parent folders (and says so here). */
  output: (what: string) => new Option('-o, --output <file>', `${what}; missing folders are created`),
  /** `--inputs`: input data files (parseInputFiles). */
  inputs: (help: string) => new Option('--inputs <files...>', help),
  /** `--external-data` where it is a switch (optimize, zoo); convert's takes a location. */
  externalData: () => new Option('--external-data', 'store weights in <output>.data'),
  /** convert's `--external-data [location]`: the file may be named. */
  externalDataAt: () => new Option('--external-data [location]', 'write tensors ≥ --size-threshold bytes to an external file (default <output>.data)'),
  inPlace: (help: string) => new Option('--in-place', help),
  /** `--optimize [passes]` of report and batch (a pass/preset list, parsed by pipeline.ts). */
  optimize: (help: string) => new Option('--optimize [passes]', help),
  /** `--min-sqnr` in dB (verify: acceptance; quantize: mixed precision). */
  minSqnr: (help: string) => new Option('--min-sqnr <dB>', help).argParser(numberArg('--min-sqnr')),
  /** `--preset` of optimize (no default: --passes may replace it) and demo (default `default`). */
  preset: (help: string) => new Option('--preset <name>', help).choices(PRESET_NAMES),
  /**
   * `--bench [iterations]`: timed interleaved pairs; a bare `--bench` is `true`, which the command
   * reads as its ITERATIONS count (stated in `help`; a commander preset would print as
   * '(preset: "20")').
   */
  bench: (help: string, min: number) => new Option('--bench [iterations]', help).argParser(intArg('--bench', { min })),
  /** `--iterations`, with the command's count (ITERATIONS). */
  iterations: (help: string, count: number) => new Option('--iterations <n>', help).default(count).argParser(intArg('--iterations', { min: 1 })),
  /** `--batch`: a size (bench), or a size or symbol (zoo, see batchArg). */
  batch: (help: string) => new Option('--batch <b>', help).argParser(intArg('--batch', { min: 1 })),
  /** The calibration flags (parsed by calibrationSettings in static-quantize.ts); `what` says what --calibration does for this command. */
  calibration: (what = 'calibration inputs') =>
    new Option('--calibration <dir|glob>', `${what}: a folder of .npy/.npz/.pb files or sub-folders (one per sample), or a glob`),
  eval: () => new Option('--eval <dir|glob>', 'held-out inputs for the accuracy report (default: the last fifth of --calibration, or synthetic inputs with other seeds)'),
  method: () => new Option('--method <name>', 'activation range: minmax (default), percentile or entropy (KL)').choices(CALIBRATION_METHODS),
  percentile: () => new Option('--percentile <p>', 'with --method percentile: keep p % of the values, e.g. 99.99 (default 99.999)').argParser(numberArg('--percentile')),
  samples: () => new Option('--samples <n>', 'calibration samples to use (synthetic default 16)').argParser(intArg('--samples', { min: 1 })),
  evalSamples: () => new Option('--eval-samples <n>', 'evaluation samples (synthetic default 4)').argParser(intArg('--eval-samples', { min: 1 })),
  activationType: () => new Option('--activation-type <t>', 'uint8 (default, as onnxruntime) or int8 activations (onnxruntime 1.30 on CPU fuses fewer ops with int8)').choices(ACTIVATION_TYPES),
  perTensor: () => new Option('--per-tensor', 'per-tensor weight scales instead of per output channel'),
  /** `-o` that the command cannot do without. */
  requiredOutput: (what: string) => new Option('-o, --output <file>', `${what}; missing folders are created`).makeOptionMandatory(),
} as const;

/** Parses `--input-shape NAME=1x3x224x224` or `NAME:1,3,224,224` (repeatable) into a record. */
export function parseInputShapes(specs: string[] | undefined): Record<string, (number | string)[]> | undefined {
  if (!specs || specs.length === 0) return undefined;
  const out: Record<string, (number | string)[]> = {};
  for (const spec of specs) {
    // NAME=DIMS (onnxkit), or NAME:DIMS (onnxsim, Polygraphy). Names may contain ':' (tf-style
    // "input:0"), so '=' wins when present and otherwise the last ':' splits.
    const eq = spec.includes('=') ? spec.lastIndexOf('=') : spec.lastIndexOf(':');
    if (eq <= 0) throw new CliError(`--input-shape '${spec}' is not NAME=DIMS`, { hint: 'for example --input-shape input=1x3x224x224 or input:1,3,224,224' });
    const name = spec.slice(0, eq);
    const raw = spec.slice(eq + 1);
    const dims = raw.split(/[x×,]/);
    if (raw === '' || dims.some((d) => d === '')) throw new CliError(`--input-shape '${spec}': empty dimension`, { hint: 'dimensions are separated by x or ,: input=1x3x224x224' });
    if (out[name] !== undefined) throw new CliError(`--input-shape gives '${name}' twice`);
    out[name] = dims.map((d) => {
      if (/^\d+$/.test(d)) return exactDim(d, `--input-shape '${spec}'`);
      if (/^[A-Za-z_][\w]*$/.test(d)) return d;
      throw new CliError(`--input-shape '${spec}': '${d}' is neither a size nor a symbol`, { hint: 'dimensions are sizes (0 or more: ONNX allows empty tensors) or symbols, separated by x: input=1x3x224x224 or input=Nx3x224x224' });
    });
  }
  return out;
}

/**
 * A dimension written in decimal, as a number: refused (naming `what`, the flag and its value as
 * written) beyond 2^53, where Number() rounds it (2^62 was reported as 'dimension
 * 4611686018427388000 is not a non-negative integer').
 */
function exactDim(d: string, what: string): number {
  const n = Number(d);
  if (!Number.isSafeInteger(n)) throw new CliError(`${what}: ${d} is beyond 2^53, the largest dimension onnxkit counts exactly`);
  return n;
}

/** Parses `--dim SYMBOL=N` (repeatable) into a record. */
export function parseDimValues(specs: string[] | undefined): Record<string, number> | undefined {
  if (!specs || specs.length === 0) return undefined;
  const out: Record<string, number> = {};
  for (const spec of specs) {
    const m = /^([A-Za-z_][\w.:-]*)=(\d+)$/.exec(spec);
    if (!m) throw new CliError(`--dim '${spec}' is not SYMBOL=N`, { hint: 'for example --dim N=1 (N as the model names it: see onnxkit inspect)' });
    const [, sym, n] = m as unknown as [string, string, string];
    const v = exactDim(n, `--dim '${spec}'`);
    if (out[sym] !== undefined && out[sym] !== v) throw new CliError(`--dim binds '${sym}' to both ${out[sym]} and ${n}`);
    out[sym] = v;
  }
  return out;
}

/** `--input-shape` and `--dim` parsed, as the library calls take them (`inputShapes`, `dimValues`). */
export function shapeBindings(opts: ShapeOptions): { inputShapes?: Record<string, (number | string)[]>; dimValues?: Record<string, number> } {
  const inputShapes = parseInputShapes(opts.inputShape);
  const dimValues = parseDimValues(opts.dim);
  return { ...(inputShapes ? { inputShapes } : {}), ...(dimValues ? { dimValues } : {}) };
}

/**
 * Input shapes for onnxruntime runs, which need numbers: a symbol in `--input-shape` must be bound
 * by `--dim` (or be a number already).
 */
export function numericInputShapes(opts: ShapeOptions): Record<string, number[]> | undefined {
  const { inputShapes, dimValues } = shapeBindings(opts);
  if (!inputShapes) return undefined;
  const out: Record<string, number[]> = {};
  for (const [k, dims] of Object.entries(inputShapes)) {
    out[k] = dims.map((d) => {
      const n = typeof d === 'number' ? d : dimValues?.[d];
      if (n === undefined) throw new CliError(`--input-shape ${k}: '${d}' must be a number to run the model`, { hint: `bind it with --dim ${d}=1` });
      return n;
    });
  }
  return out;
}

/** A positive integer option, or a usage error naming the flag. */
export function intOption(flag: string, value: string | undefined, { min = 0 }: { min?: number } = {}): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value) || Number(value) < min) throw new CliError(`${flag} expects an integer ≥ ${min}, got '${value}'`);
  return Number(value);
}

export function numberOption(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || value.trim() === '') throw new CliError(`${flag} expects a number, got '${value}'`);
  return n;
}

/**
 * `--input-shape` with `--dim` folded in, for library calls that take only `inputShapes`: every
 * graph input whose declared shape uses a bound symbol gets a pinned shape with it substituted.
 */
export function inputShapesWithDims(model: Model, opts: ShapeOptions): Record<string, (number | string)[]> | undefined {
  const { inputShapes, dimValues } = shapeBindings(opts);
  if (!dimValues) return inputShapes;
  const out: Record<string, (number | string)[]> = { ...inputShapes };
  for (const v of model.graph.inputs) {
    const dims = out[v.name] ?? v.shape?.map((d) => d ?? '?');
    if (!dims || !dims.some((d) => typeof d === 'string' && dimValues[d] !== undefined)) continue;
    out[v.name] = dims.map((d) => (typeof d === 'string' && dimValues[d] !== undefined ? dimValues[d] : d));
  }
  return Object.keys(out).length ? out : undefined;
}

/** `zoo --batch`: a size, or a symbol such as N for a dynamic batch. */
export function batchArg(v: string): number | string {
  if (/^\d+$/.test(v)) return intArg('--batch', { min: 1 })(v);
  if (!/^[A-Za-z_]\w*$/.test(v)) throw new InvalidArgumentError(`--batch '${v}' is neither a size nor a symbol`);
  return v;
}

/**
 * Refuses a `--dim` symbol the model does not use (its graph inputs' symbolic dims, and the
 * symbols `--input-shape` introduces): `--dim Q=3` was accepted and did nothing, where
 * `--input-shape` refuses an input the model does not have.
 */
export function checkDimSymbols(model: Model, opts: ShapeOptions): void {
  const { inputShapes, dimValues } = shapeBindings(opts);
  if (!dimValues) return;
  const symbols = new Set<string>();
  for (const v of model.graph.inputs) if (!v.isInitializer) for (const d of v.shape ?? []) if (typeof d === 'string') symbols.add(d);
  for (const dims of Object.values(inputShapes ?? {})) for (const d of dims) if (typeof d === 'string') symbols.add(d);
  for (const sym of Object.keys(dimValues)) {
    if (symbols.has(sym)) continue;
    throw new CliError(`--dim names '${sym}', which no graph input uses (the model's symbolic dims are: ${[...symbols].join(', ') || 'none'})`, { hint: 'onnxkit inspect shows the inputs and their dims' });
  }
}
