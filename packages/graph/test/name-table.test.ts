// The name table the importer's decoder and verify() share: first definition wins, exact answers
// when names collide past the longest probe (an overflow map), also across the table's growth.
import { describe, expect, it } from 'vitest';
import { Value } from '@onnxkit/graph';
import { NameTable, nameHash, slotHash } from '../src/name-table.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** `count` distinct names whose slot hashes agree in their low `bits` bits. */
function colliding(count: number, bits: number): string[] {
  const mask = (1 << bits) - 1;
  const slot = (name: string): number => slotHash(nameHash(name)) & mask;
  const want = slot('n0');
  const out: string[] = [];
  for (let i = 0; out.length < count; i++) if (slot(`n${i}`) === want) out.push(`n${i}`);
  return out;
}

describe('NameTable', () => {
  it('files each name once (the first value wins) and finds it by string and by bytes', () => {
    const t = new NameTable(2);
    const a = Value._named('a');
    const b = Value._named('b');
    expect(t.add(a)).toBe(a);
    expect(t.add(a)).toBe(a); // the same value again (an IR<4 input that is also an initializer)
    expect(t.add(b, nameHash('b'))).toBe(b);
    const a2 = Value._named('a');
    expect(t.add(a2)).toBe(a);
    expect(t.get('a')).toBe(a);
    expect(t.get('c')).toBeUndefined();
    const buf = bytes('xxbyy');
    expect(t.getBytes(buf, 2, 1, nameHash('b'))).toBe(b);
    expect(t.getBytes(buf, 0, 1, nameHash('x'))).toBeUndefined();
    // Growth past the expected count keeps every name.
    const many = Array.from({ length: 1000 }, (_, i) => Value._named(`v${i}`));
    for (const v of many) expect(t.add(v)).toBe(v);
    expect(many.every((v) => t.get(v.name) === v)).toBe(true);
    expect(t.get('a')).toBe(a);
  });

  it('answers exactly for names that collide past the longest probe, before and after it grows', () => {
    // 200 names on one probe chain of a 256-slot table (sized for 150): 136 past the longest probe.
    const names = colliding(200, 8);
    const t = new NameTable(150);
    const values = names.map((n) => Value._named(n));
    for (const v of values) expect(t.add(v)).toBe(v);
    for (const v of values) {
      expect(t.get(v.name)).toBe(v);
      expect(t.getBytes(bytes(v.name), 0, v.name.length, nameHash(v.name))).toBe(v);
      expect(t.add(Value._named(v.name))).toBe(v); // a second definition finds the first
    }
    expect(t.get('n-none')).toBeUndefined();
    // Growth rehashes: names the overflow map holds must not be filed a second time.
    const more = Array.from({ length: 600 }, (_, i) => Value._named(`m${i}`));
    for (const v of more) t.add(v);
    for (const v of values) {
      expect(t.get(v.name)).toBe(v);
      expect(t.add(Value._named(v.name))).toBe(v);
      expect(t.getBytes(bytes(v.name), 0, v.name.length, nameHash(v.name))).toBe(v);
    }
    expect(more.every((v) => t.get(v.name) === v)).toBe(true);
  });
  it('addAll files a batch as add() one by one would: first value wins, duplicates reported, also when it must grow', () => {
    for (const expected of [500, 4]) {
      const t = new NameTable(expected);
      const a = Value._named('a');
      expect(t.add(a)).toBe(a);
      const batch = [Value._named('b'), Value._named('c'), a, Value._named('d')];
      const hashes = new Int32Array(batch.map((v) => nameHash(v.name)));
      // The same value again is not a duplicate.
      expect(t.addAll(batch, hashes, batch.length)).toBe(false);
      for (const v of batch) expect(t.get(v.name)).toBe(v);
      // Another value under a filed name, and a name twice within the batch: both duplicates,
      // the first value kept.
      const late = [Value._named('e'), Value._named('b')];
      expect(t.addAll(late, new Int32Array(late.map((v) => nameHash(v.name))), 2)).toBe(true);
      expect(t.get('b')).toBe(batch[0]);
      const twice = [Value._named('f'), Value._named('f')];
      expect(t.addAll(twice, new Int32Array(twice.map((v) => nameHash(v.name))), 2)).toBe(true);
      expect(t.get('f')).toBe(twice[0]);
      // Only `count` entries of the arrays are filed.
      const partial = [Value._named('g'), Value._named('h')];
      expect(t.addAll(partial, new Int32Array(partial.map((v) => nameHash(v.name))), 1)).toBe(false);
      expect(t.get('g')).toBe(partial[0]);
      expect(t.get('h')).toBeUndefined();
      // A batch larger than the table holds: it grows on the way and keeps every name.
      const many = Array.from({ length: 300 }, (_, i) => Value._named(`v${i}`));
      expect(t.addAll(many, new Int32Array(many.map((v) => nameHash(v.name))), many.length)).toBe(false);
      expect(many.every((v) => t.get(v.name) === v)).toBe(true);
    }
  });
});
