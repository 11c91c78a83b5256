/**
 * Symbolic dimension arithmetic for shape inference.
 *
 * A dim is a number (concrete), a string (symbolic) or null (unknown). Arithmetic on symbolic
 * dims yields integer polynomials over symbols, printed canonically ("2*N*S", "S+1"), so the
 * same computation always yields the same string and `N*S*512 / (N*S*8)` simplifies to 64 —
 * which is what resolving a PyTorch `Reshape(x, [N, S, 8, -1])` needs.
 *
 * The choice, documented: strings read from a model (dim_param) are opaque atoms and are never
 * parsed, so a name like "seq-len" stays one symbol. Only strings this algebra printed itself are
 * mapped back to their polynomial (a per-run memo). Operations that leave the polynomial ring —
 * a floor/ceil division that is not exact — produce a fresh atom such as "floor((H-1)/2)", which
 * is consistent within a run (same inputs, same string) but not simplified further.
 * Symbolic dims are assumed non-negative, as dimensions are.
 *
 * Bounds: a product of sums multiplies their term counts ((S+1)^64 has 65 terms, a product of 64
 * distinct binomials 2^64), so a polynomial with more than MAX_TERMS terms, or a monomial of
 * more than MAX_DEGREE atoms, is not built: the dim becomes unknown (null). Real models never come
 * near (a transformer's dims are products of a few symbols); a hostile one cannot make
 * inference run forever.
 */
import type { Dim } from '@onnxkit/graph';

/** monomial key (atoms sorted, joined by SEP; '' for the constant term) → coefficient. */
type Poly = Map<string, number>;

/** Joins atoms inside monomial keys; never appears in names, so atoms may contain '*'. */
const SEP = '\u0000';

const OPERATOR_CHARS = /[*+\-/() ]/;

/** The atoms this algebra makes itself (an inexact floor/ceil division), as opposed to model names. */
const FRESH_ATOM = /^(floor|ceil)\(.*\)$/;

/** Most terms a symbolic dim may have. */
export const MAX_TERMS = 256;
/** Most atoms (with multiplicity) in one monomial of a symbolic dim. */
export const MAX_DEGREE = 64;

export class DimAlgebra {
  readonly #printed = new Map<string, Poly>();
  /** `k·sym` by "k\u0001sym": the results of scaling a symbolic dim by a number. */
  readonly #scaled = new Map<string, Dim>();
  readonly #bodies = new Map<string, string>();
  /** The model names in the operands of each fresh floor/ceil atom (see namesIn). */
  readonly #freshNames = new Map<string, string[]>();
  /** Operator-laden strings read as atoms so far ("2*N" as a model wrote it, before this algebra printed it). */
  readonly #opaque = new Set<string>();
  #epoch = 0;

  /**
   * Bumped when a string read as an atom is printed, so reads as the polynomial from then on
   * ("2*N" of a model's value_info, opaque until a computation here yields 2·N): the only way the
   * same dims can mean something else later. A result computed from dims (the shape and cost
   * memos) may be given back while the epoch is the one it was computed in.
   */
  get epoch(): number {
    return this.#epoch;
  }

  /** The polynomial of a non-null dim. */
  toPoly(d: number | string): Poly {
    if (typeof d === 'number') return d === 0 ? new Map() : new Map([['', d]]);
    const known = this.#printed.get(d);
    if (known) return known;
    if (OPERATOR_CHARS.test(d)) this.#opaque.add(d);
    return new Map([[d, 1]]);
  }

