// A node's (or value's) metadata_props: a compact array-backed Map<string, string> that behaves as
// a Map — insertion order, set of a present key keeps its place, delete, clear, iteration over a
// snapshot while it changes — and that the codec round-trips.
import { describe, expect, it } from 'vitest';
import { Node, Value } from '@onnxkit/graph';

describe('metadataProps of a node', () => {
  it('behaves as a Map<string, string>', () => {
    const n = new Node('Relu', [Value._named('x')]);
    expect(n.hasMetadata).toBe(false);
    const m = n.metadataProps;
    expect(n.metadataProps).toBe(m); // the same object on every read
    expect(m.size).toBe(0);
    expect(m.set('a', '1')).toBe(m);
    m.set('b', '2').set('c', '3');
    m.set('a', '9'); // keeps its place
    expect(n.hasMetadata).toBe(true);
    expect([...m]).toEqual([['a', '9'], ['b', '2'], ['c', '3']]);
    expect([...m.keys()]).toEqual(['a', 'b', 'c']);
    expect([...m.values()]).toEqual(['9', '2', '3']);
    expect(m.get('b')).toBe('2');
    expect(m.get('z')).toBeUndefined();
    expect(m.has('c')).toBe(true);
    expect(m.delete('b')).toBe(true);
    expect(m.delete('b')).toBe(false);
    expect(new Map(m)).toEqual(new Map([['a', '9'], ['c', '3']]));
    const seen: string[] = [];
    m.forEach((v, k, self) => {
      expect(self).toBe(m);
      seen.push(`${k}=${v}`);
    });
    expect(seen).toEqual(['a=9', 'c=3']);
    expect(Object.prototype.toString.call(m)).toBe('[object Map]');
    // An iteration in progress goes on over the entries it started with.
    const it = m.entries();
    m.set('d', '4');
    m.delete('a');
    expect([...it]).toEqual([['a', '9'], ['c', '3']]);
    expect([...m]).toEqual([['c', '3'], ['d', '4']]);
    m.clear();
    expect(m.size).toBe(0);
    expect(n.hasMetadata).toBe(false);
  });

  it('is the same compact map for a value', () => {
    const v = Value._named('v');
    v.metadataProps.set('k', 'v');
    expect([...v.metadataProps]).toEqual([['k', 'v']]);
    expect(v.hasMetadata).toBe(true);
  });

  it('keeps behaving as a Map past the entries it scans (a real Map holds many)', () => {
    const m = new Node('Relu', [Value._named('x')]).metadataProps;
    const n = 40;
    for (let i = 0; i < n; i++) m.set(`k${i}`, `${i}`);
    m.set('k3', 'again'); // keeps its place
    expect(m.size).toBe(n);
    expect(m.get('k3')).toBe('again');
    expect(m.get(`k${n - 1}`)).toBe(`${n - 1}`);
    expect(m.has('k39')).toBe(true);
    expect(m.delete('k0')).toBe(true);
    expect(m.has('k0')).toBe(false);
    const expected = Array.from({ length: n - 1 }, (_, j) => [`k${j + 1}`, j + 1 === 3 ? 'again' : `${j + 1}`]);
    expect([...m]).toEqual(expected);
    expect([...m.keys()]).toEqual(expected.map((e) => e[0]));
    expect([...m.values()]).toEqual(expected.map((e) => e[1]));
    const seen: string[] = [];
    m.forEach((v, k, self) => {
      expect(self).toBe(m);
      seen.push(`${k}=${v}`);
    });
    expect(seen.length).toBe(n - 1);
    m.clear();
    expect(m.size).toBe(0);
    m.set('a', '1');
    expect([...m]).toEqual([['a', '1']]);
  });
});
