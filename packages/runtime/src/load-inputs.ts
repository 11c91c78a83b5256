/**
 * User input data: `.npy`, `.npz`, ONNX TensorProto `.pb` (the ONNX backend test-data format)
 * and `.json` files → feeds for a model, checked against the model's inputs.
 *
 * Naming: a file given as `{ path, name }` (or the string `name=path` where `name` is an input of
 * the model) binds that input. Otherwise an .npy file binds the input named like its file stem,
 * a .pb tensor the input named like the tensor, an .npz entry the input of its entry name; when
 * that name is not an input, the tensor binds the input at the file's position in the list
 * (`input_0.pb` → the first input, as in the backend test data). JSON files map input names to
 * nested arrays (`{ "x": [[1, 2], [3, 4]] }`) or to `{ "data": [...], "shape": [...], "dtype": "float32" }`;
 * element type (and, for flat arrays, the shape) come from the model. NaN and ±Infinity are
 * written as the strings "NaN", "Infinity", "-Infinity"; int64 values beyond 2^53 as strings.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { DataType, Tensor, dataTypeInfo, dataTypeName, parseDataType, type Model } from '@onnxkit/graph';
import { decodeTensorProto } from '@onnxkit/importer';
import { VerifyError } from './errors.js';
import { decodeNpy, decodeNpz } from './npy.js';
import { checkFeeds, type RuntimeSession, type ValueMetadata } from './session.js';
import { inputMetadataOf } from './synthetic.js';
import { checkInputSize, maxInputBytes } from './input-limits.js';

export type InputFile = string | { path: string; name?: string };

export interface LoadInputsOptions {
  /** Check the result against the inputs (names, types, shapes). Default true. */
  check?: boolean;
  /** Label of the model in messages. */
  label?: string;
  /** Largest tensor an input file may hold or inflate to (default: see input-limits.ts, 2 GiB). */
  maxTensorBytes?: number;
}

type Format = 'npy' | 'npz' | 'pb' | 'json';

function detectFormat(path: string, bytes: Uint8Array): Format {
  const ext = extname(path).toLowerCase();
  if (ext === '.npy') return 'npy';
  if (ext === '.npz') return 'npz';
  if (ext === '.pb' || ext === '.tensorproto') return 'pb';
  if (ext === '.json') return 'json';
  if (bytes[0] === 0x93 && bytes[1] === 0x4e) return 'npy';
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return 'npz';
  if (bytes[0] === 0x7b) return 'json';
  throw new VerifyError(`${path}: unknown input file format '${ext || '(no extension)'}'`, {
    code: 'VERIFY_INPUT_FILE',
    file: path,
    hint: 'use .npy, .npz, .pb (ONNX TensorProto) or .json',
  });
}

function readInput(path: string): Uint8Array {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new VerifyError(`input file not found: ${path}`, { code: 'VERIFY_INPUT_FILE', file: path, hint: 'check the path' });
  }
  if (!st.isFile()) throw new VerifyError(`${path} is not a file`, { code: 'VERIFY_INPUT_FILE', file: path });
  if (st.size >= 2 ** 31) throw new VerifyError(`${path} is ${st.size} bytes; input files must stay below 2 GiB`, { code: 'VERIFY_INPUT_FILE', file: path });
  return new Uint8Array(readFileSync(path));
}

/** Splits `name=path` when `name` is an input of the model and the whole string is not a file. */
function parseSpec(spec: InputFile, inputNames: ReadonlySet<string>): { path: string; name?: string } {
  if (typeof spec !== 'string') return spec;
  const eq = spec.indexOf('=');
  if (eq > 0 && inputNames.has(spec.slice(0, eq)) && !existsSync(spec)) return { name: spec.slice(0, eq), path: spec.slice(eq + 1) };
  return { path: spec };
}

