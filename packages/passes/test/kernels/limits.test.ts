/**
 * The kernel layer's refusals (fuzz findings of issue 7): an output over the caller's byte limit
 * is refused BEFORE it is allocated (ConstantOfShape, Expand, Tile and Range of any size), an
 * attribute of the wrong type or an impossible value is a KernelError naming the node, and an op
 * type such as `constructor` finds no kernel.
 *
 * "Before it is allocated" is shown with sizes no machine could allocate (4 TiB and more): a
 * kernel that allocated first would fail with a RangeError from the engine, not a
 * KernelBudgetError carrying the exact byte count.
 */
import { describe, expect, it } from 'vitest';
import { Attribute, AttributeType, DataType, GraphBuilder, Tensor, type AttributeInput, type Node } from '@onnxkit/graph';
import { evaluateNode, KernelBudgetError, KernelError, SUPPORTED_KERNELS } from '../../src/kernels/index.js';

function mk(op: string, attrs: Record<string, AttributeInput> = {}, nIn = 1, nOut = 1): Node {
  const b = new GraphBuilder({ opset: 18 });
  const ins = Array.from({ length: nIn }, (_, i) => b.input(`i${i}`, DataType.FLOAT, null));
  return b.node(op, ins, attrs, { outputs: nOut, name: `${op.toLowerCase()}_node` });
}
const i64 = (v: (number | bigint)[]) => Tensor.fromNumbers(DataType.INT64, [v.length], v);
const f32 = (dims: number[], v: number[]) => Tensor.fromNumbers(DataType.FLOAT, dims, v);
const MiB = 2 ** 20;

function refusal(op: string, inputs: (Tensor | null)[], attrs: Record<string, AttributeInput>, limit: number): KernelBudgetError {
  let err: unknown;
  try {
    evaluateNode(mk(op, attrs, inputs.length), inputs, 18, { maxOutputBytes: limit });
  } catch (e) {
    err = e;
  }
  expect(err, `${op} must be refused`).toBeInstanceOf(KernelBudgetError);
  return err as KernelBudgetError;
}

describe('evaluateNode maxOutputBytes: refused before allocating', () => {
  it('ConstantOfShape of 2^40 float32 elements (4 TiB) is refused with the exact size', () => {
    const e = refusal('ConstantOfShape', [i64([2 ** 20, 2 ** 20])], { value: f32([1], [1]) }, 16 * MiB);
    expect(e.bytes).toBe(2 ** 42);
    expect(e.limit).toBe(16 * MiB);
    expect(e.code).toBe('KERNEL_BUDGET_EXCEEDED');
    expect(e.message).toContain("ConstantOfShape 'constantofshape_node'");
    expect(e.message).toContain(String(2 ** 42));
  });

  it('Expand, Tile and Range are refused the same way', () => {
    expect(refusal('Expand', [f32([1, 1], [2]), i64([2 ** 21, 2 ** 21])], {}, MiB).bytes).toBe(2 ** 44);
    expect(refusal('Tile', [f32([2, 1], [1, 2]), i64([2 ** 20, 2 ** 21])], {}, MiB).bytes).toBe(2 ** 44);
    // int64 Range of 2^29 elements: 4 GiB.
    const r = refusal('Range', [Tensor.scalar(DataType.INT64, 0), Tensor.scalar(DataType.INT64, 2 ** 29), Tensor.scalar(DataType.INT64, 1)], {}, MiB);
    expect(r.bytes).toBe(2 ** 32);
    // A broadcast that multiplies: [N,1] + [1,N].
    const col = Tensor.fromArray(DataType.FLOAT, [4096, 1], new Float32Array(4096));
    const row = Tensor.fromArray(DataType.FLOAT, [1, 4096], new Float32Array(4096));
    expect(refusal('Add', [col, row], {}, MiB).bytes).toBe(4096 * 4096 * 4);
  });

  it('does not touch memory for a refused 256 MiB output', () => {
    const before = process.memoryUsage().arrayBuffers;
    refusal('ConstantOfShape', [i64([8192, 8192])], { value: f32([1], [1]) }, 16 * MiB);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(MiB);
  });

  it('evaluates anything within the limit exactly as without one', () => {
    const out = evaluateNode(mk('ConstantOfShape', { value: f32([1], [7]) }), [i64([2, 3])], 18, { maxOutputBytes: 24 })!;
    expect(out[0]!.dims).toEqual([2, 3]);
    expect(Array.from(out[0]!.toFloat64())).toEqual([7, 7, 7, 7, 7, 7]);
    // One byte less and the same node is refused.
    expect(refusal('ConstantOfShape', [i64([2, 3])], { value: f32([1], [7]) }, 23).bytes).toBe(24);
  });

  it('an output size that cannot exist is a KernelError naming the node, not a RangeError', () => {
    let err: unknown;
    try {
      evaluateNode(mk('Expand', {}, 2), [f32([1], [1]), i64([-5])], 18);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KernelError);
    expect((err as KernelError).message).toMatch(/Expand 'expand_node'.*-5 elements/);
  });
});

describe('malformed attributes are a KernelError, never a GraphError or a hang', () => {
  const cases: [string, Record<string, AttributeInput>, (Tensor | null)[], RegExp][] = [
    ['Concat', { axis: Attribute.float('axis', 1) }, [f32([1], [1]), f32([1], [2])], /attribute 'axis' is FLOAT, not INT/],
    ['Gather', { axis: Attribute.string('axis', '0') }, [f32([2], [1, 2]), i64([0])], /attribute 'axis' is STRING, not INT/],
    ['Transpose', { perm: [0, 0] }, [f32([1, 2], [1, 2])], /attribute 'perm' \[0,0\] is not a permutation/],
    ['Cast', { to: 255 }, [f32([1], [1])], /attribute 'to' is 255, which is not an ONNX data type/],
    ['ConstantOfShape', { value: Attribute.float('value', 1) }, [i64([2])], /attribute 'value' is FLOAT, not TENSOR/],
    ['Slice', { starts: Attribute.floats('starts', [0.5]), ends: [1] }, [f32([2], [1, 2])], /attribute 'starts' is FLOATS, not INTS/],
  ];
  for (const [op, attrs, inputs, message] of cases) {
    it(`${op} with ${Object.keys(attrs).join(', ')} of the wrong kind`, () => {
      let err: unknown;
      try {
        evaluateNode(mk(op, attrs, inputs.length), inputs, op === 'Slice' ? 9 : 18);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KernelError);
      expect((err as KernelError).code).toBe('KERNEL_BAD_ATTRIBUTE');
      expect((err as KernelError).message).toMatch(message);
      expect((err as KernelError).message).toContain(`${op} '${op.toLowerCase()}_node'`);
    });
  }

  it('a reference attribute is still "not covered" (undefined), not malformed', () => {
    const n = mk('Concat', {}, 2);
    n.setAttribute(Attribute.ref('axis', AttributeType.INT, 'a'));
    expect(evaluateNode(n, [f32([1], [1]), f32([1], [2])], 18)).toBeUndefined();
  });
});

describe('op types that name Object.prototype members', () => {
  it('find no kernel: undefined, and absent from SUPPORTED_KERNELS', () => {
    for (const op of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      expect(evaluateNode(mk(op, {}, 1), [f32([1], [1])], 18), op).toBeUndefined();
      expect(SUPPORTED_KERNELS[op], op).toBeUndefined();
      expect(op in SUPPORTED_KERNELS, op).toBe(false);
    }
    expect(SUPPORTED_KERNELS['Add']).toMatch(/\w/);
  });
});