  /** A dim from a polynomial: a number when constant, else its canonical string. */
  fromPoly(p: Poly): Dim {
    let constant = 0;
    let terms: [string, number][] | undefined;
    for (const [k, c] of p) {
      if (c === 0) continue;
      if (!Number.isSafeInteger(c)) return null;
      if (k === '') constant = c;
      else (terms ??= []).push([k, c]);
    }
    if (terms === undefined) return constant;
    // A lone symbol prints as itself, so model names survive untouched.
    if (terms.length === 1 && constant === 0 && terms[0]![1] === 1 && !terms[0]![0].includes(SEP)) return terms[0]![0];
    if (terms.length > 1) terms.sort((a, b) => degree(b[0]) - degree(a[0]) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    let s = '';
    for (const [k, c] of terms) {
      const body = this.#body(k);
      const mag = Math.abs(c);
      const term = mag === 1 ? body : `${mag}*${body}`;
      s += s === '' ? (c < 0 ? `-${term}` : term) : c < 0 ? `-${term}` : `+${term}`;
    }
    if (constant !== 0) s += constant < 0 ? `${constant}` : `+${constant}`;
    if (!this.#printed.has(s)) {
      this.#printed.set(s, normalise(p));
      if (this.#opaque.has(s)) this.#epoch++;
    }
    return s;
  }

  /** The printed form of a monomial key (atoms joined by '*', operator-laden atoms in parentheses), cached. */
  #body(key: string): string {
    let body = this.#bodies.get(key);
    if (body === undefined) {
      body = key
        .split(SEP)
        .map((atom) => (OPERATOR_CHARS.test(atom) && !isWrapped(atom) ? `(${atom})` : atom))
        .join('*');
      this.#bodies.set(key, body);
    }
    return body;
  }

  /**
   * The model names a symbolic dim this algebra printed is made of (first seen first): the atoms of
   * its polynomial, less the fresh floor/ceil atoms, which the expression parser reads as such.
   * Handing these to evaluateDimExpr/exprSymbols as `symbols` lets them read back any name a model
   * may declare, "seq-len" or "m*" with bytes no identifier has, not just the graph inputs' ones.
   */
  namesIn(d: string): string[] {
    const out = new Set<string>();
    for (const k of this.toPoly(d).keys()) {
      if (k === '') continue;
      for (const atom of k.split(SEP)) {
        if (!FRESH_ATOM.test(atom)) out.add(atom);
        // (a fresh atom's operands may hold names too: floor((a*ÿ-3)/2))
        else for (const n of this.#freshNames.get(atom) ?? []) out.add(n);
      }
    }
    return [...out];
  }

  /** A fresh floor/ceil atom of `a / b`, with the names its operands hold (for namesIn). */
  #fresh(fn: 'floor' | 'ceil', a: number | string, b: number | string): Dim {
    const atom = `${fn}(${operand(a)}/${operand(b)})`;
    if (!this.#freshNames.has(atom)) this.#freshNames.set(atom, [...(typeof a === 'string' ? this.namesIn(a) : []), ...(typeof b === 'string' ? this.namesIn(b) : [])]);
    return this.#atom(atom);
  }

  add(a: Dim, b: Dim): Dim {
    if (typeof a === 'number' && typeof b === 'number') return a + b;
    if (a === null || b === null) return null;
    const p = addPoly(this.toPoly(a), this.toPoly(b), 1);
    return p.size > MAX_TERMS ? null : this.fromPoly(p);
  }

  sub(a: Dim, b: Dim): Dim {
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    if (a === null || b === null) return null;
    const p = addPoly(this.toPoly(a), this.toPoly(b), -1);
    return p.size > MAX_TERMS ? null : this.fromPoly(p);
  }

  mul(a: Dim, b: Dim): Dim {
    if (typeof a === 'number' && typeof b === 'number') return a * b;
    if (a === 0 || b === 0) return 0;
    if (a === null || b === null) return null;
    if (a === 1) return b;
    if (b === 1) return a;
    // A symbolic dim times a number is the common case (N·C·H·W, MACs·N): memoised per run,
    // for strings whose meaning cannot change later (a plain atom, or one this algebra printed;
    // an operator-laden model string would turn into a polynomial once printed).
    if (typeof a === 'number' || typeof b === 'number') {
      const [k, sym] = typeof a === 'number' ? [a, b as string] : [b as number, a];
      const stable = this.#printed.has(sym) || !OPERATOR_CHARS.test(sym);
      const key = `${k}\u0001${sym}`;
      const seen = stable ? this.#scaled.get(key) : undefined;
      if (seen !== undefined) return seen;
      const out = this.#mulPolys(this.toPoly(sym), this.toPoly(k));
      if (stable) this.#scaled.set(key, out);
      return out;
    }
    return this.#mulPolys(this.toPoly(a), this.toPoly(b));
  }

  #mulPolys(pa: Poly, pb: Poly): Dim {
    if (pa.size * pb.size > MAX_TERMS || maxDegree(pa) + maxDegree(pb) > MAX_DEGREE) return null;
    return this.fromPoly(mulPoly(pa, pb));
  }

  /** Product of all dims; null if any is unknown (0 wins over unknown). */
  product(dims: readonly Dim[]): Dim {
    // Numbers first (exact integer products while safe), then the symbols, then one scaling.
    let constant = 1;
    let acc: Dim = 1;
    // Indexed loops: called for every layer, and array iterators allocate until optimised.
    for (let i = 0; i < dims.length; i++) if (dims[i] === 0) return 0;
    for (let i = 0; i < dims.length; i++) {
      const d = dims[i]!;
      if (typeof d === 'number') {
        constant *= d;
        continue;
      }
      acc = this.mul(acc, d);
      if (acc === null) return null;
    }
    if (!Number.isSafeInteger(constant)) return this.#productInOrder(dims);
    return this.mul(acc, constant);
  }

  /** The product multiplied left to right (the fallback when the constant part leaves the safe integers). */
  #productInOrder(dims: readonly Dim[]): Dim {
    let acc: Dim = 1;
    for (const d of dims) {
      acc = this.mul(acc, d);
      if (acc === null) return null;
    }
    return acc;
  }