/** Loads input files for a model (session, Model or metadata list). See the module header. */
export function loadInputs(files: readonly InputFile[], metadata: RuntimeSession | Model | readonly ValueMetadata[], options: LoadInputsOptions = {}): Map<string, Tensor> {
  const inputs = inputMetadataOf(metadata);
  const limit = maxInputBytes(options.maxTensorBytes);
  const byName = new Map(inputs.map((m) => [m.name, m]));
  const feeds = new Map<string, Tensor>();
  const origin = new Map<string, string>();
  const bind = (name: string, t: Tensor, file: string): void => {
    const prev = origin.get(name);
    if (prev !== undefined) {
      throw new VerifyError(`input '${name}' is given twice: by ${prev} and by ${file}`, { code: 'VERIFY_INPUT_DUPLICATE', tensor: name, file, hint: 'pass each input once' });
    }
    origin.set(name, file);
    checkInputSize(name, t.dtype, t.dims, limit, file);
    feeds.set(name, t.name === name ? t : t.with({ name }));
  };
  const positional = (index: number, file: string, what: string): string => {
    const m = inputs[index];
    if (m === undefined) {
      throw new VerifyError(`${file}: ${what} does not name an input, and position ${index} is past the model's ${inputs.length} input(s) (${inputs.map((i) => i.name).join(', ') || 'none'})`, {
        code: 'VERIFY_INPUT_EXTRA',
        file,
        hint: 'name the file after the input, or pass it as name=path',
      });
    }
    return m.name;
  };
  files.forEach((raw, index) => {
    const spec = parseSpec(raw, new Set(byName.keys()));
    const path = spec.path;
    const bytes = readInput(path);
    const format = detectFormat(path, bytes);
    switch (format) {
      case 'npy': {
        const stem = basename(path, extname(path));
        const name = spec.name ?? (byName.has(stem) ? stem : positional(index, path, `file stem '${stem}'`));
        bind(name, decodeNpy(bytes, name, path), path);
        break;
      }
      case 'npz': {
        const entries = decodeNpz(bytes, path, { maxTensorBytes: limit });
        if (entries.size === 0) throw new VerifyError(`${path}: the archive holds no arrays`, { code: 'VERIFY_INPUT_FILE', file: path });
        for (const [name, t] of entries) {
          if (!byName.has(name)) {
            throw new VerifyError(`${path}: entry '${name}' is not an input of ${options.label ?? 'the model'} (inputs: ${[...byName.keys()].join(', ') || 'none'})`, {
              code: 'VERIFY_INPUT_EXTRA',
              tensor: name,
              file: path,
              hint: 'name the arrays after the model inputs (numpy.savez(path, input_name=array))',
            });
          }
          bind(name, t, `${path}:${name}.npy`);
        }
        break;
      }
      case 'pb': {
        let t: Tensor;
        try {
          t = decodeTensorProto(bytes);
        } catch (e) {
          throw new VerifyError(`${path}: not a valid ONNX TensorProto: ${(e as Error).message}`, { code: 'VERIFY_INPUT_FILE', file: path, cause: e, byteOffset: (e as { byteOffset?: number }).byteOffset });
        }
        const name = spec.name ?? (byName.has(t.name) ? t.name : positional(index, path, t.name ? `tensor name '${t.name}'` : 'the unnamed tensor'));
        bind(name, t.materialize(), path);
        break;
      }
      case 'json': {
        for (const [name, t] of decodeJsonInputs(bytes, path, byName, spec.name)) bind(name, t, path);
        break;
      }
    }
  });
  if (options.check ?? true) checkFeeds(feeds, inputs, options.label);
  return feeds;
}

/** Numbered backend test data of one folder: `input_<i>.pb` / `output_<i>.pb`, sorted by i. */
export function backendTestData(dir: string): { inputs: string[]; outputs: string[] } {
  const pick = (prefix: string): string[] => {
    const out: { i: number; f: string }[] = [];
    for (let i = 0; ; i++) {
      const f = join(dir, `${prefix}_${i}.pb`);
      if (!existsSync(f)) break;
      out.push({ i, f });
    }
    return out.map((x) => x.f);
  };
  return { inputs: pick('input'), outputs: pick('output') };
}

