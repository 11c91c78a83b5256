/**
 * Weights: the PRNG against its reference, determinism (same seed → identical bytes and
 * identical printed model; different seed → different), per-tensor streams, initialisation
 * ranges, lazy and all-zero weights, and building a > 4 GiB model lean.
 */
import { describe, expect, it } from 'vitest';
import { bytesEqual, printModel, type Model } from '@onnxkit/graph';
import { Prng, ZOO_MODELS, ZooError, alexnet, buildZooModel, mobilenetv2, normalArray, resnet50, transformer, vgg16 } from '@onnxkit/zoo';

function tensorBytes(m: Model): Map<string, Uint8Array> {
  return new Map([...m.graph.initializers].map(([k, v]) => [k, v.constValue!.bytes()]));
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const x of a) m = Math.max(m, Math.abs(x));
  return m;
}

function float32(m: Model, name: string): Float32Array {
  const t = m.graph.initializers.get(name)!.constValue!;
  return t.toArray() as Float32Array;
}

describe('Prng', () => {
  it('is xoshiro128**: matches the reference output for state (1, 2, 3, 4)', () => {
    // Reference values from the C implementation by Blackman & Vigna (xoshiro128starstar.c).
    const p = Prng.fromState(1, 2, 3, 4);
    expect(Array.from({ length: 8 }, () => p.nextUint32())).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849]);
  });

  it('fillUniform draws the same sequence as nextUint32 and stays inside (lo, hi)', () => {
    const a = new Prng(5, 's');
    const b = new Prng(5, 's');
    const out = new Float32Array(10_000);
    a.fillUniform(out, -2, 3);
    for (let i = 0; i < 100; i++) expect(out[i]).toBe(Math.fround(-2 + ((b.nextUint32() >>> 8) + 0.5) * (5 / 16777216)));
    expect(Math.min(...out)).toBeGreaterThan(-2);
    expect(Math.max(...out)).toBeLessThan(3);
    const mean = out.reduce((s, x) => s + x, 0) / out.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
  });

  it('streams differ by seed and by name; normals have mean 0 and variance 1', () => {
    const draw = (seed: number, stream: string): number[] => {
      const p = new Prng(seed, stream);
      return [p.nextUint32(), p.nextUint32(), p.nextUint32()];
    };
    expect(draw(1, 'a')).toEqual(draw(1, 'a'));
    expect(draw(1, 'a')).not.toEqual(draw(2, 'a'));
    expect(draw(1, 'a')).not.toEqual(draw(1, 'b'));
    expect(draw(2 ** 40, 'a')).not.toEqual(draw(0, 'a'));
    const z = normalArray(200_000, 3);
    const m = z.reduce((s, x) => s + x, 0) / z.length;
    const v = z.reduce((s, x) => s + (x - m) ** 2, 0) / z.length;
    expect(Math.abs(m)).toBeLessThan(0.01);
    expect(Math.abs(v - 1)).toBeLessThan(0.02);
  });
});

describe('determinism', () => {
  it('same seed → byte-identical tensors and identical printed models', () => {
    for (const build of [resnet50, mobilenetv2, () => transformer({ vocab: 50, causal: true })]) {
      const a = build();
      const b = build();
      expect(printModel(a)).toBe(printModel(b));
      const ta = tensorBytes(a);
      const tb = tensorBytes(b);
      expect([...ta.keys()]).toEqual([...tb.keys()]);
      for (const [k, v] of ta) expect(bytesEqual(v, tb.get(k)!), k).toBe(true);
    }
  });

  it('a different seed changes every random tensor', () => {
    const a = tensorBytes(resnet50({ seed: 1 }));
    const b = tensorBytes(resnet50({ seed: 2 }));
    for (const [k, v] of a) expect(bytesEqual(v, b.get(k)!), k).toBe(false);
    expect(printModel(resnet50({ seed: 1 }))).not.toBe(printModel(resnet50({ seed: 2 })));
  });

  it('every tensor draws from its own stream: no two parameters of one shape are equal', () => {
    for (const m of [mobilenetv2(), transformer({ layers: 3, vocab: 40 })]) {
      const seen = new Map<string, string>();
      for (const [name, bytes] of tensorBytes(m)) {
        const key = `${bytes.length}:${Array.from(bytes.subarray(0, 64)).join(',')}`;
        expect(seen.get(key), `${name} equals ${seen.get(key)}`).toBeUndefined();
        seen.set(key, name);
      }
    }
  });

  it("a tensor's values depend on seed and name only, not on the rest of the model", () => {
    const a = resnet50({ seed: 3 });
    const b = resnet50({ seed: 3, numClasses: 10, batch: 'N' });
    expect(bytesEqual(a.graph.initializers.get('layer2.1.conv2.weight')!.constValue!.bytes(), b.graph.initializers.get('layer2.1.conv2.weight')!.constValue!.bytes())).toBe(true);
  });
});

