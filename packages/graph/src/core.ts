/**
 * The in-memory IR: Model, Graph, Node, Value (after onnx/ir-py `_core.py`).
 *
 * Edges are objects, not ids. A Value knows its producer and the (node, inputIndex) pairs that
 * use it; a Node's inputs change only through `setInput`/`replaceInputWith`, which keep both
 * sides in sync. Omitted optional inputs are `null`; omitted optional outputs are Values named
 * ''. A Graph holds its nodes in a linked list that may be edited while it is iterated (nodes
 * inserted after the cursor are visited; removed nodes are not). See INVARIANTS.md.
 */
import { Attribute, AttributeType, type AttributeInput, type SparseTensor } from './attribute.js';
import type { DataType } from './data-type.js';
import { GraphError } from './errors.js';
import { Tensor } from './tensor.js';
import type { Shape, TensorType, TypeInfo } from './types.js';

export interface Use {
  readonly node: Node;
  readonly index: number;
}

const EMPTY_USES: readonly Use[] = Object.freeze([]);

/**
 * A value's single use: the reading node alone when it has at most NODE_ONLY_INPUTS inputs (its
 * slot is found among them when asked), else the Use — so finding the slot of a single use
 * never costs more than NODE_ONLY_INPUTS reads, however wide the reader (a Concat of 80k inputs
 * would make every use lookup, and verify and decode with them, quadratic).
 */
type SingleUse = Node | Use;

/** Readers with at most this many inputs are held as the node alone by a value they are the one use of. */
const NODE_ONLY_INPUTS = 16;

/** Whether a value's small-mode uses are a list (else one use, or none: EMPTY_USES is a list). */
function isUseList(u: SingleUse | readonly Use[]): u is readonly Use[] {
  return Array.isArray(u);
}

/** The node of a single use. */
function userOf(u: SingleUse): Node {
  return u instanceof Node ? u : u.node;
}

/** The input index of a single use of `v`, other than `skip` (see slotOf). */
function slotOfUse(u: SingleUse, v: Value, skip: number): number {
  return u instanceof Node ? slotOf(u, v, skip) : u.index;
}

/** A single use of `v` as a Use (made for a node held alone, its slot other than `skip`). */
function asUse(u: SingleUse, v: Value, skip: number): Use {
  return u instanceof Node ? { node: u, index: slotOf(u, v, skip) } : u;
}

/** What a value holds for its one use, `node` reading it at `index`. */
function singleUse(node: Node, index: number): SingleUse {
  return node.inputs.length <= NODE_ONLY_INPUTS ? node : { node, index };
}

/**
 * The input slot at which `node` (at most NODE_ONLY_INPUTS inputs) reads `v`, other than `skip`
 * (-1 when none): the index of a use a value keeps as its node alone. Outside a change a single
 * use is the node's only slot holding `v`; while a node adds uses in slot order, the use already
 * held is the first.
 */
function slotOf(node: Node, v: Value, skip: number): number {
  const inputs = node.inputs;
  for (let k = 0; k < inputs.length; k++) if (inputs[k] === v && k !== skip) return k;
  return -1;
}

export interface ValueInit {
  name?: string;
  type?: TypeInfo | null;
  docString?: string;
  metadataProps?: Map<string, string>;
  constValue?: Tensor | null;
}

/** Above this many uses a value switches from a copy-on-write array to indexed sets. */
const SMALL_USES = 8;

/** `_outputOf` of a value that is no graph output (most of them): shared, never mutated. */
const NO_GRAPHS: readonly Graph[] = Object.freeze([]);

/** `list` without its first occurrence of `g`. */
function withoutOne(list: readonly Graph[], g: Graph): readonly Graph[] {
  const at = list.indexOf(g);
  if (at < 0) return list;
  if (list.length === 1) return NO_GRAPHS;
  (list as Graph[]).splice(at, 1); // a value's own array (only NO_GRAPHS is shared)
  return list;
}

/** `list` with `g` added: a value's own array grows in place (a value listed as an output
 * 20,000 times must not copy its list 20,000 times); the shared empty one is never written. */
function withOne(list: readonly Graph[], g: Graph): readonly Graph[] {
  if (list === NO_GRAPHS) return [g];
  (list as Graph[]).push(g);
  return list;
}

/**
 * A node's uses of one value in the large-mode index: the Use itself (a node reads a value at one
 * input, seldom at more), an array of a few (a Map per node cost ~370 bytes for each of the 20k
 * readers of a shared constant), or, past SLOT_USES, a map by input index — a Concat or Sum
 * reading one value at 50,000 inputs (what CSE leaves of 50,000 equal inputs) made each lookup
 * and removal a scan of its array: O(k²) to check or detach that node, O(k³) to check it once per use.
 */
type UseEntry = Use | Use[] | Map<number, Use>;
/** Uses of one value by one node past which they are kept by input index (see UseEntry). */
const SLOT_USES = 8;

/**
 * Files `use` under its node in the large-mode index. Returns true when the node already had a
 * use filed (it then reads the value twice).
 */
function indexUse(x: ValueMore, use: Use): boolean {
  const index = x.useIndex!;
  const prev = index.get(use.node);
  if (prev === undefined) {
    index.set(use.node, use);
    return false;
  }
  fileAnother(index, prev, use);
  return true;
}

/** Files `use` beside `prev`, its node's entry (see UseEntry). */
function fileAnother(index: Map<Node, UseEntry>, prev: UseEntry, use: Use): void {
  if (prev instanceof Map) prev.set(use.index, use);
  else if (!Array.isArray(prev)) index.set(use.node, [prev, use]);
  else if (prev.length < SLOT_USES) prev.push(use);
  else {
    const bySlot = new Map<number, Use>();
    for (let k = 0; k < prev.length; k++) bySlot.set(prev[k]!.index, prev[k]!);
    bySlot.set(use.index, use);
    index.set(use.node, bySlot);
  }
}

/** The Use of (node, index) in the large-mode index, or undefined. */
function indexedUse(x: ValueMore, node: Node, index: number): Use | undefined {
  const e = x.useIndex!.get(node);
  if (e === undefined) return undefined;
  if (!Array.isArray(e)) {
    if (e instanceof Map) return e.get(index);
    return e.index === index ? e : undefined;
  }
  // (a loop, not `find` with a closure: the closure's context would be allocated at every call)
  for (let k = 0; k < e.length; k++) if (e[k]!.index === index) return e[k];
  return undefined;
}

/** Finds and drops the Use of (node, index) from the large-mode index (one lookup), or undefined. */
function takeIndexedUse(x: ValueMore, node: Node, index: number): Use | undefined {
  const map = x.useIndex!;
  const e = map.get(node);
  if (e === undefined) return undefined;
  if (!Array.isArray(e)) {
    if (e instanceof Map) {
      const use = e.get(index);
      if (use === undefined) return undefined;
      e.delete(index);
      // (by slot down to two uses, then the one left alone)
      if (e.size === 1) for (const u of e.values()) map.set(node, u);
      return use;
    }
    if (e.index !== index) return undefined;
    map.delete(node);
    return e;
  }
  const list = e;
  let at = 0;
  while (at < list.length && list[at]!.index !== index) at++; // (no closure: see indexedUse)
  if (at === list.length) return undefined;
  const use = list[at]!;
  list.splice(at, 1);
  if (list.length === 1) map.set(node, list[0]!);
  return use;
}

/**
 * A node's attributes, read as a ReadonlyMap (insertion order, keyed by name) but stored as one
 * exactly sized array: nodes carry a handful, found by a short scan, and a Map would cost about
 * 200 bytes more per node. Changes replace the array (copy on write), so an iteration in progress
 * goes on over the attributes it started with.
 */
class AttributeMap implements ReadonlyMap<string, Attribute> {
  /** @internal */
  _items: readonly Attribute[];

  constructor(items: readonly Attribute[]) {
    this._items = items;
  }

  get size(): number {
    return this._items.length;
  }
  get(name: string): Attribute | undefined {
    const items = this._items;
    for (let i = 0; i < items.length; i++) if (items[i]!.name === name) return items[i];
    return undefined;
  }
  has(name: string): boolean {
    return this.get(name) !== undefined;
  }
  forEach(fn: (value: Attribute, key: string, map: ReadonlyMap<string, Attribute>) => void, thisArg?: unknown): void {
    for (const a of this._items) fn.call(thisArg, a, a.name, this);
  }
  values(): ReturnType<ReadonlyMap<string, Attribute>['values']> {
    return this._items.values();
  }
  keys(): ReturnType<ReadonlyMap<string, Attribute>['keys']> {
    return this._items.map((a) => a.name).values();
  }
  entries(): ReturnType<ReadonlyMap<string, Attribute>['entries']> {
    return this._items.map((a): [string, Attribute] => [a.name, a]).values();
  }
  [Symbol.iterator](): ReturnType<ReadonlyMap<string, Attribute>['entries']> {
    return this.entries();
  }
  get [Symbol.toStringTag](): string {
    return 'AttributeMap';
  }

  /** @internal `attr` replaces the attribute of its name in place, or is appended. */
  _set(attr: Attribute): void {
    const items = this._items;
    const n = items.length;
    const next = new Array<Attribute>(n);
    let at = n;
    for (let i = 0; i < n; i++) {
      next[i] = items[i]!;
      if (items[i]!.name === attr.name) at = i;
    }
    if (at === n) next.push(attr);
    else next[at] = attr;
    this._items = next;
  }
  /** @internal */
  _delete(name: string): boolean {
    const at = this._items.findIndex((a) => a.name === name);
    if (at < 0) return false;
    this._items = this._items.filter((_, i) => i !== at);
    return true;
  }
}

