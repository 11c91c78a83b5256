/**
 * Calibration samples: where they come from and how they are split.
 *
 * `--calibration SPEC`:
 * - a folder: each .npy/.npz/.pb/.json file in it is one sample (an .npz holds one array per
 *   input, named by input; a lone .npy/.pb feeds a single-input model), and each sub-folder is
 *   one sample with one file per input (onnx's `test_data_set_N/input_K.pb` layout);
 * - a glob (`*` and `?` in the last path component): the matching files, one sample each.
 * Samples are read lazily, one at a time, in name order.
 *
 * Without files: seeded synthetic samples (`syntheticInputs` with seeds seed, seed+1, …).
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import type { Model, Tensor } from '@onnxkit/graph';
import { VerifyError } from '../errors.js';
import { loadInputs } from '../load-inputs.js';
import { syntheticInputs, type SyntheticOptions } from '../synthetic.js';

const EXTENSIONS = new Set(['.npy', '.npz', '.pb', '.json']);

function globRegExp(pattern: string): RegExp {
  const esc = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${esc}$`);
}

function sortedNames(dir: string): string[] {
  return readdirSync(dir).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** Lists the samples of a calibration spec: each sample is the list of its files. */
export function listSamples(spec: string, what = '--calibration'): string[][] {
  if (/[*?]/.test(basename(spec))) {
    const dir = dirname(spec);
    let names: string[];
    try {
      names = sortedNames(dir);
    } catch {
      throw new VerifyError(`${what} ${spec}: the folder ${dir} cannot be read`, { code: 'VERIFY_INPUT_FILE', file: dir, hint: 'check the path' });
    }
    const re = globRegExp(basename(spec));
    const files = names.filter((n) => re.test(n)).map((n) => join(dir, n)).filter((p) => statSync(p).isFile());
    if (files.length === 0) throw new VerifyError(`${what} ${spec} matches no file`, { code: 'VERIFY_INPUT_FILE', file: spec, hint: 'check the pattern (quote it so the shell does not expand it)' });
    return files.map((f) => [f]);
  }
  let st;
  try {
    st = statSync(spec);
  } catch {
    throw new VerifyError(`${what} ${spec} does not exist`, { code: 'VERIFY_INPUT_FILE', file: spec, hint: 'give a folder of .npy/.npz/.pb inputs or a glob such as "data/*.npz"' });
  }
  if (st.isFile()) return [[spec]];
  const samples: string[][] = [];
  for (const name of sortedNames(spec)) {
    const p = join(spec, name);
    const s = statSync(p);
    if (s.isFile() && EXTENSIONS.has(extname(name).toLowerCase())) samples.push([p]);
    else if (s.isDirectory()) {
      const files = sortedNames(p).filter((n) => EXTENSIONS.has(extname(n).toLowerCase())).map((n) => join(p, n));
      if (files.length > 0) samples.push(files);
    }
  }
  if (samples.length === 0) {
    throw new VerifyError(`${what} ${spec} holds no .npy, .npz, .pb or .json input`, { code: 'VERIFY_INPUT_FILE', file: spec, hint: 'one file (or one sub-folder of per-input files) per sample' });
  }
  return samples;
}

/** Reads samples one at a time (checked against the model's inputs). */
export function* readSamples(samples: readonly (readonly string[])[], model: Model): Generator<Map<string, Tensor>> {
  for (const files of samples) yield loadInputs(files, model);
}

/** `count` seeded synthetic samples (seeds `seed`, `seed + 1`, …). */
export function* syntheticSamples(model: Model, count: number, seed = 0, options: Omit<SyntheticOptions, 'seed'> = {}): Generator<Map<string, Tensor>> {
  for (let i = 0; i < count; i++) yield syntheticInputs(model, { ...options, seed: seed + i });
}
