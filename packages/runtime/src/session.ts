/**
 * Sessions: one onnxruntime-node InferenceSession living in a child process, driven with
 * onnxkit Tensors. CPU execution provider only, a fixed thread count (1 intra-op thread by
 * default, so comparisons are reproducible) and graph optimizations disabled by default, so
 * ORT's own fusions cannot hide a bad rewrite.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataTypeName, type DataType, type Dim, type Model, type Tensor } from '@onnxkit/graph';
import { ImportError, load } from '@onnxkit/importer';
import { RuntimeError, VerifyError } from './errors.js';
import { prepareModel } from './model-source.js';
import { parseProfile, type ProfileSummary } from './profile.js';
import { dataTypeFromOrt, fromWire, toWire, type WireTensor } from './wire.js';
import { defaultWorker, RuntimeWorker } from './worker-client.js';

export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export interface SessionOptions {
  /** Intra-op threads (default 1: reproducible comparisons; raise it for benchmarks). */
  intraOpNumThreads?: number;
  /** Inter-op threads (default 1; execution is sequential). */
  interOpNumThreads?: number;
  /** Default 'disabled', so onnxruntime's fusions cannot mask a bad rewrite. */
  graphOptimizationLevel?: GraphOptimizationLevel;
  /** Record ORT's per-node profile; read it with `endProfiling()`. */
  enableProfiling?: boolean;
  /**
   * Whether the intra-op thread pool busy-waits for work after a run (onnxruntime's
   * `session.intra_op.allow_spinning`; default true, as onnxruntime). Only matters with more than
   * one intra-op thread. Interleaved A/B timing turns it off: an idle session's spinning threads
   * would otherwise take the cores from the other session's run (on 2 cores, ×5 slower runs).
   */
  allowSpinning?: boolean;
  /** Ask ORT to save the model it optimised (useful with graphOptimizationLevel 'all'). */
  optimizedModelFilePath?: string;
  /**
   * Folder holding the external data files of an in-memory Model. Without it, external
   * tensors are read into the bytes handed to ORT (fine below 2 GiB).
   */
  externalDataDir?: string;
  /** Binds symbolic dims inside ORT (e.g. { N: 1 }); inputs must then match. */
  freeDimensionOverrides?: Record<string, number>;
  /** Name used in messages (default: file name or graph name). */
  label?: string;
  /**
   * The onnxruntime child process to run in. Default: the process-wide shared one (`defaultWorker()`),
   * so sessions cost no process start-up and never run at the same time.
   */
  worker?: RuntimeWorker;
  /** Give the session a private child process, ended on release (ignored when `worker` is given). */
  isolate?: boolean;
  /** Session creation timeout in ms (default 10 minutes; 0 = none). */
  createTimeoutMs?: number;
  /** Per-run timeout in ms (default 10 minutes; 0 = none). */
  runTimeoutMs?: number;
}

/** An input or output as onnxruntime sees it. */
export interface ValueMetadata {
  readonly name: string;
  /** False for sequences, maps and optionals, which onnxkit cannot feed or read. */
  readonly isTensor: boolean;
  /** Element type; undefined for non-tensors. */
  readonly dtype: DataType | undefined;
  /** Dims: numbers, symbolic names, or null for an unnamed dynamic dim; null when unknown. */
  readonly shape: readonly Dim[] | null;
}

export interface RunResult {
  outputs: Map<string, Tensor>;
  /** Time spent inside `InferenceSession.run` in the worker, in ms (no message passing). */
  ms: number;
}

const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;
/** Most onnxruntime threads a session may ask for (far above any real CPU count). */
export const MAX_THREADS = 1024;
let sessionCount = 0;

/** Feeds as a Map or a plain object. */
export type Feeds = ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>;

export function feedsToMap(feeds: Feeds): Map<string, Tensor> {
  return feeds instanceof Map ? new Map(feeds) : new Map(Object.entries(feeds));
}

