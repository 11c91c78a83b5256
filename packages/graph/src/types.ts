/**
 * Value types: tensor element type plus a shape whose dims are concrete (number), symbolic
 * (string, e.g. "N") or unknown (null). A `null` shape means the rank itself is unknown;
 * `[]` is a scalar.
 */
import type { DataType} from './data-type.js';
import { dataTypeName } from './data-type.js';

export type Dim = number | string | null;
export type Shape = readonly Dim[];

export interface TensorType {
  readonly kind: 'tensor' | 'sparse_tensor';
  readonly elemType: DataType;
  readonly shape: Shape | null;
  /** Per-dimension denotations (e.g. "DATA_BATCH"), kept for lossless round trips. */
  readonly dimDenotations?: readonly (string | undefined)[];
  readonly denotation?: string;
}
export interface SequenceType {
  readonly kind: 'sequence';
  readonly elem: TypeInfo | null;
  readonly denotation?: string;
}
export interface MapType {
  readonly kind: 'map';
  readonly keyType: DataType;
  readonly value: TypeInfo | null;
  readonly denotation?: string;
}
export interface OptionalType {
  readonly kind: 'optional';
  readonly elem: TypeInfo | null;
  readonly denotation?: string;
}
export interface OpaqueType {
  readonly kind: 'opaque';
  readonly domain: string;
  readonly name: string;
  readonly denotation?: string;
}
/** A TypeProto with no value set (allowed by the proto; carries at most a denotation). */
export interface EmptyType {
  readonly kind: 'empty';
  readonly denotation?: string;
}
export type TypeInfo = TensorType | SequenceType | MapType | OptionalType | OpaqueType | EmptyType;

export function tensorType(elemType: DataType, shape: Shape | null): TensorType {
  return { kind: 'tensor', elemType, shape };
}

export function isStaticShape(shape: Shape | null | undefined): shape is readonly number[] {
  if (shape == null) return false;
  // A loop, not every(): shape inference and verify ask this for every value.
  for (let i = 0; i < shape.length; i++) if (typeof shape[i] !== 'number') return false;
  return true;
}

/** Element count of a fully static shape, else null. */
export function shapeSize(shape: Shape | null | undefined): number | null {
  if (!isStaticShape(shape)) return null;
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function formatDim(d: Dim): string {
  return d === null ? '?' : String(d);
}

export function formatShape(shape: Shape | null | undefined): string {
  if (shape == null) return '[*]';
  return `[${shape.map(formatDim).join(',')}]`;
}

export function formatType(t: TypeInfo | null | undefined): string {
  if (t == null) return '?';
  switch (t.kind) {
    case 'tensor':
      return `${dataTypeName(t.elemType)}${formatShape(t.shape)}`;
    case 'sparse_tensor':
      return `sparse<${dataTypeName(t.elemType)}${formatShape(t.shape)}>`;
    case 'sequence':
      return `seq<${formatType(t.elem)}>`;
    case 'map':
      return `map<${dataTypeName(t.keyType)},${formatType(t.value)}>`;
    case 'optional':
      return `optional<${formatType(t.elem)}>`;
    case 'opaque':
      return `opaque<${t.domain}.${t.name}>`;
    case 'empty':
      return '?';
  }
}

export function shapesEqual(a: Shape | null | undefined, b: Shape | null | undefined): boolean {
  if (a == null || b == null) return a == null && b == null;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function typesEqual(a: TypeInfo | null | undefined, b: TypeInfo | null | undefined): boolean {
  if (a == null || b == null) return a == null && b == null;
  if (a.kind !== b.kind || a.denotation !== b.denotation) return false;
  switch (a.kind) {
    case 'tensor':
    case 'sparse_tensor': {
      const bb = b as TensorType;
      if (a.elemType !== bb.elemType || !shapesEqual(a.shape, bb.shape)) return false;
      const da = a.dimDenotations ?? [];
      const db = bb.dimDenotations ?? [];
      const n = Math.max(da.length, db.length);
      for (let i = 0; i < n; i++) if ((da[i] ?? '') !== (db[i] ?? '')) return false;
      return true;
    }
    case 'sequence':
    case 'optional':
      return typesEqual(a.elem, (b as SequenceType | OptionalType).elem);
    case 'map':
      return a.keyType === (b as MapType).keyType && typesEqual(a.value, (b as MapType).value);
    case 'opaque':
      return a.domain === (b as OpaqueType).domain && a.name === (b as OpaqueType).name;
    case 'empty':
      return true;
  }
}