// ---------------------------------------------------------------------------------- JSON

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Deepest array nesting a JSON input may have (a tensor's rank); deeper would overflow the stack. */
const MAX_JSON_RANK = 64;

function decodeJsonInputs(bytes: Uint8Array, file: string, inputs: ReadonlyMap<string, ValueMetadata>, onlyName: string | undefined): Map<string, Tensor> {
  let doc: Json;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes)) as Json;
  } catch (e) {
    throw new VerifyError(`${file}: invalid JSON: ${(e as Error).message}`, { code: 'VERIFY_INPUT_FILE', file, hint: 'write { "input_name": [[...]] }' });
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    if (onlyName !== undefined) doc = { [onlyName]: doc };
    else throw new VerifyError(`${file}: expected an object mapping input names to arrays, got ${Array.isArray(doc) ? 'an array' : typeof doc}`, { code: 'VERIFY_INPUT_FILE', file, hint: 'write { "input_name": [[...]] }, or pass the file as input_name=path' });
  }
  const out = new Map<string, Tensor>();
  for (const [name, value] of Object.entries(doc)) {
    const m = inputs.get(name);
    if (m === undefined) {
      throw new VerifyError(`${file}: '${name}' is not an input of the model (inputs: ${[...inputs.keys()].join(', ') || 'none'})`, { code: 'VERIFY_INPUT_EXTRA', tensor: name, file });
    }
    out.set(name, jsonTensor(name, value, m, file));
  }
  return out;
}

function jsonTensor(name: string, value: Json, m: ValueMetadata, file: string): Tensor {
  const where = `${file}: input '${name}'`;
  function bad(msg: string, hint?: string): never {
    throw new VerifyError(`${where}: ${msg}`, { code: 'VERIFY_INPUT_FILE', tensor: name, file, hint });
  }
  let data: Json = value;
  let dtype = m.dtype;
  let shape: number[] | undefined;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    data = value.data ?? null;
    if (data === null) bad('object form needs a "data" field');
    if (value.dtype !== undefined) {
      const d = typeof value.dtype === 'string' ? parseDataType(value.dtype) : undefined;
      if (d === undefined) bad(`unknown dtype ${JSON.stringify(value.dtype)}`);
      dtype = d;
    }
    if (value.shape !== undefined) {
      if (!Array.isArray(value.shape) || !value.shape.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) bad('"shape" must be an array of non-negative integers');
      shape = value.shape as number[];
    }
  }
  if (dtype === undefined) bad('the model does not declare its element type', 'give it as { "dtype": "float32", "data": [...] }');
  // Flatten nested arrays, checking they are rectangular.
  const flat: Json[] = [];
  const nested: number[] = [];
  const walk = (v: Json, depth: number): void => {
    if (depth > MAX_JSON_RANK) bad(`arrays nest deeper than ${MAX_JSON_RANK} levels`, 'a tensor has at most 64 dimensions');
    if (Array.isArray(v)) {
      if (nested.length === depth) nested.push(v.length);
      else if (nested[depth] !== v.length) bad(`ragged array: dimension ${depth} has lengths ${nested[depth]} and ${v.length}`);
      for (const x of v) walk(x, depth + 1);
    } else {
      if (depth !== nested.length) bad(`ragged array: a scalar at depth ${depth}, arrays elsewhere reach depth ${nested.length}`);
      flat.push(v);
    }
  };
  walk(data, 0);
  if (shape === undefined) {
    shape = nested;
    // A flat list for a model whose shape is fully static: take the model's shape.
    if (m.shape !== null && nested.length === 1 && m.shape.length !== 1 && m.shape.every((d) => typeof d === 'number')) {
      const ms = m.shape as number[];
      if (ms.reduce((p, d) => p * d, 1) === flat.length) shape = [...ms];
    }
  }
  const size = shape.reduce((p, d) => p * d, 1);
  if (size !== flat.length) bad(`shape [${shape.join(',')}] needs ${size} values, got ${flat.length}`);
  return jsonValues(name, dtype, shape, flat, bad);
}

