/**
 * A deliberately naive protobuf writer for building test inputs by hand, independent of the
 * codec under test: every helper returns a fresh byte array and bigints are used throughout.
 */

export type Part = Uint8Array | number[];

export function cat(...parts: Part[]): Uint8Array {
  const arrays = parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of arrays) {
    out.set(a, o);
    o += a.length;
  }
  return out;
}

/** Unsigned LEB128 of a 64-bit two's-complement value (negative numbers take 10 bytes). */
export function varint(v: number | bigint): Uint8Array {
  let u = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  while (u >= 0x80n) {
    out.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  out.push(Number(u));
  return Uint8Array.from(out);
}

export function tag(field: number, wire: number): Uint8Array {
  return varint(field * 8 + wire);
}

export function fVarint(field: number, v: number | bigint): Uint8Array {
  return cat(tag(field, 0), varint(v));
}

export function fBytes(field: number, v: Part | string): Uint8Array {
  const b = typeof v === 'string' ? new TextEncoder().encode(v) : v instanceof Uint8Array ? v : Uint8Array.from(v);
  return cat(tag(field, 2), varint(b.length), b);
}

/** A length-delimited submessage built from parts. */
export function fMsg(field: number, ...parts: Part[]): Uint8Array {
  return fBytes(field, cat(...parts));
}

export function fFloat(field: number, v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, v, true);
  return cat(tag(field, 5), b);
}

export function fDouble(field: number, v: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, v, true);
  return cat(tag(field, 1), b);
}

export function f32le(...vs: number[]): Uint8Array {
  const b = new Uint8Array(4 * vs.length);
  vs.forEach((v, i) => new DataView(b.buffer).setFloat32(4 * i, v, true));
  return b;
}

export function packedVarints(field: number, vs: (number | bigint)[]): Uint8Array {
  return fBytes(field, cat(...vs.map((v) => varint(v))));
}

// ---- ONNX messages by field number (see schema/onnx.proto) ----

export const opset = (version: number, domain = ''): Uint8Array => fMsg(8, fBytes(1, domain), fVarint(2, version));

export function tensorType(elemType: number, dims: (number | string)[] | null): Uint8Array {
  const shape = dims === null ? [] : [fMsg(2, ...dims.map((d) => fMsg(1, typeof d === 'number' ? fVarint(1, d) : fBytes(2, d))))];
  return fMsg(1, fVarint(1, elemType), ...shape);
}

export function valueInfo(field: number, name: string, elemType: number, dims: (number | string)[] | null, ...extra: Part[]): Uint8Array {
  return fMsg(field, fBytes(1, name), fMsg(2, tensorType(elemType, dims)), ...extra);
}

export function node(op: string, inputs: string[], outputs: string[], ...extra: Part[]): Uint8Array {
  return fMsg(1, ...inputs.map((i) => fBytes(1, i)), ...outputs.map((o) => fBytes(2, o)), fBytes(4, op), ...extra);
}

/** A ModelProto with ir_version, one default opset and a graph made of `graphParts`. */
export function model(graphParts: Part[], ...extra: Part[]): Uint8Array {
  return cat(fVarint(1, 8), fMsg(7, ...graphParts), opset(17), ...extra);
}

/** The typical y = Relu(x) float model. */
export function reluModel(): Uint8Array {
  return model([node('Relu', ['x'], ['y']), fBytes(2, 'g'), valueInfo(11, 'x', 1, [2, 3]), valueInfo(12, 'y', 1, [2, 3])]);
}