export class RuntimeSession {
  readonly label: string;
  readonly inputs: readonly ValueMetadata[];
  readonly outputs: readonly ValueMetadata[];
  readonly options: Readonly<Required<Pick<SessionOptions, 'intraOpNumThreads' | 'interOpNumThreads' | 'graphOptimizationLevel' | 'enableProfiling' | 'allowSpinning'>>>;
  /** Session creation time in the worker, in ms. */
  readonly createMs: number;
  readonly worker: RuntimeWorker;
  readonly #id: number;
  readonly #ownsWorker: boolean;
  readonly #runTimeoutMs: number;
  readonly #model: Model | string;
  #profileDir: string | undefined;
  #released = false;

  /** @internal use createSession() */
  constructor(init: {
    id: number;
    label: string;
    inputs: ValueMetadata[];
    outputs: ValueMetadata[];
    options: RuntimeSession['options'];
    createMs: number;
    worker: RuntimeWorker;
    ownsWorker: boolean;
    runTimeoutMs: number;
    model: Model | string;
    profileDir: string | undefined;
  }) {
    this.#id = init.id;
    this.label = init.label;
    this.inputs = init.inputs;
    this.outputs = init.outputs;
    this.options = init.options;
    this.createMs = init.createMs;
    this.worker = init.worker;
    this.#ownsWorker = init.ownsWorker;
    this.#runTimeoutMs = init.runTimeoutMs;
    this.#model = init.model;
    this.#profileDir = init.profileDir;
  }

  get released(): boolean {
    return this.#released;
  }

  /** Runs once; returns the requested outputs (all by default), in request order. */
  async run(feeds: Feeds, outputNames?: readonly string[]): Promise<Map<string, Tensor>> {
    return (await this.runTimed(feeds, outputNames)).outputs;
  }

