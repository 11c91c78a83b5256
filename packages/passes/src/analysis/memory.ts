/**
 * Activation liveness over the execution order (after tfjs-converter's model_analysis): the
 * true peak of live activation bytes and a per-step timeline for the report's chart.
 *
 * A buffer is allocated when its producer runs (graph inputs: before the first node) and freed
 * after the last node that reads it (graph outputs: never). Views (Reshape, Flatten, …) share
 * their input's buffer; an in-place op (Relu, inference BatchNorm, …) reuses its input's buffer
 * when it is that buffer's last reader and the sizes match — as ONNX Runtime's planner does.
 * Weights are not included (they are resident for the whole run: add the model size). Reads
 * from inside If/Loop bodies count at the step of the node owning the subgraph.
 */
import type { Graph, Node, Value } from '@onnxkit/graph';

export interface MemoryStep {
  readonly step: number;
  readonly node: string;
  /** Activation bytes live while this node runs (its inputs and outputs included). */
  readonly liveBytes: number;
}

export interface Liveness {
  readonly peakBytes: number;
  /** Step (node index) at which the peak occurs; -1 for an empty graph. */
  readonly peakStep: number;
  readonly timeline: MemoryStep[];
  /** Activations whose size is unknown (counted as 0 bytes: the peak is then a lower bound). */
  readonly unknownValues: number;
}

export interface LivenessInput {
  readonly graph: Graph;
  readonly nodes: readonly Node[];
  readonly names: readonly string[];
  /** Bytes of an activation value, null when unknown. */
  bytesOf(v: Value): number | null;
  /** False for constants (weights, folded shape values): they hold no activation buffer. */
  isActivation(v: Value): boolean;
  /** How node outputs relate to input 0. */
  reuse(n: Node): 'alias' | 'inPlace' | undefined;
}

interface Buffer {
  readonly bytes: number;
  readonly alloc: number;
  lastUse: number;
}

export function activationLiveness(input: LivenessInput): Liveness {
  const { graph, nodes } = input;
  const stepOf = new Map<Node, number>();
  nodes.forEach((n, i) => stepOf.set(n, i));
  const topStep = (n: Node): number => {
    let cur: Node | null = n;
    while (cur && cur.graph !== graph) cur = cur.graph?.parent ?? null;
    return cur ? (stepOf.get(cur) ?? -1) : -1;
  };
  const lastUseOf = (v: Value, fallback: number): number => {
    if (v.isGraphOutput) return Infinity;
    let last = fallback;
    for (const u of v.uses) last = Math.max(last, topStep(u.node));
    return last;
  };

  const buffers = new Map<Value, Buffer>();
  let unknownValues = 0;
  const sizeOf = (v: Value): number => {
    const b = input.bytesOf(v);
    if (b === null) {
      unknownValues++;
      return 0;
    }
    return b;
  };
  const all: Buffer[] = [];
  for (const v of graph.inputs) {
    if (v.isInitializer || !input.isActivation(v)) continue;
    const buf: Buffer = { bytes: sizeOf(v), alloc: -1, lastUse: lastUseOf(v, -1) };
    buffers.set(v, buf);
    all.push(buf);
  }
  nodes.forEach((n, i) => {
    const mode = input.reuse(n);
    const in0 = n.inputs[0];
    const inBuf = in0 ? buffers.get(in0) : undefined;
    n.outputs.forEach((v, k) => {
      if (!input.isActivation(v) || (v.name === '' && v.uses.length === 0)) return;
      const last = lastUseOf(v, i);
      if (k === 0 && inBuf && mode === 'alias') {
        inBuf.lastUse = Math.max(inBuf.lastUse, last);
        buffers.set(v, inBuf);
        return;
      }
      const bytes = sizeOf(v);
      if (k === 0 && inBuf && mode === 'inPlace' && inBuf.lastUse === i && inBuf.bytes === bytes) {
        inBuf.lastUse = Math.max(inBuf.lastUse, last);
        buffers.set(v, inBuf);
        return;
      }
      const buf: Buffer = { bytes, alloc: i, lastUse: last };
      buffers.set(v, buf);
      all.push(buf);
    });
  });

  const n = nodes.length;
  const allocAt = new Float64Array(n);
  const freeAfter = new Float64Array(n);
  let live = 0;
  for (const b of all) {
    if (b.alloc < 0) live += b.bytes;
    else allocAt[b.alloc]! += b.bytes;
    if (Number.isFinite(b.lastUse)) freeAfter[Math.max(b.lastUse, b.alloc, 0)]! += b.bytes;
  }
  const timeline: MemoryStep[] = new Array<MemoryStep>(n);
  let peakBytes = n === 0 ? live : 0;
  let peakStep = -1;
  for (let i = 0; i < n; i++) {
    live += allocAt[i]!;
    timeline[i] = { step: i, node: input.names[i]!, liveBytes: live };
    if (live > peakBytes) {
      peakBytes = live;
      peakStep = i;
    }
    live -= freeAfter[i]!;
  }
  return { peakBytes, peakStep, timeline, unknownValues };
}