/**
 * The metadata_props a node or value gets on first access: a Map<string, string> stored as one
 * exactly sized array of alternating keys and values. Rewrites stamp every node they make
 * (`onnxkit.rule`), and a one-entry Map cost ≈ 550 bytes (its hash table starts with room for
 * more): 11 MB of the ≈ 40 MB left live after the pipeline on the 100k-node chain (20k Gemm
 * nodes). This is ≈ 100 bytes. Lookups scan the array (nodes carry a handful of entries; past
 * MAX_SCANNED_ENTRIES a real Map holds them). It has a Map's methods, insertion order and `set`
 * of a present key keeps its place, but it is not a Map object: `instanceof Map`,
 * `util.types.isMap` and `structuredClone` see a plain object (copy it with `new Map(m)` for
 * those), and an iteration goes on over the entries it started with when the map changes under
 * it (up to MAX_SCANNED_ENTRIES; a Map's iteration sees the change).
 */
class MetadataMap implements Map<string, string> {
  #kv: readonly string[] = NO_STRINGS;
  /**
   * Past MAX_SCANNED_ENTRIES entries, a real Map holds them (and `#kv` is unused): with a scan and
   * a copy per `set`, 80,000 entries set one by one took 33 s of CPU.
   */
  #big: Map<string, string> | null = null;