  /** a / b when the division is exact in the polynomial ring, else null. */
  divExact(a: Dim, b: Dim): Dim {
    if (a === null || b === null || b === 0) return null;
    if (typeof a === 'number' && typeof b === 'number') return a % b === 0 ? a / b : null;
    if (a === b) return 1;
    const pa = this.toPoly(a);
    const pb = this.toPoly(b);
    const terms = [...pb].filter(([, c]) => c !== 0);
    if (terms.length !== 1) return null;
    const [[mk, mc]] = terms as [[string, number]];
    const divisor = mk === '' ? [] : mk.split(SEP);
    const out: Poly = new Map();
    for (const [k, c] of pa) {
      if (c === 0) continue;
      if (c % mc !== 0) return null;
      const rest = removeAtoms(k === '' ? [] : k.split(SEP), divisor);
      if (rest === null) return null;
      const rk = rest.join(SEP);
      out.set(rk, (out.get(rk) ?? 0) + c / mc);
    }
    return this.fromPoly(out);
  }

  /** floor(a / b) for a positive divisor b; a new atom when not exact. */
  floorDiv(a: Dim, b: Dim): Dim {
    if (a === null || b === null) return null;
    if (typeof a === 'number' && typeof b === 'number') return b === 0 ? null : Math.floor(a / b);
    const exact = this.divExact(a, b);
    if (exact !== null) return exact;
    return this.#fresh('floor', a, b);
  }

  /** ceil(a / b) for a positive divisor b; a new atom when not exact. */
  ceilDiv(a: Dim, b: Dim): Dim {
    if (a === null || b === null) return null;
    if (typeof a === 'number' && typeof b === 'number') return b === 0 ? null : Math.ceil(a / b);
    const exact = this.divExact(a, b);
    if (exact !== null) return exact;
    return this.#fresh('ceil', a, b);
  }

  /** Max/min of dims when decidable (both concrete, or equal). */
  max(a: Dim, b: Dim): Dim {
    if (typeof a === 'number' && typeof b === 'number') return Math.max(a, b);
    return a !== null && a === b ? a : null;
  }
  min(a: Dim, b: Dim): Dim {
    if (typeof a === 'number' && typeof b === 'number') return Math.min(a, b);
    return a !== null && a === b ? a : null;
  }

  #atom(s: string): Dim {
    return s;
  }
}

function degree(key: string): number {
  return key === '' ? 0 : key.split(SEP).length;
}

function maxDegree(p: Poly): number {
  let d = 0;
  for (const k of p.keys()) d = Math.max(d, degree(k));
  return d;
}

/** A dim as an operand of '/': parenthesised unless it is a number or one operator-free atom. */
function operand(d: number | string): string {
  if (typeof d === 'number') return d < 0 ? `(${d})` : String(d);
  return OPERATOR_CHARS.test(d) && !isWrapped(d) ? `(${d})` : d;
}

function isWrapped(atom: string): boolean {
  return /^(floor|ceil)?\(.*\)$/.test(atom);
}

function normalise(p: Poly): Poly {
  const out: Poly = new Map();
  for (const [k, c] of p) if (c !== 0) out.set(k, c);
  return out;
}

function addPoly(a: Poly, b: Poly, sign: 1 | -1): Poly {
  const out: Poly = new Map(a);
  for (const [k, c] of b) out.set(k, (out.get(k) ?? 0) + sign * c);
  return out;
}

