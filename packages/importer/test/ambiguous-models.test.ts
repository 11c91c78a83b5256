/**
 * Models that decode but have no single meaning are refused at load (issue 13): two
 * initializers, or a sparse and a dense one, with one name (the decoder would keep the first,
 * onnxruntime uses the last), and local functions that call themselves directly or mutually.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decode, encode, ImportError, load, recursiveFunctionChain } from '@onnxkit/importer';
import { duplicateInitializerBytes, functionChain, recursiveFunctions } from '../../../fuzz/hostile.js';
import { scratchDir, thrown } from '../../../test/helpers/errors.js';

const dir = scratchDir('ambiguous');

const refusal = (fn: () => unknown): ImportError => thrown(ImportError, fn);

describe('duplicate initializer names', () => {
  it.each([false, true])('two definitions of one initializer (sparse: %s) are refused, naming it', (sparse) => {
    const bytes = duplicateInitializerBytes(sparse);
    const file = join(dir, `dup-${sparse}.onnx`);
    writeFileSync(file, bytes);
    for (const e of [refusal(() => load(file)), refusal(() => decode(bytes))]) {
      expect(e.code).toBe('IMPORT_INVALID');
      expect(e.message).toMatch(/initializer 'dupAAAA' is defined twice: onnxruntime would use the last definition, onnxkit the first, so the model is refused/);
      expect(e.hint).toMatch(/remove or rename/);
    }
  });
});

describe('recursive local functions', () => {
  it('a function calling itself is refused at load', () => {
    const e = refusal(() => decode(encode(recursiveFunctions(1))));
    expect(e.message).toMatch(/local function 'local:f0' calls itself; ONNX forbids recursive functions/);
  });

  it('mutual recursion is refused with the chain', () => {
    const e = refusal(() => decode(encode(recursiveFunctions(3))));
    expect(e.message).toMatch(/local:f0 → local:f1 → local:f2 → local:f0/);
  });

  it('a 20,000-function chain is checked without overflowing the stack; it is not recursive', () => {
    const m = functionChain(20_000);
    expect(recursiveFunctionChain(m)).toBeUndefined();
    const r = recursiveFunctions(20_000);
    expect(recursiveFunctionChain(r)).toHaveLength(20_001);
  });
});