const INT_RANGE: Partial<Record<DataType, [bigint, bigint]>> = {
  [DataType.INT8]: [-128n, 127n],
  [DataType.UINT8]: [0n, 255n],
  [DataType.INT16]: [-32768n, 32767n],
  [DataType.UINT16]: [0n, 65535n],
  [DataType.INT32]: [-(2n ** 31n), 2n ** 31n - 1n],
  [DataType.UINT32]: [0n, 2n ** 32n - 1n],
  [DataType.INT64]: [-(2n ** 63n), 2n ** 63n - 1n],
  [DataType.UINT64]: [0n, 2n ** 64n - 1n],
  [DataType.INT4]: [-8n, 7n],
  [DataType.UINT4]: [0n, 15n],
};

/** JSON scalars → a tensor of `dtype`, refusing values the type cannot hold exactly. */
function jsonValues(name: string, dtype: DataType, shape: number[], flat: Json[], bad: (msg: string, hint?: string) => never): Tensor {
  const info = dataTypeInfo(dtype);
  if (dtype === DataType.STRING) {
    flat.forEach((v, i) => {
      if (typeof v !== 'string') bad(`element ${i} is ${JSON.stringify(v)}; a string input needs strings`);
    });
    return Tensor.fromStrings(shape, flat as string[], { name });
  }
  if (info.kind === 'bool') {
    const a = new Uint8Array(flat.length);
    flat.forEach((v, i) => {
      if (v === true || v === 1) a[i] = 1;
      else if (v === false || v === 0) a[i] = 0;
      else bad(`element ${i} is ${JSON.stringify(v)}; a bool input needs true/false (or 1/0)`);
    });
    return Tensor.fromArray(dtype, shape, a, { name });
  }
  if (info.kind === 'int' || info.kind === 'uint') {
    const range = INT_RANGE[dtype];
    if (range === undefined) bad(`${dataTypeName(dtype)} inputs cannot be read from JSON`);
    const values: bigint[] = flat.map((v, i) => {
      let x: bigint | undefined;
      if (typeof v === 'number' && Number.isInteger(v)) {
        if (!Number.isSafeInteger(v)) bad(`element ${i} (${v}) is beyond 2^53 and may have been rounded`, 'write large integers as strings, e.g. "9007199254740993"');
        x = BigInt(v);
      } else if (typeof v === 'string' && /^-?\d+$/.test(v)) x = BigInt(v);
      if (x === undefined) bad(`element ${i} is ${JSON.stringify(v)}; ${dataTypeName(dtype)} needs integers`);
      if (x < range[0] || x > range[1]) bad(`element ${i} (${x}) does not fit ${dataTypeName(dtype)} [${range[0]}, ${range[1]}]`);
      return x;
    });
    return Tensor.fromNumbers(dtype, shape, values, { name });
  }
  if (info.kind === 'float') {
    const values = flat.map((v, i) => {
      if (typeof v === 'number') return v;
      if (v === 'NaN') return NaN;
      if (v === 'Infinity' || v === 'inf') return Infinity;
      if (v === '-Infinity' || v === '-inf') return -Infinity;
      return bad(`element ${i} is ${JSON.stringify(v)}; ${dataTypeName(dtype)} needs numbers ("NaN", "Infinity" and "-Infinity" as strings)`);
    });
    return Tensor.fromNumbers(dtype, shape, values, { name });
  }
  return bad(`${dataTypeName(dtype)} inputs cannot be read from JSON`);
}