describe('initialisation', () => {
  it('convs are He-uniform (variance 2/fan_in), biases within ±1/√fan_in', () => {
    const m = alexnet();
    const w = float32(m, 'features.6.weight');
    const fanIn = 256 * 3 * 3;
    const bound = Math.sqrt(6 / fanIn);
    expect(maxAbs(w)).toBeLessThanOrEqual(bound);
    const v = w.reduce((s, x) => s + x * x, 0) / w.length;
    expect(v).toBeGreaterThan(0.97 * (2 / fanIn));
    expect(v).toBeLessThan(1.03 * (2 / fanIn));
    const b = float32(m, 'features.6.bias');
    expect(maxAbs(b)).toBeLessThanOrEqual(1 / Math.sqrt(fanIn));
    expect(b.some((x) => x !== 0)).toBe(true);
  });

  it('BatchNorm parameters are non-trivial: γ in (0.5, 1.5), β ≠ 0, running variance > 0 and not 1', () => {
    const m = resnet50();
    for (const n of m.graph) {
      if (n.opType !== 'BatchNormalization') continue;
      const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) => n.inputs[i]!.constValue!.toArray() as Float32Array);
      expect(Math.min(...gamma!), n.name).toBeGreaterThan(0.5);
      expect(Math.max(...gamma!), n.name).toBeLessThan(1.5);
      expect(beta!.some((x) => Math.abs(x) > 0.01), n.name).toBe(true);
      expect(mean!.some((x) => Math.abs(x) > 0.01), n.name).toBe(true);
      expect(Math.min(...variance!), n.name).toBeGreaterThan(0);
      expect(variance!.some((x) => Math.abs(x - 1) > 0.05), n.name).toBe(true);
    }
  });
});

describe('lazy and zero weights', () => {
  it('lazy tensors regenerate exactly the eager bytes on every read', () => {
    const eager = transformer({ vocab: 30, seed: 9 });
    const lazy = transformer({ vocab: 30, seed: 9, lazy: true });
    for (const [name, v] of lazy.graph.initializers) {
      const t = v.constValue!;
      if (t.isLazy) {
        expect(bytesEqual(t.bytes(), t.bytes()), name).toBe(true);
        expect(t.origin).toContain('regenerated on read');
      }
      expect(bytesEqual(t.bytes(), eager.graph.initializers.get(name)!.constValue!.bytes()), name).toBe(true);
    }
    expect([...lazy.graph.initializers.values()].filter((v) => v.constValue!.isLazy).length).toBeGreaterThan(10);
    const cnnLazy = tensorBytes(mobilenetv2({ lazy: true }));
    for (const [k, v] of tensorBytes(mobilenetv2())) expect(bytesEqual(v, cnnLazy.get(k)!), k).toBe(true);
  });

  it("'zeros' makes every parameter zero, all viewing one shared buffer for a CNN", () => {
    const m = resnet50({ weights: 'zeros' });
    const buffers = new Set<ArrayBufferLike>();
    for (const v of m.graph.initializers.values()) {
      const b = v.constValue!.bytes();
      expect(b.every((x) => x === 0), v.name).toBe(true);
      buffers.add(b.buffer);
    }
    expect(buffers.size).toBe(1);
  });

  it('builds a transformer with more than 4 GiB of weights without allocating them', () => {
    const rss0 = process.memoryUsage().rss;
    for (const o of [{ weights: 'zeros' as const }, { lazy: true }]) {
      const m = transformer({ layers: 8, dModel: 4096, heads: 32, vocab: 32_000, batch: 'N', seqLen: 'S', causal: true, ...o });
      const bytes = [...m.graph.initializers.values()].reduce((s, v) => s + v.constValue!.byteLength, 0);
      expect(bytes).toBeGreaterThan(4 * 2 ** 30);
    }
    expect(process.memoryUsage().rss - rss0).toBeLessThan(1024 * 2 ** 20);
  });
});

describe('registry and bad options', () => {
  it('ZOO_MODELS lists every builder, and buildZooModel builds each by name', () => {
    expect(ZOO_MODELS.map((m) => m.name)).toEqual(['alexnet', 'vgg16', 'resnet50', 'mobilenetv2', 'transformer']);
    for (const info of ZOO_MODELS) {
      expect(info.title.length).toBeGreaterThan(0);
      expect(info.reference).toMatch(/\d{4}/);
      if (info.name === 'vgg16') continue;
      const m = buildZooModel(info.name, { weights: 'zeros' });
      expect(m.metadataProps.get('zoo.model')).toBe(info.name);
    }
  });

  it('refuses bad options with a ZooError saying what and how to fix it', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => buildZooModel('resnet51'), /unknown zoo model "resnet51".*alexnet, vgg16/],
      [() => resnet50({ batch: 0 }), /batch must be a positive integer/],
      [() => resnet50({ batch: 'not a name' }), /not an identifier/],
      [() => mobilenetv2({ opset: 9 }), /opset 9 is not supported.*11 to 25/],
      [() => transformer({ opset: 12 }), /opset 12 is not supported.*13 to 25/],
      [() => transformer({ dModel: 30, heads: 4 }), /dModel 30 is not divisible by heads 4/],
      [() => transformer({ gelu: 'op' }), /Gelu op needs opset 20/],
      [() => transformer({ batch: 'S', seqLen: 'S' }), /different symbols/],
      [() => mobilenetv2({ widthMultiplier: 0 }), /widthMultiplier/],
      [() => vgg16({ imageSize: 256 }), /8×8 feature map.*multiple of 7/],
      [() => resnet50({ seed: 1.5 }), /seed must be a safe integer/],
      [() => resnet50({ weights: 'ones' as 'zeros' }), /weights must be 'random' or 'zeros'/],
    ];
    for (const [fn, re] of cases) {
      let err: unknown;
      try {
        fn();
      } catch (e) {
        err = e;
      }
      expect(err, String(re)).toBeInstanceOf(ZooError);
      expect((err as ZooError).oneLine()).toMatch(re);
    }
  });
});