  /** Runs once and reports the time spent inside onnxruntime. */
  async runTimed(feeds: Feeds, outputNames?: readonly string[]): Promise<RunResult> {
    this.#checkAlive('run');
    const map = feedsToMap(feeds);
    checkFeeds(map, this.inputs, this.label);
    const fetches = outputNames ? [...outputNames] : this.outputs.map((o) => o.name);
    const known = new Set(this.outputs.map((o) => o.name));
    for (const n of fetches) {
      if (!known.has(n)) {
        throw new VerifyError(`${this.label} has no output '${n}' (outputs: ${[...known].join(', ') || 'none'})`, { code: 'VERIFY_UNKNOWN_OUTPUT', tensor: n });
      }
    }
    const wire = [...map].map(([name, t]) => toWire(name, t));
    const reply = (await this.worker.request('run', { sessionId: this.#id, feeds: wire, fetches }, { model: this.label, timeoutMs: this.#runTimeoutMs })) as {
      outputs: WireTensor[];
      ms: number;
    };
    const outputs = new Map<string, Tensor>();
    for (const w of reply.outputs) outputs.set(w.name, fromWire(w, this.label));
    return { outputs, ms: reply.ms };
  }

  /**
   * Stops profiling and summarises ORT's trace (per op type and per node, with ORT's node
   * names mapped back to the model's). The trace file ORT wrote is deleted.
   */
  async endProfiling(): Promise<ProfileSummary> {
    this.#checkAlive('profile');
    const dir = this.#profileDir;
    if (dir === undefined) {
      throw new RuntimeError(`${this.label}: profiling was not enabled for this session`, { code: 'RUNTIME_NOT_PROFILING', model: this.label, step: 'profile', hint: 'create the session with { enableProfiling: true }' });
    }
    await this.worker.request('endProfiling', { sessionId: this.#id }, { model: this.label, timeoutMs: this.#runTimeoutMs });
    this.#profileDir = undefined;
    try {
      const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
      if (files.length === 0) throw new RuntimeError(`${this.label}: onnxruntime wrote no profile file`, { model: this.label, step: 'profile' });
      let events: unknown;
      try {
        events = JSON.parse(readFileSync(join(dir, files[0]!), 'utf8'));
      } catch (e) {
        throw new RuntimeError(`${this.label}: cannot parse onnxruntime's profile ${files[0]}: ${(e as Error).message}`, { model: this.label, step: 'profile', cause: e });
      }
      let model: Model | undefined;
      if (typeof this.#model === 'string') {
        try {
          model = load(this.#model);
        } catch {
          model = undefined;
        }
      } else model = this.#model;
      return parseProfile(events, model);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Frees the ORT session (and the worker, when the session owns it). Idempotent. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    if (this.#profileDir !== undefined) {
      rmSync(this.#profileDir, { recursive: true, force: true });
      this.#profileDir = undefined;
    }
    try {
      if (this.worker.alive) await this.worker.request('release', { sessionId: this.#id }, { model: this.label, timeoutMs: 60_000 });
    } finally {
      if (this.#ownsWorker) await this.worker.terminate();
    }
  }

  #checkAlive(step: string): void {
    if (this.#released) throw new RuntimeError(`${this.label}: the session was released`, { code: 'RUNTIME_RELEASED', model: this.label, step });
  }
}

/**
 * Why the importer refuses the file onnxruntime could not load, or undefined when it reads it.
 * A path goes to onnxruntime as is (model-source.ts: ORT judges the bytes on disk, not our
 * decoding of them), and its words for a malformed file are 'Protobuf parsing failed', with no
 * offset: only after that refusal is the file walked by our decoder (lazily: its structure only,
 * no weight is read), whose typed error says what is wrong and at which byte. Nothing is
 * decoded on the way to a session that loads.
 */
function importerRefusal(path: string): ImportError | undefined {
  try {
    load(path, { lazy: true });
  } catch (e) {
    if (e instanceof ImportError) return e;
  }
  return undefined;
}

/**
 * Creates a session from a path or an in-memory Model (see SessionOptions for defaults). A model
 * onnxruntime cannot load rejects with a RuntimeError (RUNTIME_LOAD_FAILED) — or, for a file
 * our decoder finds malformed, with its ImportError (importerRefusal).
 */
export async function createSession(model: Model | string, options: SessionOptions = {}): Promise<RuntimeSession> {
  const intra = options.intraOpNumThreads ?? 1;
  const inter = options.interOpNumThreads ?? 1;
  for (const [k, v] of [['intraOpNumThreads', intra], ['interOpNumThreads', inter]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new VerifyError(`${k} must be a positive integer, got ${v}`, { code: 'VERIFY_BAD_OPTION' });
    // onnxruntime would try to start them all (100,000 threads: a hang, then an abort).
    if (v > MAX_THREADS) throw new VerifyError(`${k} must be at most ${MAX_THREADS}, got ${v}`, { code: 'VERIFY_BAD_OPTION', hint: `this machine has ${availableParallelism()} logical CPUs` });
  }
  const level = options.graphOptimizationLevel ?? 'disabled';
  if (!['disabled', 'basic', 'extended', 'all'].includes(level)) {
    throw new VerifyError(`graphOptimizationLevel must be disabled, basic, extended or all, got '${level}'`, { code: 'VERIFY_BAD_OPTION' });
  }
  const prepared = prepareModel(model, { externalDataDir: options.externalDataDir, label: options.label });
  const label = prepared.label;
  const profileDir = options.enableProfiling ? mkdtempSync(join(tmpdir(), 'onnxkit-profile-')) : undefined;
  const ortOptions: Record<string, unknown> = {
    executionProviders: ['cpu'],
    intraOpNumThreads: intra,
    interOpNumThreads: inter,
    executionMode: 'sequential',
    graphOptimizationLevel: level,
    // Warnings such as "unused initializer" go to stderr from native code; keep errors only.
    logSeverityLevel: 3,
    enableProfiling: options.enableProfiling ?? false,
  };
  if (profileDir !== undefined) ortOptions.profileFilePrefix = join(profileDir, 'ort');
  if (options.optimizedModelFilePath !== undefined) ortOptions.optimizedModelFilePath = options.optimizedModelFilePath;
  if (options.freeDimensionOverrides !== undefined) ortOptions.freeDimensionOverrides = options.freeDimensionOverrides;
  const allowSpinning = options.allowSpinning ?? true;
  const extraSession: Record<string, unknown> = {};
  if (prepared.externalDataDir !== undefined) extraSession.model_external_initializers_file_folder_path = prepared.externalDataDir;
  if (!allowSpinning) extraSession.intra_op = { allow_spinning: '0' };
  if (Object.keys(extraSession).length > 0) ortOptions.extra = { session: extraSession };
  const ownsWorker = options.worker === undefined && options.isolate === true;
  const worker = options.worker ?? (ownsWorker ? new RuntimeWorker() : defaultWorker());
  const id = ++sessionCount;
  const payload: Record<string, unknown> = { sessionId: id, options: ortOptions };
  if (prepared.path !== undefined) payload.path = prepared.path;
  else payload.bytes = prepared.bytes!;
  let reply: { inputs: RawMetadata[]; outputs: RawMetadata[]; ms: number };
  try {
    reply = (await worker.request('create', payload, { model: label, timeoutMs: options.createTimeoutMs ?? DEFAULT_TIMEOUT_MS })) as typeof reply;
  } catch (e) {
    if (profileDir !== undefined) rmSync(profileDir, { recursive: true, force: true });
    if (ownsWorker) await worker.terminate();
    if (e instanceof RuntimeError && e.step === 'create' && e.code === 'RUNTIME_CREATE_FAILED') {
      if (prepared.path !== undefined) {
        // (the path as the caller spelled it, for the message; prepared.path is resolved)
        const malformed = importerRefusal(typeof model === 'string' ? model : prepared.path);
        if (malformed !== undefined) throw malformed;
      }
      throw new RuntimeError(e.message.replace('failed to create', 'cannot load the model'), {
        code: 'RUNTIME_LOAD_FAILED',
        model: label,
        step: 'create',
        cause: e,
        hint: /Unsupported data type/.test(e.message)
          ? 'onnxruntime-node does not accept this element type (e.g. bfloat16, float8) as model input or output'
          : 'check that the model is valid ONNX and that onnxruntime supports its operators and opset',
      });
    }
    throw e;
  }
  const inputs = reply.inputs.map(toMetadata);
  const outputs = reply.outputs.map(toMetadata);
  fixUnknownRanks(model, inputs, outputs);
  return new RuntimeSession({
    id,
    label,
    inputs,
    outputs,
    options: { intraOpNumThreads: intra, interOpNumThreads: inter, graphOptimizationLevel: level, enableProfiling: options.enableProfiling ?? false, allowSpinning },
    createMs: reply.ms,
    worker,
    ownsWorker,
    runTimeoutMs: options.runTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    model,
    profileDir,
  });
}

interface RawMetadata {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: (number | string)[];
}

function toMetadata(m: RawMetadata): ValueMetadata {
  if (!m.isTensor) return { name: m.name, isTensor: false, dtype: undefined, shape: null };
  const dtype = dataTypeFromOrt(m.type ?? '');
  return { name: m.name, isTensor: true, dtype, shape: (m.shape ?? []).map((d) => (d === '' ? null : d)) };
}

/**
 * onnxruntime reports a value whose rank is unknown with the shape of a scalar ([]). When that
 * happens, the model's declared type decides (read lazily from the file if need be): a missing
 * shape becomes `null` (rank unknown).
 */
function fixUnknownRanks(model: Model | string, inputs: ValueMetadata[], outputs: ValueMetadata[]): void {
  const scalarLike = (m: ValueMetadata): boolean => m.isTensor && m.shape !== null && m.shape.length === 0;
  if (!inputs.some(scalarLike) && !outputs.some(scalarLike)) return;
  let declared: Model;
  try {
    declared = typeof model === 'string' ? load(model) : model;
  } catch {
    return;
  }
  const fix = (list: ValueMetadata[], values: readonly { name: string; type: { kind: string; shape?: unknown } | null }[]): void => {
    list.forEach((m, i) => {
      if (!scalarLike(m)) return;
      const v = values.find((x) => x.name === m.name);
      if (v !== undefined && (v.type === null || (v.type.kind === 'tensor' && v.type.shape === null))) list[i] = { ...m, shape: null };
    });
  };
  fix(inputs, declared.graph.inputs);
  fix(outputs, declared.graph.outputs);
}

/** "float32[N,3,224,224]" */
export function formatMetadata(m: ValueMetadata): string {
  if (!m.isTensor) return `${m.name}: non-tensor`;
  return `${m.dtype === undefined ? '?' : dataTypeName(m.dtype)}[${m.shape === null ? '*' : m.shape.map((d) => (d === null ? '?' : String(d))).join(',')}]`;
}

/**
 * Checks feeds against a model's inputs: every input present, no extra names, element types
 * equal, ranks equal, static dims equal and each symbolic dim bound to one value. Throws one
 * VerifyError for the first problem, naming the input and expected vs got.
 */
export function checkFeeds(feeds: ReadonlyMap<string, Tensor>, inputs: readonly ValueMetadata[], label = 'the model'): void {
  const names = new Set(inputs.map((i) => i.name));
  for (const name of feeds.keys()) {
    if (!names.has(name)) {
      throw new VerifyError(`input '${name}' is not an input of ${label} (inputs: ${[...names].join(', ') || 'none'})`, { code: 'VERIFY_INPUT_EXTRA', tensor: name, hint: 'remove it or fix its name' });
    }
  }
  const bound = new Map<string, { value: number; input: string }>();
  for (const m of inputs) {
    const t = feeds.get(m.name);
    if (t === undefined) {
      throw new VerifyError(`input '${m.name}' (${formatMetadata(m)}) of ${label} was not provided`, { code: 'VERIFY_INPUT_MISSING', tensor: m.name, hint: 'provide it in the input files, or use synthetic inputs' });
    }
    if (!m.isTensor) throw new VerifyError(`input '${m.name}' of ${label} is not a tensor; onnxkit can only feed tensors`, { code: 'VERIFY_INPUT_TYPE', tensor: m.name });
    if (m.dtype !== undefined && t.dtype !== m.dtype) {
      throw new VerifyError(`input '${m.name}': ${label} expects ${dataTypeName(m.dtype)}, got ${dataTypeName(t.dtype)}`, { code: 'VERIFY_INPUT_DTYPE', tensor: m.name, hint: `convert the data to ${dataTypeName(m.dtype)}` });
    }
    if (m.shape === null) continue;
    const got = `[${t.dims.join(',')}]`;
    const want = formatMetadata(m).replace(/^[^[]*/, '');
    if (t.dims.length !== m.shape.length) {
      throw new VerifyError(`input '${m.name}': ${label} expects rank ${m.shape.length} ${want}, got rank ${t.dims.length} ${got}`, { code: 'VERIFY_INPUT_SHAPE', tensor: m.name });
    }
    m.shape.forEach((d, i) => {
      const g = t.dims[i]!;
      if (typeof d === 'number' && d !== g) {
        throw new VerifyError(`input '${m.name}': ${label} expects shape ${want}, got ${got} (dim ${i} must be ${d})`, { code: 'VERIFY_INPUT_SHAPE', tensor: m.name });
      }
      if (typeof d === 'string') {
        const prev = bound.get(d);
        if (prev !== undefined && prev.value !== g) {
          throw new VerifyError(`input '${m.name}': dim ${i} ('${d}') is ${g}, but input '${prev.input}' binds '${d}' to ${prev.value}`, { code: 'VERIFY_INPUT_SHAPE', tensor: m.name });
        }
        bound.set(d, { value: g, input: m.name });
      }
    });
  }
}