function mulPoly(a: Poly, b: Poly): Poly {
  const out: Poly = new Map();
  for (const [ka, ca] of a) {
    for (const [kb, cb] of b) {
      const atoms = [...(ka === '' ? [] : ka.split(SEP)), ...(kb === '' ? [] : kb.split(SEP))].sort();
      const k = atoms.join(SEP);
      out.set(k, (out.get(k) ?? 0) + ca * cb);
    }
  }
  return out;
}

/** `atoms` minus the multiset `remove`, or null if `remove` is not contained. */
function removeAtoms(atoms: string[], remove: string[]): string[] | null {
  const rest = [...atoms];
  for (const r of remove) {
    const i = rest.indexOf(r);
    if (i < 0) return null;
    rest.splice(i, 1);
  }
  return rest;
}

/**
 * Parses an expression this algebra printed (or the human form with digit grouping, "4,089*N")
 * and evaluates it at `bindings`. Symbols are matched against `symbols` first (longest first, so
 * a model name such as "seq-len" is one atom), else as identifiers ([A-Za-z_][\w.:]*).
 * floor(a/b) and ceil(a/b) divide exactly, then round. Throws on a malformed expression or an
 * unbound symbol.
 */
export function evaluateDimExpr(expr: string, bindings: Readonly<Record<string, number>>, symbols: readonly string[] = Object.keys(bindings)): number {
  return new ExprParser(expr, symbols, (name) => {
    const v = bindings[name];
    if (v === undefined) throw new Error(`symbol '${name}' is not bound in '${expr}'`);
    return v;
  }).parse();
}

/** The symbols an expression depends on, first seen first (see evaluateDimExpr for matching). */
export function exprSymbols(expr: string, symbols: readonly string[] = []): string[] {
  const seen = new Set<string>();
  new ExprParser(expr, symbols, (name) => {
    seen.add(name);
    return 1;
  }).parse();
  return [...seen];
}

class ExprParser {
  #i = 0;
  readonly #symbols: readonly string[];
  constructor(
    readonly text: string,
    symbols: readonly string[],
    readonly lookup: (name: string) => number,
  ) {
    this.#symbols = [...symbols].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  }

  parse(): number {
    const v = this.#sum();
    this.#space();
    if (this.#i < this.text.length) this.#fail('unexpected text');
    return v;
  }

  #fail(what: string): never {
    throw new Error(`cannot parse dim expression '${this.text}': ${what} at ${this.#i}`);
  }

  #space(): void {
    while (this.text[this.#i] === ' ') this.#i++;
  }

  #peek(): string | undefined {
    this.#space();
    return this.text[this.#i];
  }

  #sum(): number {
    let v = this.#product();
    for (;;) {
      const c = this.#peek();
      if (c !== '+' && c !== '-') return v;
      this.#i++;
      const r = this.#product();
      v = c === '+' ? v + r : v - r;
    }
  }

  #product(): number {
    let v = this.#unary();
    for (;;) {
      const c = this.#peek();
      if (c !== '*' && c !== '/') return v;
      this.#i++;
      const r = this.#unary();
      v = c === '*' ? v * r : v / r;
    }
  }

  #unary(): number {
    if (this.#peek() === '-') {
      this.#i++;
      return -this.#unary();
    }
    return this.#primary();
  }

  #primary(): number {
    this.#space();
    const rest = this.text.slice(this.#i);
    for (const s of this.#symbols) {
      if (rest.startsWith(s)) {
        this.#i += s.length;
        return this.lookup(s);
      }
    }
    const fn = /^(floor|ceil)\(/.exec(rest);
    if (fn) {
      this.#i += fn[0].length;
      const v = this.#sum();
      if (this.#peek() !== ')') this.#fail("expected ')'");
      this.#i++;
      return fn[1] === 'floor' ? Math.floor(v) : Math.ceil(v);
    }
    if (rest[0] === '(') {
      this.#i++;
      const v = this.#sum();
      if (this.#peek() !== ')') this.#fail("expected ')'");
      this.#i++;
      return v;
    }
    const num = /^\d+(?:,\d{3})*(?:\.\d+)?/.exec(rest);
    if (num) {
      this.#i += num[0].length;
      return Number(num[0].replace(/,/g, ''));
    }
    const id = /^[A-Za-z_][\w.:]*/.exec(rest);
    if (id) {
      this.#i += id[0].length;
      return this.lookup(id[0]);
    }
    return this.#fail('expected a number, a symbol or (');
  }
}
