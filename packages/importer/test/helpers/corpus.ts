/**
 * The ONNX backend test corpus (Debian's libonnx-testdata). Tests that need it call
 * `corpusModels()`: when the corpus is missing they fail with an install hint, unless
 * ONNXKIT_ALLOW_MISSING_CORPUS=1 explicitly allows skipping (then the list is empty and the
 * caller reports that it skipped).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const CORPUS_ROOT = '/usr/share/libonnx-testdata/data';
export const CORPUS_DIRS = ['node', 'pytorch-converted', 'pytorch-operator', 'real', 'simple'];

export interface CorpusModel {
  /** e.g. "node/test_abs" */
  readonly id: string;
  readonly dir: string;
  readonly model: string;
}

export function corpusAvailable(): boolean {
  return existsSync(join(CORPUS_ROOT, 'node'));
}

/** Every model.onnx of the corpus, sorted by id; throws with a hint when the corpus is missing. */
export function corpusModels(): CorpusModel[] {
  if (!corpusAvailable()) {
    if (process.env.ONNXKIT_ALLOW_MISSING_CORPUS === '1') return [];
    throw new Error(
      `the ONNX backend test corpus is not installed at ${CORPUS_ROOT}: run \`apt-get install libonnx-testdata\` ` +
        '(or set ONNXKIT_ALLOW_MISSING_CORPUS=1 to skip the corpus tests explicitly)',
    );
  }
  const out: CorpusModel[] = [];
  for (const d of CORPUS_DIRS) {
    const root = join(CORPUS_ROOT, d);
    if (!existsSync(root)) continue;
    for (const t of readdirSync(root).sort()) {
      const model = join(root, t, 'model.onnx');
      if (existsSync(model)) out.push({ id: `${d}/${t}`, dir: join(root, t), model });
    }
  }
  return out;
}