  get size(): number {
    return this.#big !== null ? this.#big.size : this.#kv.length >> 1;
  }
  #find(key: string): number {
    const kv = this.#kv;
    for (let i = 0; i < kv.length; i += 2) if (kv[i] === key) return i;
    return -1;
  }
  get(key: string): string | undefined {
    if (this.#big !== null) return this.#big.get(key);
    const at = this.#find(key);
    return at < 0 ? undefined : this.#kv[at + 1];
  }
  has(key: string): boolean {
    if (this.#big !== null) return this.#big.has(key);
    return this.#find(key) >= 0;
  }
  set(key: string, value: string): this {
    if (this.#big !== null) {
      this.#big.set(key, value);
      return this;
    }
    const kv = this.#kv;
    const at = this.#find(key);
    const n = kv.length;
    if (at < 0 && n >> 1 >= MAX_SCANNED_ENTRIES) {
      const big = new Map<string, string>();
      for (let i = 0; i < n; i += 2) big.set(kv[i]!, kv[i + 1]!);
      big.set(key, value);
      this.#big = big;
      this.#kv = NO_STRINGS;
      return this;
    }
    // Exactly sized (a pushed-to [] reserves room for 17 elements).
    const next = new Array<string>(at < 0 ? n + 2 : n);
    for (let i = 0; i < n; i++) next[i] = kv[i]!;
    if (at < 0) {
      next[n] = key;
      next[n + 1] = value;
    } else next[at + 1] = value;
    this.#kv = next;
    return this;
  }
  delete(key: string): boolean {
    if (this.#big !== null) return this.#big.delete(key);
    const at = this.#find(key);
    if (at < 0) return false;
    this.#kv = this.#kv.filter((_, i) => i !== at && i !== at + 1);
    return true;
  }
  clear(): void {
    this.#kv = NO_STRINGS;
    this.#big = null;
  }
  forEach(fn: (value: string, key: string, map: Map<string, string>) => void, thisArg?: unknown): void {
    if (this.#big !== null) {
      this.#big.forEach((v, k) => fn.call(thisArg, v, k, this));
      return;
    }
    const kv = this.#kv;
    for (let i = 0; i < kv.length; i += 2) fn.call(thisArg, kv[i + 1]!, kv[i]!, this);
  }
  entries(): ReturnType<Map<string, string>['entries']> {
    if (this.#big !== null) return this.#big.entries();
    const kv = this.#kv;
    const out = new Array<[string, string]>(kv.length >> 1);
    for (let i = 0; i < kv.length; i += 2) out[i >> 1] = [kv[i]!, kv[i + 1]!];
    return out.values();
  }
  keys(): ReturnType<Map<string, string>['keys']> {
    if (this.#big !== null) return this.#big.keys();
    return this.#kv.filter((_, i) => (i & 1) === 0).values();
  }
  values(): ReturnType<Map<string, string>['values']> {
    if (this.#big !== null) return this.#big.values();
    return this.#kv.filter((_, i) => (i & 1) === 1).values();
  }
  [Symbol.iterator](): ReturnType<Map<string, string>['entries']> {
    return this.entries();
  }
  get [Symbol.toStringTag](): string {
    return 'Map';
  }
}
/** Entries a MetadataMap keeps in its scanned array before it moves them into a Map. */
const MAX_SCANNED_ENTRIES = 16;
const NO_STRINGS: readonly string[] = Object.freeze([]);

/** Shared by every node without attributes; never mutated (setAttribute allocates a map first). */
const NO_ATTRIBUTE_ITEMS: readonly Attribute[] = Object.freeze([]) as readonly Attribute[];
const NO_ATTRIBUTES: ReadonlyMap<string, Attribute> = new AttributeMap(NO_ATTRIBUTE_ITEMS);

/**
 * What most values never have, kept out of line so a Value is seven fields (name, type, producer,
 * uses, these and shape inference's two). An initializer needs two of them (its constant and its
 * graph), so those come first, in a small object of their own (48 bytes instead of 112 per
 * initializer: on a 1M-node chain with a weight and a bias per 5-node block, peak RSS of
 * `optimize -q` 1,051–1,081 → 1,035–1,037 B/node, two runs each; CPU of the 100k chain's
 * `optimize --json` unchanged, 1.88 / 1.81 s in 9 alternating pairs).
 * Allocated on the first write of any of them.
 */
class ValueExtras {
  constValue: Tensor | null = null;
  initializerOf: Graph | null = null;
  m: ValueMore | null = null;
}
/**
 * The rest, allocated on the first write of any: doc string, metadata, unrecognised fields,
 * sparse payload, graph-input and graph-output memberships and, past SMALL_USES, the indexed use set.
 */
class ValueMore {
  docString = '';
  meta: Map<string, string> | undefined = undefined;
  unknownFields: Uint8Array[] | undefined = undefined;
  sparseValue: SparseTensor | null = null;
  inputOf: Graph | null = null;
  /** Graphs whose output lists hold the value, one entry per slot; NO_GRAPHS is shared, never written. */
  outputOf: readonly Graph[] = NO_GRAPHS;
  /**
   * Large mode (past SMALL_USES; `useIndex` set): node → its Use (or Uses, see indexUse), and the
   * array handed out. While no node reads the value twice, the index's order is the uses' order
   * (a node's one use is filed when it is added, and leaves with it) and no set is kept; the
   * first node to read it twice makes `uses`, the ordered set, for good.
   */
  uses: Set<Use> | null = null;
  useIndex: Map<Node, UseEntry> | null = null;
  usesArray: Use[] | null = null;
}

export class Value {
  name: string;
  /** Element type and shape (or sequence/map/optional type); null when unknown. */
  type: TypeInfo | null;
  #producer: Node | null = null;
  /**
   * Uses in insertion order. Most values have a handful: they live in a small array replaced on
   * every change (so an array handed out by `uses` never changes under its reader). A value with
   * exactly one use (most of them) holds it alone, no array around it, and when the reader has
   * at most NODE_ONLY_INPUTS inputs just that node, no Use object either (a decoded graph built
   * a 40-byte Use per value): the input index is the one slot of that node holding this value
   * (one use means one slot), found when asked; `uses` builds a fresh one-element list on each
   * read. Past SMALL_USES the value switches to a Set plus a node → Use map (in the extras): O(1)
   * add, remove and lookup however many uses (a weight shared by 100k nodes).
   */
  #small: SingleUse | readonly Use[] = EMPTY_USES;
  #x: ValueExtras | null = null;
  /**
   * Opaque to the graph: what one shape inference (packages/passes, shape-inference.ts) knows
   * about this value, valid only while `#factsOwner` is that inference's id (0: none). Held here,
   * not in a Map<Value, …> of the inference: on a 100k-node graph the map was ≈7 MB of hash table
   * and a cache miss or two per lookup, several lookups per node and per patch. Private (read and
   * written through the static `_facts…` functions), so a value's own enumerable fields, which
   * deep comparisons read, are what they were.
   */
  #facts: unknown = undefined;
  #factsOwner = 0;
  /** @internal The facts inference `owner` left on `v`, or undefined (see `#facts`). */
  static _factsOf(v: Value, owner: number): unknown {
    return v.#factsOwner === owner ? v.#facts : undefined;
  }
  /** @internal Whether inference `owner` left facts on `v`. */
  static _hasFacts(v: Value, owner: number): boolean {
    return v.#factsOwner === owner;
  }
  /** @internal Leaves `f` on `v` for inference `owner` (undefined and 0 forget them). */
  static _setFacts(v: Value, owner: number, f: unknown): void {
    v.#facts = f;
    v.#factsOwner = owner;
  }

  constructor(init?: ValueInit) {
    if (init === undefined) {
      this.name = '';
      this.type = null;
      return;
    }
    this.name = init.name ?? '';
    this.type = init.type ?? null;
    if (init.docString) Value.#more(this).docString = init.docString;
    if (init.metadataProps !== undefined) Value.#more(this).meta = init.metadataProps;
    if (init.constValue) Value.#extras(this).constValue = init.constValue;
  }

  /** @internal A value named `name` with nothing else set (the decoder's and builders' hot path). */
  static _named(name: string): Value {
    const v = new Value();
    v.name = name;
    return v;
  }

  // A static method, not an instance one: a class with private instance methods stamps a brand
  // slot on every instance (8 bytes per value).
  static #extras(v: Value): ValueExtras {
    return (v.#x ??= new ValueExtras());
  }
  static #more(v: Value): ValueMore {
    const x = Value.#extras(v);
    return (x.m ??= new ValueMore());
  }
  static #mOf(v: Value): ValueMore | null {
    const x = v.#x;
    return x === null ? null : x.m;
  }

  get docString(): string {
    const m = Value.#mOf(this);
    return m === null ? '' : m.docString;
  }
  set docString(s: string) {
    if (s !== '' || Value.#mOf(this) !== null) Value.#more(this).docString = s;
  }
  /** ValueInfoProto fields the codec did not recognise, re-emitted verbatim. */
  get unknownFields(): Uint8Array[] | undefined {
    return Value.#mOf(this)?.unknownFields;
  }
  set unknownFields(u: Uint8Array[] | undefined) {
    if (u !== undefined || Value.#mOf(this) !== null) Value.#more(this).unknownFields = u;
  }
  /** Sparse initializer payload (GraphProto.sparse_initializer). */
  get sparseValue(): SparseTensor | null {
    const m = Value.#mOf(this);
    return m === null ? null : m.sparseValue;
  }
  set sparseValue(s: SparseTensor | null) {
    if (s !== null || Value.#mOf(this) !== null) Value.#more(this).sparseValue = s;
  }
  /** @internal graph whose input list holds this value */
  get _inputOf(): Graph | null {
    const m = Value.#mOf(this);
    return m === null ? null : m.inputOf;
  }
  set _inputOf(g: Graph | null) {
    if (g !== null || Value.#mOf(this) !== null) Value.#more(this).inputOf = g;
  }
  /** @internal graph whose initializer map holds this value */
  get _initializerOf(): Graph | null {
    return this.#x === null ? null : this.#x.initializerOf;
  }
  set _initializerOf(g: Graph | null) {
    if (g !== null || this.#x !== null) Value.#extras(this).initializerOf = g;
  }
  /** @internal graphs whose output lists hold this value (one entry per slot) */
  get _outputOf(): readonly Graph[] {
    const m = Value.#mOf(this);
    return m === null ? NO_GRAPHS : m.outputOf;
  }
  set _outputOf(list: readonly Graph[]) {
    if (list !== NO_GRAPHS || Value.#mOf(this) !== null) Value.#more(this).outputOf = list;
  }

  /** ValueInfoProto.metadata_props (allocated on first access). */
  get metadataProps(): Map<string, string> {
    return (Value.#more(this).meta ??= new MetadataMap());
  }
  set metadataProps(m: Map<string, string>) {
    Value.#more(this).meta = m;
  }
  /** Whether any metadata is set, without allocating the map. */
  get hasMetadata(): boolean {
    const m = Value.#mOf(this)?.meta;
    return m !== undefined && m.size > 0;
  }

  /** The node that produces this value, or null for graph inputs and initializers. */
  get producer(): Node | null {
    return this.#producer;
  }
  /** Output index in the producer, or -1 (looked up: a producer has a handful of outputs, and a field would cost every value 8 bytes). */
  get index(): number {
    const p = this.#producer;
    return p === null ? -1 : p.outputs.indexOf(this);
  }
  /** @internal */
  _setProducer(node: Node | null): void {
    this.#producer = node;
  }

  /** Consumers as (node, input index) pairs, in the order they were attached. */
  get uses(): readonly Use[] {
    const x = Value.#mOf(this);
    if (x === null || x.useIndex === null) {
      const small = this.#small;
      if (isUseList(small)) return small;
      // A fresh list on each read, not kept: analyses and rules read the uses of every value,
      // and keeping the list gave each single-use value two more objects (96 bytes) for the rest
      // of the run, each copied by the young-generation GC on its way to the old one.
      return [asUse(small, this, -1)];
    }
    // (without the set, every entry of the index is a single Use: see ValueMore.uses)
    return (x.usesArray ??= x.uses !== null ? [...x.uses] : ([...x.useIndex.values()] as Use[]));
  }
  /** Number of uses, O(1) (`uses.length` copies the use set when it changed since the last read). */
  get useCount(): number {
    const x = Value.#mOf(this);
    if (x === null || x.useIndex === null) {
      const small = this.#small;
      return isUseList(small) ? small.length : 1;
    }
    return x.uses !== null ? x.uses.size : x.useIndex.size;
  }
  /**
   * @internal Use `i` (0 ≤ i < useCount) in the order of `uses`, without building the array a
   * single use would need (verify walks every value this way; for a single use held as its node
   * the Use is made here, and dies young).
   */
  _useAt(i: number): Use {
    const x = Value.#mOf(this);
    if (x === null || x.useIndex === null) {
      const small = this.#small;
      return isUseList(small) ? small[i]! : asUse(small, this, -1);
    }
    return this.uses[i]!;
  }
  /**
   * @internal The node of use `i` (0 ≤ i < useCount), for readers that need only the node: a
   * single use costs neither a Use object nor the search for its slot.
   */
  _userAt(i: number): Node {
    const x = Value.#mOf(this);
    if (x === null || x.useIndex === null) {
      const small = this.#small;
      return isUseList(small) ? small[i]!.node : userOf(small);
    }
    return this.uses[i]!.node;
  }
  /**
   * @internal The input index of use `i` (0 ≤ i < useCount), as `_useAt(i).index`, with no Use
   * made for a single use held as its node (verify and the closing check read every use so).
   */
  _useIndexAt(i: number): number {
    const x = Value.#mOf(this);
    if (x === null || x.useIndex === null) {
      const small = this.#small;
      return isUseList(small) ? small[i]!.index : slotOfUse(small, this, -1);
    }
    return this.uses[i]!.index;
  }
  /**
   * @internal Whether each use is by a node of `g` that reads this value at the use's input: what
   * a loop over `_userAt(i)` and `_useIndexAt(i)` finds, in one call that reads the use storage
   * once (the closing check asks it of every value a patch touched, in code run once).
   */
  _usesIn(g: Graph): boolean {
    const x = Value.#mOf(this);
    let list: readonly Use[];
    if (x === null || x.useIndex === null) {
      const small = this.#small;
      if (!isUseList(small)) {
        // (held as the node alone: the use's slot is the node's slot holding this value, if any)
        if (small instanceof Node) return small._graph === g && slotOf(small, this, -1) >= 0;
        return small.node._graph === g && small.node.inputs[small.index] === this;
      }
      list = small;
    } else list = this.uses;
    for (let k = 0; k < list.length; k++) {
      const u = list[k]!;
      if (u.node._graph !== g || u.node.inputs[u.index] !== this) return false;
    }
    return true;
  }
  /**
   * @internal Whether some use of this value is by `node`, at any input: O(1) for a value of more
   * than SMALL_USES uses (its index is keyed by node), a scan of at most SMALL_USES otherwise. A
   * change's local check asks it of the nodes the change removed (which no longer list the inputs
   * they read), instead of walking every use of a value read by thousands of other nodes.
   */
  _usedBy(node: Node): boolean {
    const x = Value.#mOf(this);
    if (x === null || x.useIndex === null) {
      const small = this.#small;
      if (!isUseList(small)) return small instanceof Node ? small === node : small.node === node;
      for (let k = 0; k < small.length; k++) if (small[k]!.node === node) return true;
      return false;
    }
    return x.useIndex.has(node);
  }
  /** Whether `node` reads this value at input `index` (O(1)). */
  hasUse(node: Node, index: number): boolean {
    const x = Value.#mOf(this);
    if (x === null || x.useIndex === null) {
      const small = this.#small;
      // (held as the node alone, the use is that node's only slot reading this value: a second
      // slot would be a use the value does not record)
      if (!isUseList(small)) return small instanceof Node ? small === node && node.inputs[index] === this && slotOf(node, this, index) === -1 : small.node === node && small.index === index;
      // (a loop, not `some` with a closure: a closure capturing the parameters makes V8 allocate
      // a context at every call, whichever branch runs — verify and the closing check ask for
      // every input of the model)
      for (let k = 0; k < small.length; k++) {
        const u = small[k]!;
        if (u.node === node && u.index === index) return true;
      }
      return false;
    }
    return indexedUse(x, node, index) !== undefined;
  }
  /** @internal */
  _addUse(node: Node, index: number): void {
    const x = Value.#mOf(this);
    if (x === null || x.useIndex === null) {
      const one = this.#small;
      if (one === EMPTY_USES) {
        this.#small = singleUse(node, index);
        return;
      }
      // (the slot `node` now reads this value at is skipped when looking up the held use's slot:
      // a node may read it twice, and its inputs already hold the new one)
      const small = isUseList(one) ? one : [asUse(one, this, one === node ? index : -1)];
      const use: Use = { node, index };
      const n = small.length;
      if (n < SMALL_USES) {
        // Exactly sized: a spread reserves room for 17 uses, and most values have one or two.
        const next = new Array<Use>(n + 1);
        for (let i = 0; i < n; i++) next[i] = small[i]!;
        next[n] = use;
        this.#small = next;
        return;
      }
      const big = Value.#more(this);
      big.useIndex = new Map();
      // The ordered set only when some node reads the value twice (see ValueMore.uses).
      let twice = false;
      for (const u of small) if (indexUse(big, u)) twice = true;
      this.#small = EMPTY_USES;
      if (indexUse(big, use)) twice = true;
      if (twice) {
        big.uses = new Set(small);
        big.uses.add(use);
      }
      big.usesArray = null;
      return;
    }
    const use: Use = { node, index };
    // (indexUse, with the set made when a node files a second use: it takes the uses in the
    // index's order first, every entry a single Use until then)
    const map = x.useIndex;
    const prev = map.get(node);
    if (prev === undefined) map.set(node, use);
    else {
      x.uses ??= new Set(map.values() as IterableIterator<Use>);
      fileAnother(map, prev, use);
    }
    if (x.uses !== null) x.uses.add(use);
    x.usesArray = null;
  }
  /** @internal */
  _removeUse(node: Node, index: number): void {
    const x = Value.#mOf(this);
    if (x === null || x.useIndex === null) {
      const one = this.#small;
      if (!isUseList(one)) {
        // The single-use case (most values): no array around it, no search.
        if (one instanceof Node ? one !== node || node.inputs[index] !== this : one.node !== node || one.index !== index) throw new GraphError(`internal: value '${this.name}' has no use (${node.describe()}, ${index})`);
        this.#small = EMPTY_USES;
        return;
      }
      const n = one.length;
      let at = 0;
      while (at < n && (one[at]!.node !== node || one[at]!.index !== index)) at++;
      if (at === n) throw new GraphError(`internal: value '${this.name}' has no use (${node.describe()}, ${index})`);
      if (n === 1) {
        this.#small = EMPTY_USES;
        return;
      }
      if (n === 2) {
        // Back to the single-use form, with the Use that stays (it knows its slot).
        this.#small = one[1 - at]!;
        return;
      }
      // Copy on write, exactly sized (an array handed out by `uses` never changes under its reader).
      const next = new Array<Use>(n - 1);
      for (let i = 0, j = 0; i < n; i++) if (i !== at) next[j++] = one[i]!;
      this.#small = next;
      return;
    }
    const use = takeIndexedUse(x, node, index);
    if (use === undefined) throw new GraphError(`internal: value '${this.name}' has no use (${node.describe()}, ${index})`);
    if (x.uses !== null) x.uses.delete(use);
    x.usesArray = null;
  }

  /** The constant tensor of an initializer (or a value a pass has bound to a constant). */
  get constValue(): Tensor | null {
    return this.#x === null ? null : this.#x.constValue;
  }
  set constValue(t: Tensor | null) {
    if (t !== null || this.#x !== null) Value.#extras(this).constValue = t;
  }

  get isGraphInput(): boolean {
    return this._inputOf !== null;
  }
  get isInitializer(): boolean {
    return this._initializerOf !== null;
  }
  get isGraphOutput(): boolean {
    return this._outputOf.length > 0;
  }

  /** The graph that defines this value (producer's graph, or input/initializer owner). */
  get graph(): Graph | null {
    if (this.#producer !== null) return this.#producer.graph;
    const x = this.#x;
    return x === null ? null : (x.m?.inputOf ?? x.initializerOf);
  }

  get dtype(): DataType | undefined {
    const t = this.type;
    return t && (t.kind === 'tensor' || t.kind === 'sparse_tensor') ? t.elemType : (this.constValue?.dtype ?? undefined);
  }
  /** Tensor shape if known; null when the rank is unknown. */
  get shape(): Shape | null {
    const t = this.type;
    if (t && (t.kind === 'tensor' || t.kind === 'sparse_tensor')) return t.shape;
    const c = this.constValue;
    return c ? c.dims : null;
  }
  get tensorType(): TensorType | null {
    const t = this.type;
    return t && (t.kind === 'tensor' || t.kind === 'sparse_tensor') ? t : null;
  }

  /**
   * Points every use of this value at `other`. Graph outputs are retargeted only with
   * `{ outputs: true }`; otherwise a graph output raises and nothing changes.
   */
  replaceAllUsesWith(other: Value, options: { outputs?: boolean } = {}): void {
    if (other === this) return;
    if (this.isGraphOutput && !options.outputs) {
      throw new GraphError(`value '${this.name}' is a graph output; pass { outputs: true } to retarget it too`);
    }
    if (this.#x === null && !isUseList(this.#small)) {
      // One use (most values): retarget it without building the `uses` array around it.
      const one = this.#small;
      userOf(one).setInput(slotOfUse(one, this, -1), other);
    } else {
      for (const use of this.uses) use.node.setInput(use.index, other);
    }
    if (options.outputs && this._outputOf.length > 0) {
      for (const g of [...this._outputOf]) {
        g.outputs.forEach((v, i) => {
          if (v === this) g.setOutput(i, other);
        });
      }
    }
  }

  toString(): string {
    return `%${this.name || '<unnamed>'}`;
  }
}

export interface NodeInit {
  domain?: string;
  name?: string;
  overload?: string;
  docString?: string;
  metadataProps?: Map<string, string>;
  attributes?: Iterable<Attribute>;
  /** Output names, or Values to adopt (they must not have a producer). */
  outputs?: readonly (string | Value)[];
}

/** Marks the constructor call of `Node._decoded`, which fills in the outputs itself. */
const DECODED: NodeInit = Object.freeze({});
const NO_OUTPUTS: Value[] = [];

/**
 * Mutation-safe list cell. A cell is live while its node's `_box` is the cell; a removed cell
 * keeps its `_cellNext`, so iterators parked on it go on. A node is its own cell (no allocation:
 * a graph has hundreds of thousands of nodes), except when it is linked again while an iterator
 * runs (one may be parked on its old cell): then it gets a fresh `Cell`.
 */
interface Box {
  readonly _cellNode: Node;
  _cellPrev: Box | null | undefined;
  _cellNext: Box | null;
}

/**
 * Node-list iterators currently started and not finished (over all graphs). While none is,
 * no one can be parked on a dead cell, so a relinked node may be its own cell again.
 */
let liveIterators = 0;

/**
 * The node-list iterator (what a generator did, at a fraction of the cost per step: every pass
 * walks the list). It counts as live from its first `next()` until it is exhausted or `return()`
 * ends it (a `for…of` left by break or throw), as the generator's try/finally did.
 */
class NodeIterator implements IterableIterator<Node> {
  /** The cell last yielded; the list's head is read at the first `next()`, as the generator did. */
  #cell: Box | null = null;
  /** 0 before the first `next()`, 1 while live, 2 when finished. */
  #state = 0;
  constructor(
    private readonly graph: Graph,
    private readonly headOf: (g: Graph) => Box | null,
  ) {}
  next(): IteratorResult<Node> {
    let b: Box | null;
    if (this.#state === 1) b = this.#cell!._cellNext;
    else if (this.#state === 0) {
      this.#state = 1;
      liveIterators++;
      b = this.headOf(this.graph);
    } else return { value: undefined, done: true };
    while (b !== null) {
      const n = b._cellNode;
      if (n._box === b) {
        this.#cell = b;
        return { value: n, done: false };
      }
      b = b._cellNext;
    }
    this.#cell = null;
    this.#state = 2;
    liveIterators--;
    return { value: undefined, done: true };
  }
  return(): IteratorResult<Node> {
    if (this.#state === 1) liveIterators--;
    this.#state = 2;
    this.#cell = null;
    return { value: undefined, done: true };
  }
  [Symbol.iterator](): IterableIterator<Node> {
    return this;
  }
}

class Cell implements Box {
  _cellPrev: Box | null = null;
  _cellNext: Box | null = null;
  constructor(readonly _cellNode: Node) {}
}

/** Node fields most nodes leave empty, kept out of line (see `Node.#x`). */
interface NodeExtras {
  domain: string;
  overload: string;
  docString: string;
  meta: Map<string, string> | undefined;
  unknownFields: Uint8Array[] | undefined;
}

/** The inputs of a node that has none: shared, never written (setInput allocates first). */
const NO_VALUES: (Value | null)[] = [];
Object.freeze(NO_VALUES);

export class Node {
  opType: string;
  name: string;
  /** Null until the first attribute is set (most activation nodes have none). */
  #attributes: AttributeMap | null = null;
  #inputs: (Value | null)[];
  #outputs: Value[];
  /** overload, doc string, metadata and unknown fields: null while all are empty. */
  #x: NodeExtras | null = null;
  /** @internal */
  _graph: Graph | null = null;
  /** @internal the node's live list cell (itself, or a Cell once it was relinked), or null */
  _box: Box | null = null;
  /** @internal list links while the node is its own cell; undefined until first linked */
  _cellPrev: Box | null | undefined = undefined;
  /** @internal */
  _cellNext: Box | null = null;

  constructor(opType: string, inputs: readonly (Value | null)[] = NO_VALUES, init?: NodeInit) {
    this.opType = opType;
    if (init === DECODED) {
      // Node._decoded sets the rest (no property reads on an init object shaped unlike the others).
      this.name = '';
      this.#inputs = NO_VALUES;
      this.#outputs = NO_OUTPUTS;
      return;
    }
    if (init?.domain) this.domain = init.domain;
    this.name = init?.name ?? '';
    if (init !== undefined) {
      if (init.overload) this.overload = init.overload;
      if (init.docString) this.docString = init.docString;
      if (init.metadataProps !== undefined) Node.#extras(this).meta = init.metadataProps;
      if (init.attributes !== undefined) for (const a of init.attributes) this.setAttribute(a);
    }
    // Exactly sized arrays: a pushed-to [] reserves room for 17 elements, and a graph has
    // hundreds of thousands of these.
    const n = inputs.length;
    if (n === 0) this.#inputs = NO_VALUES;
    else {
      const own = new Array<Value | null>(n);
      for (let i = 0; i < n; i++) own[i] = inputs[i]!;
      this.#inputs = own;
      for (let i = 0; i < n; i++) own[i]?._addUse(this, i);
    }
    const outs = init?.outputs;
    if (outs === undefined) {
      const v = Value._named('');
      v._setProducer(this);
      this.#outputs = [v];
      return;
    }
    if (outs.length === 1) {
      // An array literal, as a decoded node's single output list (Node._decoded): a list made by
      // `new Array(n)` has another map (holey elements), and code optimised on the decoded nodes
      // (shape inference, the rule passes, verify) was deoptimised by the first node a rule
      // made (a fusion's Gemm) and compiled again.
      const o = outs[0]!;
      const v = typeof o === 'string' ? Value._named(o) : o;
      if (v.producer !== null || v.isGraphInput || v.isInitializer) {
        throw new GraphError(`value '${v.name}' is already defined; a node cannot adopt it as an output`);
      }
      v._setProducer(this);
      this.#outputs = [v];
      return;
    }
    this.#outputs = new Array<Value>(outs.length);
    for (let k = 0; k < outs.length; k++) {
      const o = outs[k]!;
      const v = typeof o === 'string' ? Value._named(o) : o;
      if (v.producer !== null || v.isGraphInput || v.isInitializer) {
        throw new GraphError(`value '${v.name}' is already defined; a node cannot adopt it as an output`);
      }
      v._setProducer(this);
      this.#outputs[k] = v;
    }
  }

  /**
   * @internal The decoder's constructor: outputs named `names[from..to)`, no init object and no
   * intermediate arrays (a weightless graph decodes at a few hundred ns per node).
   */
  static _decoded(opType: string, domain: string, name: string, names: readonly string[], from: number, to: number): Node {
    const node = new Node(opType, NO_VALUES, DECODED);
    if (domain !== '') node.domain = domain;
    node.name = name;
    if (to - from === 1) {
      // An array literal (most nodes have one output): V8 tracks the survival of what a literal
      // site allocates and, when all of it lives on (a decoded graph), allocates it in the old
      // generation directly, so the young-generation GC never copies it. `new Array(n)` has no
      // such site.
      const v = Value._named(names[from]!);
      v._setProducer(node);
      node.#outputs = [v];
      return node;
    }
    const outs = new Array<Value>(to - from);
    node.#outputs = outs;
    for (let k = from; k < to; k++) {
      const v = Value._named(names[k]!);
      v._setProducer(node);
      outs[k - from] = v;
    }
    return node;
  }

  /** @internal Adopts `values` (owned by the caller no more) as the inputs of a node that has none. */
  _adoptInputs(values: (Value | null)[]): void {
    if (this.#inputs.length !== 0) throw new GraphError(`internal: ${this.describe()} already has inputs`);
    this.#inputs = values;
    for (let i = 0; i < values.length; i++) values[i]?._addUse(this, i);
  }

  // Static for the reason given at Value's.
  static #extras(n: Node): NodeExtras {
    return (n.#x ??= { domain: '', overload: '', docString: '', meta: undefined, unknownFields: undefined });
  }

  /** Operator set domain; '' (or 'ai.onnx') is the default ONNX domain. Kept out of line (most nodes have ''). */
  get domain(): string {
    return this.#x === null ? '' : this.#x.domain;
  }
  set domain(d: string) {
    if (d !== '' || this.#x !== null) Node.#extras(this).domain = d;
  }
  get overload(): string {
    return this.#x === null ? '' : this.#x.overload;
  }
  set overload(s: string) {
    if (s !== '' || this.#x !== null) Node.#extras(this).overload = s;
  }
  get docString(): string {
    return this.#x === null ? '' : this.#x.docString;
  }
  set docString(s: string) {
    if (s !== '' || this.#x !== null) Node.#extras(this).docString = s;
  }
  /** NodeProto fields the codec did not recognise (e.g. device_configurations), verbatim. */
  get unknownFields(): Uint8Array[] | undefined {
    return this.#x?.unknownFields;
  }
  set unknownFields(u: Uint8Array[] | undefined) {
    if (u !== undefined || this.#x !== null) Node.#extras(this).unknownFields = u;
  }

  /** @internal a node as its own list cell */
  get _cellNode(): Node {
    return this;
  }

  get graph(): Graph | null {
    return this._graph;
  }
  get inputs(): readonly (Value | null)[] {
    return this.#inputs;
  }
  get outputs(): readonly Value[] {
    return this.#outputs;
  }
  /** First output (most ops have one). */
  get output(): Value {
    const o = this.#outputs[0];
    if (o === undefined) throw new GraphError(`${this.describe()} has no outputs`);
    return o;
  }
  get attributes(): ReadonlyMap<string, Attribute> {
    return this.#attributes ?? NO_ATTRIBUTES;
  }
  /**
   * @internal The node's attributes as the list they are stored in, in order. The list is never
   * changed in place (a change replaces it), and the attributes themselves are read-only: two
   * reads that return lists with the same entries saw the same attributes (shape inference's
   * per-rule memo compares them instead of reading each attribute).
   */
  get _attributeItems(): readonly Attribute[] {
    return this.#attributes === null ? NO_ATTRIBUTE_ITEMS : this.#attributes._items;
  }
  /** NodeProto.metadata_props (allocated on first access). */
  get metadataProps(): Map<string, string> {
    return (Node.#extras(this).meta ??= new MetadataMap());
  }
  set metadataProps(m: Map<string, string>) {
    Node.#extras(this).meta = m;
  }
  /** Whether any metadata is set, without allocating the map. */
  get hasMetadata(): boolean {
    const m = this.#x?.meta;
    return m !== undefined && m.size > 0;
  }

  /** Sets input `i` (appending nulls up to it if needed), keeping uses in sync. */
  setInput(i: number, value: Value | null): void {
    if (!Number.isInteger(i) || i < 0) throw new GraphError(`${this.describe()}: bad input index ${i}`);
    if (this.#inputs === NO_VALUES) this.#inputs = [];
    while (this.#inputs.length <= i) this.#inputs.push(null);
    const old = this.#inputs[i];
    if (old === value) return;
    old?._removeUse(this, i);
    this.#inputs[i] = value;
    value?._addUse(this, i);
  }

  /** Replaces every occurrence of `old` among the inputs; returns how many were replaced. */
  replaceInputWith(old: Value, value: Value | null): number {
    let n = 0;
    this.#inputs.forEach((v, i) => {
      if (v === old) {
        this.setInput(i, value);
        n++;
      }
    });
    return n;
  }

  /** Replaces all inputs at once. */
  setInputs(values: readonly (Value | null)[]): void {
    const old = this.#inputs;
    for (let i = 0; i < old.length; i++) old[i]?._removeUse(this, i);
    if (values.length === 0) {
      this.#inputs = NO_VALUES;
      return;
    }
    // An exactly sized copy (see the constructor).
    const next = values.slice();
    this.#inputs = next;
    for (let i = 0; i < next.length; i++) next[i]?._addUse(this, i);
  }

  /** Drops trailing inputs past `count`. */
  truncateInputs(count: number): void {
    while (this.#inputs.length > count) {
      const i = this.#inputs.length - 1;
      this.#inputs[i]?._removeUse(this, i);
      this.#inputs.pop();
    }
  }

  /** Drops trailing outputs past `count`; they must be unused and not graph outputs. */
  truncateOutputs(count: number): void {
    for (let i = count; i < this.#outputs.length; i++) {
      const v = this.#outputs[i]!;
      if (v.useCount > 0 || v.isGraphOutput) {
        throw new GraphError(`${this.describe()}: output ${i} ('${v.name}') is still used`);
      }
    }
    for (let i = count; i < this.#outputs.length; i++) this.#outputs[i]!._setProducer(null);
    this.#outputs.length = Math.min(count, this.#outputs.length);
  }

  /** Appends a new output value. */
  addOutput(nameOrValue: string | Value = ''): Value {
    const v = typeof nameOrValue === 'string' ? new Value({ name: nameOrValue }) : nameOrValue;
    if (v.producer !== null) throw new GraphError(`value '${v.name}' already has a producer`);
    v._setProducer(this);
    this.#outputs.push(v);
    return v;
  }

  setAttribute(attr: Attribute): void {
    if (this.#attributes === null) this.#attributes = new AttributeMap([attr]);
    else this.#attributes._set(attr);
    adoptSubgraphs(this, attr);
  }
  /**
   * @internal The decoder's bulk form of setAttribute for a node without attributes:
   * `attrs[from..to)`, names distinct except that a later one replaces an earlier one.
   */
  _setAttributes(attrs: readonly Attribute[], from: number, to: number): void {
    if (from === to) return;
    if (this.#attributes !== null) throw new GraphError(`internal: ${this.describe()} already has attributes`);
    const n = to - from;
    if (n === 1) {
      // (a literal, as in _decoded: V8 pretenures what the site allocates)
      const a = attrs[from]!;
      adoptSubgraphs(this, a);
      this.#attributes = new AttributeMap([a]);
      return;
    }
    const items = new Array<Attribute>(n);
    let k = 0;
    // A repeated name keeps its first place and the last value. Few attributes are compared
    // pairwise; many (a hostile node with 200,000 took minutes to load, quadratic) go through a map.
    const index = n > 16 ? new Map<string, number>() : undefined;
    for (let i = from; i < to; i++) {
      const a = attrs[i]!;
      let at = -1;
      if (index === undefined) {
        for (let j = 0; j < k; j++) if (items[j]!.name === a.name) at = j;
      } else {
        at = index.get(a.name) ?? -1;
        if (at < 0) index.set(a.name, k);
      }
      if (at < 0) items[k++] = a;
      else items[at] = a;
      adoptSubgraphs(this, a);
    }
    if (k < n) items.length = k;
    this.#attributes = new AttributeMap(items);
  }
  removeAttribute(name: string): boolean {
    return this.#attributes?._delete(name) ?? false;
  }
  attr(name: string): Attribute | undefined {
    return this.#attributes?.get(name);
  }

  getInt(name: string, fallback: number): number;
  getInt(name: string): number | undefined;
  getInt(name: string, fallback?: number): number | undefined {
    const a = this.#attributes?.get(name);
    return a && !a.isRef ? a.asInt() : fallback;
  }
  getInts(name: string, fallback: number[]): number[];
  getInts(name: string): number[] | undefined;
  getInts(name: string, fallback?: number[]): number[] | undefined {
    const a = this.#attributes?.get(name);
    return a && !a.isRef ? a.asInts() : fallback;
  }
  getFloat(name: string, fallback: number): number;
  getFloat(name: string): number | undefined;
  getFloat(name: string, fallback?: number): number | undefined {
    const a = this.#attributes?.get(name);
    return a && !a.isRef ? a.asFloat() : fallback;
  }
  getFloats(name: string, fallback: number[]): number[];
  getFloats(name: string): number[] | undefined;
  getFloats(name: string, fallback?: number[]): number[] | undefined {
    const a = this.#attributes?.get(name);
    return a && !a.isRef ? a.asFloats() : fallback;
  }
  getString(name: string, fallback: string): string;
  getString(name: string): string | undefined;
  getString(name: string, fallback?: string): string | undefined {
    const a = this.#attributes?.get(name);
    return a && !a.isRef ? a.asString() : fallback;
  }
  getStrings(name: string): string[] | undefined {
    const a = this.#attributes?.get(name);
    return a && !a.isRef ? a.asStrings() : undefined;
  }
  getTensor(name: string): Tensor | undefined {
    const a = this.#attributes?.get(name);
    return a && !a.isRef ? a.asTensor() : undefined;
  }

  /** Subgraphs held in GRAPH/GRAPHS attributes (If branches, Loop/Scan bodies). */
  subgraphs(): Graph[] {
    const out: Graph[] = [];
    if (this.#attributes === null) return out;
    for (const a of this.#attributes._items) {
      if (a.isRef) continue;
      if (a.type === AttributeType.GRAPH) out.push(a.value as Graph);
      else if (a.type === AttributeType.GRAPHS) for (const g of a.value as Graph[]) out.push(g);
    }
    return out;
  }

  /** @internal Whether a GRAPH/GRAPHS attribute holds subgraphs (`subgraphs()` without the array). */
  _hasSubgraphs(): boolean {
    if (this.#attributes === null) return false;
    for (const a of this.#attributes._items) {
      if (a.isRef) continue;
      if (a.type === AttributeType.GRAPH || (a.type === AttributeType.GRAPHS && (a.value as Graph[]).length > 0)) return true;
    }
    return false;
  }

  /** True for the default ONNX domain ('' or 'ai.onnx'). */
  get isOnnxDomain(): boolean {
    const x = this.#x;
    return x === null || x.domain === '' || x.domain === 'ai.onnx';
  }

  /** "Conv 'conv1'" or "Conv (#12)" for messages. */
  describe(): string {
    const op = this.isOnnxDomain ? this.opType : `${this.domain}::${this.opType}`;
    return this.name ? `${op} '${this.name}'` : `${op} node`;
  }

  /** Following node in its graph, or null. */
  get next(): Node | null {
    let b = this._box === null ? null : this._box._cellNext;
    while (b !== null && b._cellNode._box !== b) b = b._cellNext;
    return b === null ? null : b._cellNode;
  }
  /** Preceding node in its graph, or null. */
  get prev(): Node | null {
    const p = this._box === null ? null : this._box._cellPrev;
    return p ? p._cellNode : null;
  }

  /**
   * @internal Whether `p` is one of the `within` nodes before this one in its graph (what a walk
   * back over `prev` finds), read off the list cells: no `prev` and `_cellNode` call per step (the
   * closing check asks it for every input of every node a patch touched, in code run once).
   */
  _follows(p: Node, within: number): boolean {
    let b = this._box === null ? null : this._box._cellPrev;
    // (A node that is its own cell is the cell: `b === p`; a relinked node's cell is a Cell.)
    for (let k = 0; b !== null && b !== undefined && k < within; k++, b = b._cellPrev) if (b === p || (b instanceof Cell && b._cellNode === p)) return true;
    return false;
  }

  toString(): string {
    return this.describe();
  }
}

export interface QuantizationAnnotation {
  tensorName: string;
  params: [string, string][];
}

export interface GraphInit {
  name?: string;
  docString?: string;
  inputs?: readonly Value[];
  outputs?: readonly Value[];
  initializers?: readonly Value[];
  nodes?: Iterable<Node>;
  metadataProps?: Map<string, string>;
}

export class Graph {
  name: string;
  docString: string;
  metadataProps: Map<string, string>;
  /** GraphProto.quantization_annotation, kept verbatim. */
  quantizationAnnotations: QuantizationAnnotation[] = [];
  /**
   * value_info entries whose name matched no value in scope. ONNX allows them; they are kept
   * so a round trip loses nothing.
   */
  danglingValueInfo: Value[] = [];
  unknownFields: Uint8Array[] | undefined = undefined;
  /** The node owning this graph through a GRAPH/GRAPHS attribute, or null. */
  parent: Node | null = null;

  readonly #inputs: Value[] = [];
  readonly #outputs: Value[] = [];
  readonly #initializers = new Map<string, Value>();
  readonly #sparseInitializers = new Map<string, Value>();
  #head: Box | null = null;
  #tail: Box | null = null;
  #count = 0;

  constructor(init: GraphInit = {}) {
    this.name = init.name ?? '';
    this.docString = init.docString ?? '';
    this.metadataProps = init.metadataProps ?? new Map();
    for (const v of init.inputs ?? []) this.addInput(v);
    for (const v of init.initializers ?? []) this.addInitializer(v);
    for (const n of init.nodes ?? []) this.append(n);
    for (const v of init.outputs ?? []) this.addOutput(v);
  }

  // ---------------------------------------------------------------- inputs / outputs

  get inputs(): readonly Value[] {
    return this.#inputs;
  }
  addInput(v: Value, at = this.#inputs.length): Value {
    if (v.producer !== null) throw new GraphError(`value '${v.name}' is produced by ${v.producer.describe()}; it cannot be a graph input`);
    if (v._inputOf !== null) throw new GraphError(`value '${v.name}' is already a graph input`);
    this.#inputs.splice(at, 0, v);
    v._inputOf = this;
    return v;
  }
  /** Removes a graph input; refuses while it is used unless it is also an initializer. */
  removeInput(v: Value): void {
    const i = this.#inputs.indexOf(v);
    if (i < 0) throw new GraphError(`value '${v.name}' is not an input of graph '${this.name}'`);
    if (v.useCount > 0 && !v.isInitializer) throw new GraphError(`graph input '${v.name}' is still used by ${v.uses[0]!.node.describe()}`);
    this.#inputs.splice(i, 1);
    v._inputOf = null;
  }

  get outputs(): readonly Value[] {
    return this.#outputs;
  }
  addOutput(v: Value): Value {
    this.#outputs.push(v);
    v._outputOf = withOne(v._outputOf, this);
    return v;
  }
  setOutput(i: number, v: Value): void {
    const old = this.#outputs[i];
    if (old === undefined) throw new GraphError(`graph '${this.name}' has no output ${i}`);
    old._outputOf = withoutOne(old._outputOf, this);
    this.#outputs[i] = v;
    v._outputOf = withOne(v._outputOf, this);
  }
  removeOutput(i: number): Value {
    const old = this.#outputs[i];
    if (old === undefined) throw new GraphError(`graph '${this.name}' has no output ${i}`);
    old._outputOf = withoutOne(old._outputOf, this);
    this.#outputs.splice(i, 1);
    return old;
  }

  // ---------------------------------------------------------------- initializers

  get initializers(): ReadonlyMap<string, Value> {
    return this.#initializers;
  }
  /** Registers `v` (with `constValue` set) as an initializer under its name. */
  addInitializer(v: Value): Value {
    if (v.constValue === null) throw new GraphError(`initializer '${v.name}' has no constValue`);
    if (v.producer !== null) throw new GraphError(`value '${v.name}' is produced by ${v.producer.describe()}; it cannot be an initializer`);
    if (v.name === '') throw new GraphError('an initializer needs a name');
    if (this.#initializers.has(v.name) && this.#initializers.get(v.name) !== v) {
      throw new GraphError(`graph '${this.name}' already has an initializer named '${v.name}'`);
    }
    this.#initializers.set(v.name, v);
    v._initializerOf = this;
    return v;
  }
  /** Adds a new initializer Value holding `tensor` (named after the tensor unless `name` given). */
  initializer(tensor: Tensor, name = tensor.name): Value {
    const v = new Value({ name, constValue: tensor, type: { kind: 'tensor', elemType: tensor.dtype, shape: tensor.dims } });
    return this.addInitializer(v);
  }
  /** Removes an initializer; refuses while it is used or a graph output. */
  removeInitializer(name: string): Value {
    const v = this.#initializers.get(name);
    if (v === undefined) throw new GraphError(`graph '${this.name}' has no initializer '${name}'`);
    if (v.useCount > 0) throw new GraphError(`initializer '${name}' is still used by ${v.uses[0]!.node.describe()}`);
    if (v.isGraphOutput) throw new GraphError(`initializer '${name}' is a graph output`);
    this.#initializers.delete(name);
    v._initializerOf = null;
    return v;
  }
  /** Re-keys the initializer map after a Value was renamed. */
  renameInitializer(v: Value, newName: string): void {
    if (this.#initializers.get(v.name) !== v) throw new GraphError(`'${v.name}' is not an initializer of graph '${this.name}'`);
    if (this.#initializers.has(newName)) throw new GraphError(`graph '${this.name}' already has an initializer named '${newName}'`);
    const entries = [...this.#initializers.entries()].map(([k, x]) => (x === v ? ([newName, x] as const) : ([k, x] as const)));
    this.#initializers.clear();
    for (const [k, x] of entries) this.#initializers.set(k, x);
    v.name = newName;
  }

  get sparseInitializers(): ReadonlyMap<string, Value> {
    return this.#sparseInitializers;
  }
  addSparseInitializer(v: Value): Value {
    if (v.sparseValue === null) throw new GraphError(`sparse initializer '${v.name}' has no sparseValue`);
    this.#sparseInitializers.set(v.name, v);
    v._initializerOf = this;
    return v;
  }
  removeSparseInitializer(name: string): void {
    const v = this.#sparseInitializers.get(name);
    if (v === undefined) return;
    if (v.useCount > 0) throw new GraphError(`sparse initializer '${name}' is still used by ${v.uses[0]!.node.describe()}`);
    this.#sparseInitializers.delete(name);
    v._initializerOf = null;
  }

  // ---------------------------------------------------------------- node list

  get nodeCount(): number {
    return this.#count;
  }
  get firstNode(): Node | null {
    return this.#head === null ? null : this.#head._cellNode;
  }
  get lastNode(): Node | null {
    return this.#tail === null ? null : this.#tail._cellNode;
  }

  /**
   * Iterates the nodes in list order. Safe under mutation: removed nodes are skipped, nodes
   * inserted after the current one are visited.
   */
  [Symbol.iterator](): IterableIterator<Node> {
    return new NodeIterator(this, Graph.#headOf);
  }
  static readonly #headOf = (g: Graph): Box | null => g.#head;
  /** Iterates in reverse list order over a snapshot, skipping nodes removed meanwhile. */
  *reversed(): IterableIterator<Node> {
    const snapshot = this.nodes;
    for (let i = snapshot.length - 1; i >= 0; i--) {
      const n = snapshot[i]!;
      if (n._graph === this) yield n;
    }
  }
  get nodes(): Node[] {
    // A direct walk of the list (what [...this] did, without an iterator result per node).
    const out: Node[] = [];
    for (let b = this.#head; b !== null; b = b._cellNext) {
      const n = b._cellNode;
      if (n._box === b) out.push(n);
    }
    return out;
  }

  append(...nodes: Node[]): void {
    for (const n of nodes) this.#link(n, this.#tail, null);
  }
  prepend(...nodes: Node[]): void {
    let after: Box | null = null;
    for (const n of nodes) {
      this.#link(n, after, after === null ? this.#head : after._cellNext);
      after = n._box;
    }
  }
  insertBefore(ref: Node, ...nodes: Node[]): void {
    const rb = this.#boxOf(ref);
    for (const n of nodes) this.#link(n, rb._cellPrev ?? null, rb);
  }
  insertAfter(ref: Node, ...nodes: Node[]): void {
    let after = this.#boxOf(ref);
    for (const n of nodes) {
      this.#link(n, after, after._cellNext);
      after = n._box!;
    }
  }

  #boxOf(n: Node): Box {
    if (n._graph !== this || n._box === null) throw new GraphError(`${n.describe()} is not in graph '${this.name}'`);
    return n._box;
  }

  #link(n: Node, prev: Box | null, next: Box | null): void {
    if (n._graph !== null) throw new GraphError(`${n.describe()} already belongs to graph '${n._graph.name}'; remove it first`);
    const box: Box = n._cellPrev === undefined || liveIterators === 0 ? n : new Cell(n);
    if (box !== n) n._cellPrev = null; // (its stale next stays: an iterator may be parked on it)
    box._cellPrev = prev;
    box._cellNext = next;
    if (prev) prev._cellNext = box;
    else this.#head = box;
    if (next) next._cellPrev = box;
    else this.#tail = box;
    n._box = box;
    n._graph = this;
    this.#count++;
  }

  #unlink(n: Node): void {
    const b = n._box!;
    const prev = b._cellPrev ?? null;
    if (prev) prev._cellNext = b._cellNext;
    else this.#head = b._cellNext;
    if (b._cellNext) b._cellNext._cellPrev = prev;
    else this.#tail = prev;
    // b._cellNext is kept: an iterator parked on this cell continues from there. The cell is
    // dead from here on (n._box no longer points at it), even if n is linked again.
    n._box = null;
    n._graph = null;
    this.#count--;
  }

  /**
   * Removes nodes. With `safe`, first checks that no removed output is used outside the set
   * or is a graph output, and changes nothing if one is. The removed nodes' inputs are
   * detached (their uses disappear); their outputs keep their producer link. A removed node's
   * subgraphs (If branches, Loop/Scan bodies) are emptied the same way, innermost first, and
   * outer values they listed as outputs are dropped from their output lists, so no value
   * outside keeps a use (or a graph-output mark) from a node that is gone.
   */
  remove(nodes: Node | Iterable<Node>, options?: { safe?: boolean }): void {
    if (nodes instanceof Node && !options?.safe) {
      // One node, unchecked (the rewrites' hot path): no list, no set.
      if (nodes._graph !== this) throw new GraphError(`${nodes.describe()} is not in graph '${this.name}'`);
      this.#take(nodes);
      return;
    }
    // The rewrites remove one node or a handful per change, checked: an array they pass is used
    // as it is (never written here), a few nodes are searched in it, and uses are read in place
    // (`uses` would build an array for a value holding a single use). Only long lists get a set.
    const list: readonly Node[] = nodes instanceof Node ? [nodes] : Array.isArray(nodes) ? (nodes as readonly Node[]) : [...nodes];
    for (const n of list) {
      if (n._graph !== this) throw new GraphError(`${n.describe()} is not in graph '${this.name}'`);
    }
    if (options?.safe) {
      const set = list.length > 8 ? new Set(list) : undefined;
      for (const n of list) {
        for (const o of n.outputs) {
          if (o.isGraphOutput) throw new GraphError(`cannot remove ${n.describe()}: its output '${o.name}' is a graph output`);
          const count = o.useCount;
          for (let k = 0; k < count; k++) {
            const by = o._useAt(k).node;
            if (by !== n && !(set === undefined ? list.includes(by) : set.has(by))) {
              throw new GraphError(`cannot remove ${n.describe()}: its output '${o.name}' is used by ${by.describe()}`);
            }
          }
        }
      }
    }
    for (const n of list) this.#take(n);
  }

  /** Takes a checked node out: releases its subgraphs' captures and its input uses, unlinks it. */
  #take(n: Node): void {
    detachSubgraphs(n);
    n.setInputs(NO_VALUES);
    this.#unlink(n);
  }

  /**
   * Sorts the nodes topologically, keeping the current order wherever dependencies allow
   * (stable). Values captured by subgraphs count as inputs of the owning node. Throws
   * GraphError (code GRAPH_CYCLE) naming the nodes of a cycle.
   */
  sort(): void {
    const r = topologicalOrder(this);
    if ('cycle' in r) throw new GraphError(`cycle in graph '${this.name}': ${describeCycle(r.cycle)}`, { code: 'GRAPH_CYCLE' });
    const { nodes, order } = r;
    let same = true;
    for (let k = 0; k < order.length; k++) if (order[k] !== k) same = false;
    if (same) return;
    for (const n of nodes) this.#unlink(n);
    for (const i of order) this.#link(nodes[i]!, this.#tail, null);
  }

  /**
   * The nodes of a cycle among this graph's nodes, in data-flow order from the one that comes
   * first in the graph (each reads an output of the one before it, the first an output of the
   * last; one node that reads its own output is a cycle of one), or null when there is none — then `sort()` puts the nodes in a topological
   * order. The search is sort()'s own, without moving a node: O(nodes + reads).
   */
  findCycle(): Node[] | null {
    const r = topologicalOrder(this);
    return 'cycle' in r ? r.cycle : null;
  }

  /** This graph's nodes and, recursively, those of its subgraphs (depth first, in order). */
  *allNodes(): IterableIterator<Node> {
    for (const n of this) {
      yield n;
      if (n._hasSubgraphs()) for (const g of n.subgraphs()) yield* g.allNodes();
    }
  }

  /** Every graph nested in this one (excluding itself). */
  *subgraphs(): IterableIterator<Graph> {
    for (const n of this) {
      if (!n._hasSubgraphs()) continue; // (no array per plain node)
      for (const g of n.subgraphs()) {
        yield g;
        yield* g.subgraphs();
      }
    }
  }

  /** Values defined in this graph (inputs, initializers, node outputs), by name. O(size). */
  valuesByName(): Map<string, Value> {
    const m = new Map<string, Value>();
    for (const v of this.#inputs) if (v.name) m.set(v.name, v);
    for (const v of this.#initializers.values()) m.set(v.name, v);
    for (const v of this.#sparseInitializers.values()) m.set(v.name, v);
    for (const n of this) for (const o of n.outputs) if (o.name) m.set(o.name, o);
    return m;
  }

  toString(): string {
    return `Graph('${this.name}', ${this.#count} nodes)`;
  }
}

/** Makes `node` the parent of the graphs a GRAPH/GRAPHS attribute holds. */
function adoptSubgraphs(node: Node, attr: Attribute): void {
  if (attr.type === AttributeType.GRAPH) {
    const g = attr.value as Graph | null;
    if (g) g.parent = node;
  } else if (attr.type === AttributeType.GRAPHS) for (const g of attr.value as Graph[]) if (g) g.parent = node;
}

/**
 * Empties the subgraphs of a node being removed (recursively): their nodes' inputs are
 * detached and the nodes unlinked, and outputs that are values defined outside the subgraph
 * are dropped, so captured outer values lose every use and graph-output mark the removed node
 * held through its subgraphs.
 */
function detachSubgraphs(n: Node): void {
  if (!n._hasSubgraphs()) return;
  for (const g of n.subgraphs()) {
    // Decided before the nodes go: a removed node's outputs no longer know their graph.
    const capturedOutputs: number[] = [];
    g.outputs.forEach((v, i) => {
      if (v.graph !== g) capturedOutputs.push(i);
    });
    const inner = g.nodes;
    if (inner.length > 0) g.remove(inner); // recurses into their own subgraphs
    for (let i = capturedOutputs.length - 1; i >= 0; i--) g.removeOutput(capturedOutputs[i]!);
  }
}

/** Values a node reads: its inputs plus outer-scope values captured by its subgraphs. */
export function nodeDependencies(n: Node): Value[] {
  const deps: Value[] = [];
  for (const v of n.inputs) if (v) deps.push(v);
  if (n._hasSubgraphs()) for (const v of capturedValues(n)) deps.push(v);
  return deps;
}

/**
 * Kahn's algorithm, stable (a min-heap of positions): the nodes in a topological order, or a cycle
 * (Graph.sort, Graph.findCycle). The nodes left over when the heap runs dry each wait on a node
 * also left over (one that never came out of the heap), so following such a dependency from any
 * of them, over and over, comes back to a node already met: the nodes from its first meeting on
 * are a cycle.
 */
function topologicalOrder(g: Graph): { nodes: Node[]; order: number[] } | { cycle: Node[] } {
  const nodes = g.nodes;
  const position = new Map<Node, number>();
  nodes.forEach((n, i) => position.set(n, i));
  const indeg = new Int32Array(nodes.length);
  const succ: number[][] = nodes.map(() => []);
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    const deps = new Set<number>();
    for (const v of nodeDependencies(n)) {
      const p = v.producer;
      if (p === null) continue;
      const j = position.get(p);
      if (j === i) return { cycle: [n] };
      if (j !== undefined) deps.add(j);
    }
    for (const j of deps) succ[j]!.push(i);
    indeg[i] = deps.size;
  }
  const heap = new MinHeap();
  indeg.forEach((d, i) => {
    if (d === 0) heap.push(i);
  });
  const order: number[] = [];
  while (heap.size > 0) {
    const i = heap.pop();
    order.push(i);
    for (const j of succ[i]!) if (--indeg[j]! === 0) heap.push(j);
  }
  if (order.length === nodes.length) return { nodes, order };
  // (the failure path alone) The left-over nodes' dependencies among themselves, then a walk
  // from the first of them along them until a node comes again.
  const waitsOn = new Array<number>(nodes.length).fill(-1);
  for (let j = 0; j < nodes.length; j++) {
    if (indeg[j]! === 0) continue;
    for (const i of succ[j]!) if (indeg[i]! > 0 && waitsOn[i] === -1) waitsOn[i] = j;
  }
  const met = new Map<number, number>();
  const path: number[] = [];
  let at = indeg.findIndex((d) => d > 0);
  while (!met.has(at)) {
    met.set(at, path.length);
    path.push(at);
    at = waitsOn[at]!;
  }
  // The path follows "waits on" (reader to producer): reversed, it is the data flow; it starts
  // at its node that comes first in the graph.
  const ring = path.slice(met.get(at)).reverse();
  let first = 0;
  for (let k = 1; k < ring.length; k++) if (ring[k]! < ring[first]!) first = k;
  return { cycle: [...ring.slice(first), ...ring.slice(0, first)].map((i) => nodes[i]!) };
}

/**
 * "Add 'n1' → Relu 'n2' → Add 'n1'": a cycle's nodes in data-flow order, back to the first; of a
 * long one the first 6 and last 2 ("… 99,992 more …" between), so a message stays one line.
 */
export function describeCycle(cycle: readonly Node[]): string {
  const all = [...cycle, cycle[0]!];
  if (all.length <= 10) return all.map((n) => n.describe()).join(' → ');
  return [...all.slice(0, 6).map((n) => n.describe()), `… ${(all.length - 9).toLocaleString('en-US')} more …`, ...all.slice(-3).map((n) => n.describe())].join(' → ');
}

/** Values used inside `node`'s subgraphs (at any depth) that are defined outside them. */
export function capturedValues(node: Node): Set<Value> {
  const out = new Set<Value>();
  const inner = new Set<Graph>();
  for (const g of node.subgraphs()) {
    inner.add(g);
    for (const s of g.subgraphs()) inner.add(s);
  }
  for (const g of inner) {
    for (const n of g) {
      for (const v of n.inputs) if (v && !isDefinedIn(v, inner)) out.add(v);
    }
    for (const v of g.outputs) if (!isDefinedIn(v, inner)) out.add(v);
  }
  return out;
}

function isDefinedIn(v: Value, graphs: Set<Graph>): boolean {
  const g = v.graph;
  return g !== null && graphs.has(g);
}

class MinHeap {
  readonly #a: number[] = [];
  get size(): number {
    return this.#a.length;
  }
  push(x: number): void {
    const a = this.#a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= x) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = x;
  }
  pop(): number {
    const a = this.#a;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const c = r < a.length && a[r]! < a[l]! ? r : l;
        if (a[c]! >= last) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

export interface FunctionInit {
  domain: string;
  name: string;
  overload?: string;
  graph: Graph;
  /** Attribute names without defaults (FunctionProto.attribute). */
  attributeNames?: string[];
  /** Attributes with default values (FunctionProto.attribute_proto). */
  attributeDefaults?: Attribute[];
  opsetImports?: Map<string, number>;
  docString?: string;
  metadataProps?: Map<string, string>;
}

/** A model-local function (FunctionProto): its body is a Graph without initializers. */
export class OnnxFunction {
  domain: string;
  name: string;
  overload: string;
  graph: Graph;
  attributeNames: string[];
  attributeDefaults: Attribute[];
  opsetImports: Map<string, number>;
  docString: string;
  metadataProps: Map<string, string>;
  unknownFields: Uint8Array[] | undefined = undefined;

  constructor(init: FunctionInit) {
    this.domain = init.domain;
    this.name = init.name;
    this.overload = init.overload ?? '';
    this.graph = init.graph;
    this.attributeNames = init.attributeNames ?? [];
    this.attributeDefaults = init.attributeDefaults ?? [];
    this.opsetImports = init.opsetImports ?? new Map();
    this.docString = init.docString ?? '';
    this.metadataProps = init.metadataProps ?? new Map();
  }

  /** "domain:name[:overload]", the key nodes use to call it. */
  get id(): string {
    return functionId(this.domain, this.name, this.overload);
  }
}

export function functionId(domain: string, name: string, overload = ''): string {
  return overload ? `${domain}:${name}:${overload}` : `${domain}:${name}`;
}

export interface TrainingInfo {
  initialization: Graph | null;
  algorithm: Graph | null;
  initializationBinding: [string, string][];
  updateBinding: [string, string][];
  /** TrainingInfoProto fields the codec did not recognise, re-emitted verbatim. */
  unknownFields?: Uint8Array[];
}

export interface ModelInit {
  graph: Graph;
  irVersion?: number;
  opsetImports?: Map<string, number> | Record<string, number>;
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: bigint;
  docString?: string;
  metadataProps?: Map<string, string>;
  functions?: OnnxFunction[];
  trainingInfo?: TrainingInfo[];
}

export class Model {
  irVersion: number;
  /** domain ('' = ai.onnx) → opset version, in file order. */
  opsetImports: Map<string, number>;
  producerName: string;
  producerVersion: string;
  domain: string;
  modelVersion: bigint;
  docString: string;
  graph: Graph;
  metadataProps: Map<string, string>;
  functions: OnnxFunction[];
  trainingInfo: TrainingInfo[];
  /** ModelProto fields the codec did not recognise (e.g. `configuration`), verbatim. */
  unknownFields: Uint8Array[] | undefined = undefined;

  constructor(init: ModelInit) {
    this.graph = init.graph;
    this.irVersion = init.irVersion ?? 8;
    const ops = init.opsetImports ?? new Map([['', 17]]);
    this.opsetImports = ops instanceof Map ? ops : new Map(Object.entries(ops));
    this.producerName = init.producerName ?? '';
    this.producerVersion = init.producerVersion ?? '';
    this.domain = init.domain ?? '';
    this.modelVersion = init.modelVersion ?? 0n;
    this.docString = init.docString ?? '';
    this.metadataProps = init.metadataProps ?? new Map();
    this.functions = init.functions ?? [];
    this.trainingInfo = init.trainingInfo ?? [];
  }

  /** Opset version imported for `domain` ('' and 'ai.onnx' are the same domain). */
  opsetVersion(domain = ''): number | undefined {
    const d = domain === 'ai.onnx' ? '' : domain;
    return this.opsetImports.get(d) ?? (d === '' ? this.opsetImports.get('ai.onnx') : undefined);
  }

  /**
   * Calls `fn` on every graph of the model in `graphs()`'s order, found by node cursors: no
   * iterator result per node (graphs() walks each graph with Graph's mutation-safe iterator, an
   * object per node). `fn` must not add or remove nodes holding subgraphs.
   */
  forEachGraph(fn: (g: Graph) => void): void {
    const walk = (g: Graph): void => {
      fn(g);
      for (let n = g.firstNode; n !== null; n = n.next) {
        if (n._hasSubgraphs()) for (const sg of n.subgraphs()) walk(sg);
      }
    };
    this.#forEachRoot(walk);
  }

  /**
   * Calls `fn` on every node of every graph of the model (`g`: the graph holding it), one cursor
   * walk per graph that enters a node's subgraphs as it meets them: each node is visited once
   * (forEachGraph plus a walk of each graph visits every node twice). `fn` must not add or remove
   * nodes holding subgraphs.
   */
  forEachNode(fn: (n: Node, g: Graph) => void): void {
    const walk = (g: Graph): void => {
      for (let n = g.firstNode; n !== null; n = n.next) {
        fn(n, g);
        if (n._hasSubgraphs()) for (const sg of n.subgraphs()) walk(sg);
      }
    };
    this.#forEachRoot(walk);
  }

  /** Calls `walk` on the graphs no node holds: the main graph, function bodies, training graphs. */
  #forEachRoot(walk: (g: Graph) => void): void {
    walk(this.graph);
    for (const f of this.functions) walk(f.graph);
    for (const t of this.trainingInfo) {
      if (t.initialization) walk(t.initialization);
      if (t.algorithm) walk(t.algorithm);
    }
  }

  /** Graphs of the model: main graph, subgraphs, function bodies and training graphs. */
  *graphs(): IterableIterator<Graph> {
    yield this.graph;
    yield* this.graph.subgraphs();
    for (const f of this.functions) {
      yield f.graph;
      yield* f.graph.subgraphs();
    }
    for (const t of this.trainingInfo) {
      for (const g of [t.initialization, t.algorithm]) {
        if (g) {
          yield g;
          yield* g.subgraphs();
        }
      }
    }
  }

  findFunction(domain: string, name: string, overload = ''): OnnxFunction | undefined {
    return this.functions.find((f) => f.domain === domain && f.name === name && f.overload === overload);
  }
}

/**
 * Builds an Attribute from a plain JS value. The attribute type follows the JavaScript type,
 * never the value: a bigint, an integer number or a boolean is INT, an array of them INTS;
 * FLOAT and FLOATS are spelled out (`Attribute.float('alpha', 1)`), because a JS number cannot
 * say whether `1` meant `INT 1` or `FLOAT 1.0`. A non-integer bare number is refused.
 */
export function toAttribute(name: string, v: AttributeInput): Attribute {
  if (v instanceof Attribute) return v.name === name ? v : new Attribute(name, v.type, v.value, v);
  if (typeof v === 'boolean') return Attribute.int(name, v ? 1 : 0);
  if (typeof v === 'bigint') return Attribute.int(name, v);
  if (typeof v === 'number') return Attribute.int(name, integer(name, v));
  if (typeof v === 'string') return Attribute.string(name, v);
  if (v instanceof Tensor) return Attribute.tensor(name, v);
  if (v instanceof Graph) return Attribute.graph(name, v);
  const arr = v as readonly unknown[];
  if (arr.length === 0) return Attribute.ints(name, []);
  const first = arr[0];
  if (typeof first === 'bigint' || typeof first === 'number') {
    return Attribute.ints(name, (arr as (number | bigint)[]).map((x) => (typeof x === 'number' ? integer(name, x) : x)));
  }
  if (typeof first === 'string') return Attribute.strings(name, arr as string[]);
  if (first instanceof Tensor) return Attribute.tensors(name, arr as Tensor[]);
  if (first instanceof Graph) return Attribute.graphs(name, arr as Graph[]);
  throw new GraphError(`attribute '${name}': cannot infer an ONNX attribute type`);
}

function integer(name: string, v: number): number {
  if (Number.isInteger(v)) return v;
  throw new GraphError(`attribute '${name}': a bare number is an INT attribute and ${v} is not an integer; write Attribute.float('${name}', ${v}) (or Attribute.floats) for a FLOAT`);
}
