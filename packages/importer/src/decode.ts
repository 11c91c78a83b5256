/**
 * ModelProto → IR. A hand-written decoder over the wire reader: one function per ONNX message,
 * fields dispatched by number, tensor payloads taken as zero-copy ranges of the input (or, in
 * windowed mode, left on disk or copied into shared slabs), unknown fields kept verbatim.
 *
 * Decoding happens in two phases. Phase 1 walks the bytes and builds every graph with its nodes,
 * their outputs and attributes, remembering each node's input *names*. Phase 2 resolves those
 * names with lexical scoping (a subgraph sees the values of the graphs enclosing it; inner names
 * shadow outer ones; training graphs see the main graph), so nodes need not be sorted and
 * subgraphs may capture values defined anywhere in an outer graph. A name defined nowhere gets
 * one placeholder Value per name (and a diagnostic), so it survives a round trip. Decoding from
 * memory, an input name that is not the output read just before stays bytes until phase 2 and
 * is compared there as bytes (a weight's name becomes a string once, as its initializer's).
 *
 * Protobuf semantics are followed where they matter for fidelity: the last occurrence of a
 * scalar field wins, repeated occurrences of a singular message field are merged (their ranges
 * are decoded as one), repeated scalars are accepted packed and unpacked. A known field with an
 * impossible wire type is refused (IMPORT_WIRE_TYPE) rather than demoted to an unknown field:
 * in ONNX files that only happens in corrupt data, and a precise error beats silent loss.
 *
 * This module imports nothing from Node: file access comes in through `PositionalInput` and the
 * `external`/`lazyRaw` hooks, so the codec also runs in a browser.
 */
import {
  Attribute,
  AttributeType,
  DataType,
  Graph,
  GraphError,
  Model,
  Node,
  OnnxFunction,
  Tensor,
  NameTable,
  Value,
  dataTypeInfo,
  dataTypeName,
  isKnownDataType,
  nameHash,
  packedByteLength,
  sameAscii,
  type Dim,
  type ExternalDataInfo,
  type QuantizationAnnotation,
  type SparseTensor,
  type TensorInit,
  type TensorSource,
  type TensorType,
  type TrainingInfo,
  type TypeInfo,
  type MemoryBudget,
} from '@onnxkit/graph';
import { ImportError, type ImportDiagnostic, type ImportErrorCode } from './errors.js';
import {
  TensorDataHint,
  hasExtras,
  markPresent,
  setExtras,
  setGraphHints,
  setRawAttributeFloats,
  setRawAttributeStrings,
  setRawExternalEntries,
  tensorRecordHint,
  type GraphHints,
  type TensorSegment,
} from './hints.js';
import {
  AnnotationFields,
  AnnotationSpec,
  AttributeFields,
  AttributeSpec,
  DataLocation,
  TENSOR_DATA_FIELD,
  type TypedDataField,
  DimFields,
  DimSpec,
  EntryFields,
  EntrySpec,
  FunctionFields,
  FunctionSpec,
  GraphFields,
  GraphSpec,
  ModelFields,
  NodeFields,
  NodeSpec,
  OpsetFields,
  OpsetSpec,
  SegmentFields,
  SegmentSpec,
  ShapeFields,
  ShapeSpec,
  SparseTensorFields,
  SparseTensorSpec,
  TensorFields,
  TensorSpec,
  TrainingFields,
  TrainingSpec,
  TypeFields,
  TypeMapFields,
  TypeMapSpec,
  TypeOpaqueFields,
  TypeOpaqueSpec,
  TypeOptionalSpec,
  TypeSequenceSpec,
  TypeSpec,
  TypeTensorFields,
  TypeTensorSpec,
  ValueInfoFields,
  ValueInfoSpec,
} from './schema.js';
import { checkExternalLocationSyntax, parseExternalEntries } from './external-entries.js';
import { PathTracker, Reader, VarintTensorSource, WIRE_I32, WIRE_I64, WIRE_LEN, WIRE_NAMES, WIRE_VARINT, type MessageSpec, type PositionalInput } from './wire.js';
import { valueInfosEqual } from './encode.js';

/** What the decoder needs from its caller (the file-aware loader, or a bytes-only decode). */
export interface CoreDecodeOptions {
  /** File name used in error messages. */
  file?: string;
  /** Maximum message nesting (graphs in attributes, nested type protos). Default 64. */
  maxDepth?: number;
  onDiagnostic?: (d: ImportDiagnostic) => void;
  /**
   * Resolves a tensor stored as external data. Receives the parsed, syntactically checked entries
   * (the returned source must use this very `info` object as its `external`). Without a hook,
   * reading such a tensor throws an ImportError saying the data folder is unknown.
   */
  external?: (info: ExternalDataInfo, tensorName: string, fieldPath: string, byteLength: number) => TensorSource;
  /**
   * raw_data/float_data/double_data payloads of at least `threshold` bytes stay on disk; the
   * smaller ones are copied into shared slabs. Windowed mode, or memory mode on an input the
   * decoder owns (load's `lazyWeightsFrom`): then no tensor keeps a view of the input.
   */
  lazyRaw?: { threshold: number; source: (offset: number, length: number, tensorName: string) => TensorSource };
  /** @internal Smallest read window in windowed mode (tests use tiny ones). */
  windowBytes?: number;
  /**
   * @internal The input bytes are the decoder's own (read from a file by load(), never seen by
   * the caller): when tensor payloads are a small part of them, they are copied out at the end
   * so that the input buffer can be freed (see Decoder.compactPayloads).
   */
  ownsInput?: boolean;
  /** Memory the decode may take before it stops with IMPORT_TOO_LARGE (see MemoryBudget). */
  memory?: MemoryBudget;
}

/**
 * The decode's use of a MemoryBudget (@onnxkit/graph): a model's structure can hold far more
 * objects than its bytes suggest (an empty node is 2 bytes of file and about 160 bytes of heap):
 * a 60 MB file of 30 million empty nodes ran V8 out of heap, an abort (signal 6) after 24 s
 * instead of an error. The decoder asks `usedBytes()` at the first field, MEMORY_CHECK_SECOND
 * fields later, then every MEMORY_CHECK_FIELDS fields, and every MEMORY_CHECK_NODES nodes of name
 * resolution, and stops when it exceeds `limitBytes`.
 */
export type { MemoryBudget };
/** Fields decoded between two checks of the memory budget (a check reads V8's heap statistics: microseconds). */
const MEMORY_CHECK_FIELDS = 1 << 16;
const MEMORY_CHECK_NODES = 1 << 16;
/** Fields between the first check (at the first field) and the second: see the constructor. */
const MEMORY_CHECK_SECOND = 1 << 10;
/**
 * Values one attribute's `floats` or `ints` may hold (2^24). A JavaScript array past 2^27 elements
 * is a fatal V8 error, not an exception: a 150 MB file whose one attribute packed 150 million
 * ints killed the process (SIGTRAP) after 14 s.
 */
const MAX_ATTRIBUTE_VALUES = 1 << 24;
/** Dimensions of one shape (tensor, sparse tensor or type): 65,536, far past any model's rank, far below the 2^27 of a JavaScript array (see MAX_ATTRIBUTE_VALUES). */
const MAX_RANK = 1 << 16;
/** Inputs, and outputs, of one node: 2^24 (its outputs' names go into a JavaScript array: see MAX_ATTRIBUTE_VALUES). */
const MAX_NODE_VALUES = 1 << 24;
/** A packed list of this many bytes or more asks the memory budget once it is read. */
const MEMORY_CHECK_VALUES_BYTES = 1 << 16;
/** The countdown without a budget: a Smi that does not reach 0 (reset at each check). */
const NO_MEMORY_CHECK = 2 ** 30;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/**
 * Windowed mode copies payloads of at most SLAB_PAYLOAD_MAX bytes into shared slabs, each twice
 * the size of the one before, from SLAB_BYTES_MIN (a small model allocates little) up to
 * SLAB_BYTES_MAX. One buffer of its own per payload cost an ArrayBuffer, its backing store and a
 * view each: about 300 bytes on top of the payload, with 400,000 small payloads at 1M nodes.
 */
const SLAB_PAYLOAD_MAX = 4096;
const SLAB_BYTES_MIN = 16 * 1024;
const SLAB_BYTES_MAX = 1024 * 1024;
const NO_SLAB = new Uint8Array(0);
/** Diagnostics one decode keeps (then one IMPORT_DIAGNOSTICS_LIMIT, and no more). */
export const MAX_DIAGNOSTICS = 10_000;
const NO_ATTRIBUTE_OPTIONS = Object.freeze({ docString: '', refAttrName: '', unknownFields: undefined });

interface PendingGraph {
  readonly graph: Graph;
  nodes: Node[];
  /**
   * Input names of all nodes, flat (one set of arrays per graph, not one per node): those of
   * `nodes[k]` are the entries `inputEnd[k - 1] ?? 0 .. inputEnd[k]` of `inAt`/`inLen`/`inHash`,
   * resolved in phase 2. `inputCount` entries so far.
   */
  inputCount: number;
  /**
   * The input names that were made strings (windowed mode, non-ASCII or long names): most are
   * left as bytes in memory mode, and a JS array of every name (200k on a 100k-node chain) was
   * ≈ 5 MB of old-generation garbage with its copies.
   */
  readonly inputStrings: string[];
  inputEnd: Int32Array;
  /** nameHash of every node output name, in node order (see NameTable). */
  outHash: Int32Array;
  outCount: number;
  /** nameHash of each input name when the reader computed it on the way, else 0. */
  inHash: Int32Array;
  /**
   * Input name `j`: left as bytes, at `inAt[j]` in the input, `inLen[j]` (> 0) of them, plus
   * PREV_OUT when they are the last output name of the node before; the empty name (an omitted
   * optional input) when `inLen[j]` is 0; else `inputStrings[-1 - inLen[j]]`.
   */
  inAt: Int32Array;
  inLen: Int32Array;
  /**
   * nameHash of each initializer name, in the order of `graph.initializers` (0: not computed),
   * set by assembleGraph; the reader computed them while decoding the names.
   */
  initHash: number[];
  /** The initializer values, in the order of `graph.initializers` (set by assembleGraph). */
  initValues: Value[];
  readonly outputs: Value[];
  readonly valueInfos: Value[];
  /** Rendered path of the graph, for diagnostics raised during name resolution. */
  readonly path: string;
}

interface Scope {
  readonly names: NameTable;
  readonly parent: Scope | null;
}

/** ModelProto fields and the wire type each must have, for recognising non-ONNX input. */
const MODEL_WIRE: Record<number, number> = {
  [ModelFields.ir_version]: WIRE_VARINT,
  [ModelFields.producer_name]: WIRE_LEN,
  [ModelFields.producer_version]: WIRE_LEN,
  [ModelFields.domain]: WIRE_LEN,
  [ModelFields.model_version]: WIRE_VARINT,
  [ModelFields.doc_string]: WIRE_LEN,
  [ModelFields.graph]: WIRE_LEN,
  [ModelFields.opset_import]: WIRE_LEN,
  [ModelFields.metadata_props]: WIRE_LEN,
  [ModelFields.training_info]: WIRE_LEN,
  [ModelFields.functions]: WIRE_LEN,
  [ModelFields.configuration]: WIRE_LEN,
};

export class Decoder {
  readonly r: Reader;
  readonly p: PathTracker;
  readonly diagnostics: ImportDiagnostic[] = [];
  private readonly file: string | undefined;
  private readonly opts: CoreDecodeOptions;
  private readonly pending = new Map<Graph, PendingGraph>();
  private readonly placeholders = new Map<string, Value>();
  private readonly claimed = new Set<Value>();
  private functionsPending: { f: OnnxFunction; pg: PendingGraph }[] = [];
  /**
   * Output names of the nodes being decoded: a stack `[0, outputTop)` shared by nested nodes
   * (see node()). Its length never shrinks, so it keeps its backing store (setting a length of
   * 0 would free it, and every node would allocate a fresh one).
   */
  private readonly outputNames: string[] = [];
  /** The reader's hash of each name on the `outputNames` stack (0: not computed). */
  private readonly outputHashes: number[] = [];
  private outputTop = 0;
  /** Attributes of the nodes being decoded, a stack `[0, attributeTop)` like `outputNames`. */
  private readonly attributeStack: Attribute[] = [];
  private attributeTop = 0;
  /** Tensors made over views of an owned input (ownsInput), and their bytes: see compactPayloads. */
  private readonly viewTensors: Tensor[] = [];
  private viewBytes = 0;
  /** Windowed mode: the slab small payloads are being copied to, and its bytes in use (payloadTensor). */
  private slab: Uint8Array = NO_SLAB;
  /** The span of the input that holds the input names left as bytes (PendingGraph.inAt), and where its copy starts (releaseInput). */
  private namesFrom = Infinity;
  private namesTo = 0;
  private namesShift = 0;
  private slabUsed = 0;

  constructor(input: Uint8Array | PositionalInput, root: MessageSpec, opts: CoreDecodeOptions) {
    this.opts = opts;
    this.file = opts.file;
    // (the first check at the first field and the second MEMORY_CHECK_SECOND fields later: a
    // call that had not run before TurboFan compiled the decoder's loops would deoptimize them
    // when it first did, ≈ 30 ms on the 100k-node chain. One check at the first field is not
    // enough: `field` has no feedback vector on its first calls (V8 allocates it lazily), so
    // that call leaves no feedback and `node`, into which `field` is inlined, was still
    // deoptimized at the check after MEMORY_CHECK_FIELDS and compiled again.)
    this.memoryTick = opts.memory === undefined ? NO_MEMORY_CHECK : 1;
    const fail = (code: ImportErrorCode, what: string, offset: number | undefined, hint?: string): never => this.fail(code, what, offset, hint);
    this.p = new PathTracker(root, opts.maxDepth ?? 64, fail);
    this.r = new Reader(input, this.p, fail, opts.windowBytes);
    this.r.onInvalidUtf8 = (offset) => this.diag('IMPORT_NON_UTF8', `string at byte ${offset} is not valid UTF-8; decoded with replacement characters`);
  }

  fail(code: ImportErrorCode, what: string, offset: number | undefined = this.r.pos, hint?: string): never {
    throw new ImportError(code, what, { byteOffset: offset, fieldPath: this.p.render(), file: this.file, hint });
  }

  /** Whether a diagnostic passed with `refusal` was kept after the cap (one is enough). */
  private refusalKept = false;

  /**
   * Records a finding. `refusal`: one the load refuses the model for (an initializer defined
   * twice: load.ts's refuseAmbiguous): the first such is kept even past MAX_DIAGNOSTICS, or
   * 10,000 harmless findings before it (repeated metadata keys) would let an ambiguous model
   * through, rewritten to the weights onnxruntime never uses.
   */
  diag(code: string, message: string, fieldPath?: string, refusal = false): void {
    // Each kept costs its message and path (≈ 250 bytes of heap): 12 million repeated metadata
    // keys (a 96 MB file) held 3 GB of them, a few more would abort the process out of memory.
    if (this.diagnostics.length >= MAX_DIAGNOSTICS && !(refusal && !this.refusalKept)) {
      if (this.diagnostics.length === MAX_DIAGNOSTICS) {
        const last: ImportDiagnostic = { code: 'IMPORT_DIAGNOSTICS_LIMIT', message: `more than ${MAX_DIAGNOSTICS} findings; the rest are not listed`, fieldPath: this.p.render() };
        this.diagnostics.push(last);
        this.opts.onDiagnostic?.(last);
      }
      return;
    }
    if (refusal && this.diagnostics.length >= MAX_DIAGNOSTICS) this.refusalKept = true;
    const d: ImportDiagnostic = { code, message, fieldPath: fieldPath ?? this.p.render() };
    this.diagnostics.push(d);
    this.opts.onDiagnostic?.(d);
  }

  /** Wire type and offset of the tag `field()` read last (the caller copies them before decoding further). */
  private w = 0;
  private at = 0;

  /**
   * Reads the next tag before `e`, records its field number in the path at depth `d` (for error
   * locations), sets `w` and `at`, and returns the field number: the head of every message loop.
   */
  private field(e: number, d: number): number {
    if (--this.memoryTick === 0) this.checkMemory();
    const r = this.r;
    const at = r.pos;
    const tag = r.tag(e);
    const f = tag >>> 3;
    this.at = at;
    this.w = tag & 7;
    this.p.field[d] = f;
    return f;
  }

  /** Fields left until the next check of the memory budget (see MemoryBudget). */
  private memoryTick: number;
  /** Checks of the memory budget made so far (see memoryTick). */
  private memoryChecks = 0;
  /** Nodes name resolution has left until its next check of the memory budget. */
  private resolveTick = 1;

  /** Stops the decode with IMPORT_TOO_LARGE when it has taken more memory than its budget allows. */
  private checkMemory(): void {
    const m = this.opts.memory;
    this.memoryTick = m === undefined ? NO_MEMORY_CHECK : this.memoryChecks++ === 0 ? MEMORY_CHECK_SECOND : MEMORY_CHECK_FIELDS;
    if (m === undefined) return;
    const used = m.usedBytes();
    if (used <= m.limitBytes) return;
    const mib = (n: number): string => `${Math.round(n / 2 ** 20)} MiB`;
    this.fail('IMPORT_TOO_LARGE', `the model's structure needs more memory than the import may take (${mib(used)} in use, ${mib(m.limitBytes)} allowed); refusing before the process runs out of memory`, this.r.pos, m.hint);
  }

  private tooManyNodeValues(what: string, at: number): never {
    return this.fail('IMPORT_TOO_LARGE', `a node with more than ${MAX_NODE_VALUES} ${what}`, at, 'the file is corrupt or not an ONNX model');
  }

  private tooManyDims(at: number): never {
    return this.fail('IMPORT_TOO_LARGE', `a shape of more than ${MAX_RANK} dimensions`, at, 'the file is corrupt or not an ONNX model');
  }

  private tooManyValues(what: string, at: number): never {
    return this.fail('IMPORT_TOO_LARGE', `an attribute holds more than ${MAX_ATTRIBUTE_VALUES} ${what}`, at, 'attributes hold shapes and short lists; a constant this large belongs in a tensor');
  }

  private badWire(wire: number, expected: string, at: number): never {
    const d = this.p.depth;
    const spec = this.p.specs[d]!;
    const f = this.p.field[d]!;
    return this.fail('IMPORT_WIRE_TYPE', `${spec.name}.${spec.fields[f] ?? f} (field ${f}) must be ${expected}, found wire type ${WIRE_NAMES[wire]}`, at);
  }

  private len(wire: number, at: number, end: number, what: string): number {
    if (wire !== WIRE_LEN) this.badWire(wire, 'length-delimited', at);
    return this.r.length(end, what);
  }

  /**
   * Where the last node output name read was (an ASCII name, in memory mode), and the string: a
   * node's input is most often the output of the node before it, and comparing its bytes with
   * those is cheaper than hashing them and comparing with a cached string.
   */
  private lastOutAt = -1;
  private lastOutStr = '';
  private lastOutHash = 0;
  /**
   * The node whose last output is the last output read (set when its node() returns; null while a
   * node's outputs are being read, or when that name was not recorded in lastOutAt).
   */
  private lastOutNode: Node | null = null;
  /** Whether the input name inputName() last returned null for matched the last output read. */
  private deferredIsLastOut = false;

  /** Where the input name inputName() last returned null for is (memory mode), and its length. */
  private deferredAt = 0;
  private deferredLen = 0;

  /**
   * A node input name, or null in memory mode for an ASCII name (at most 64 bytes), which is
   * left as bytes (at `deferredAt`): it is only looked up once, in phase 2, so it is compared
   * there as bytes and never made a string unless it names nothing (100k nodes read 60k weight
   * and bias names). The output of the node before (a chain) is recognised by comparing bytes
   * with the last output read (see lastOutAt), whose hash is known.
   */
  private inputName(wire: number, at: number, end: number): string | null {
    const r = this.r;
    const o = this.lastOutAt;
    if (!r.inMemory || wire !== WIRE_LEN) return this.str(wire, at, end);
    const len = r.length(end, 'a string');
    const p = r.pos;
    const buf = r.buf;
    const s = this.lastOutStr;
    if (o >= 0 && len === s.length && len > 0) {
      let i = 0;
      while (i < len && buf[p + i] === buf[o + i]) i++;
      if (i === len) {
        // (left as bytes too: phase 2 takes the previous node's output, see PREV_OUT)
        r.pos = p + len;
        r.lastHash = this.lastOutHash;
        this.deferredAt = p;
        this.deferredLen = len;
        this.deferredIsLastOut = true;
        return null;
      }
    }
    if (len > 0 && len <= 64) {
      const h = r.asciiHash(p, len);
      if (h !== 0) {
        r.pos = p + len;
        r.lastHash = h;
        this.deferredAt = p;
        this.deferredLen = len;
        this.deferredIsLastOut = false;
        return null;
      }
    }
    return r.string(len);
  }

  private str(wire: number, at: number, end: number): string {
    if (wire !== WIRE_LEN) this.badWire(wire, 'a length-delimited string', at);
    return this.r.string(this.r.length(end, 'a string'));
  }

  private varint(wire: number, at: number): void {
    if (wire !== WIRE_VARINT) this.badWire(wire, 'a varint', at);
  }

  /** An int64 field that must fit a JavaScript number (versions, dims). */
  private int64Num(wire: number, at: number, end: number, what: string): number {
    this.varint(wire, at);
    const v = this.r.int64Number(end);
    if (Number.isNaN(v)) this.fail('IMPORT_INVALID', `${what} does not fit in ±2^53`, at);
    return v;
  }

  /** Records the range of a singular message field (merged with earlier occurrences). */
  private range(wire: number, at: number, end: number, ranges: number[] | undefined, what: string): number[] {
    const len = this.len(wire, at, end, what);
    const s = this.r.pos;
    this.r.pos = s + len;
    if (ranges === undefined) return [s, s + len];
    ranges.push(s, s + len);
    return ranges;
  }

  // ------------------------------------------------------------------ ModelProto

  model(): Model {
    const r = this.r;
    const p = this.p;
    const end = r.size;
    if (end === 0) this.fail('IMPORT_NOT_ONNX', 'the input is empty', 0, 'an ONNX model is a non-empty ModelProto file');
    let firstKnown: boolean | undefined;
    let irVersion: number | undefined;
    let producerName = '';
    let producerVersion = '';
    let domain = '';
    let modelVersion = 0n;
    let docString = '';
    let graphRanges: number[] | undefined;
    const opsets = new Map<string, number>();
    let meta: Map<string, string> | undefined;
    const training: TrainingInfo[] = [];
    const functions: OnnxFunction[] = [];
    let unknown: Uint8Array[] | undefined;
    try {
      while (r.pos < end) {
        const f = this.field(end, 0), w = this.w, at = this.at;
        if (firstKnown === undefined) firstKnown = MODEL_WIRE[f] === w;
        switch (f) {
          case ModelFields.ir_version:
            irVersion = this.int64Num(w, at, end, 'ir_version');
            break;
          case ModelFields.producer_name:
            producerName = this.str(w, at, end);
            break;
          case ModelFields.producer_version:
            producerVersion = this.str(w, at, end);
            break;
          case ModelFields.domain:
            domain = this.str(w, at, end);
            break;
          case ModelFields.model_version:
            this.varint(w, at);
            modelVersion = r.int64Big(end);
            break;
          case ModelFields.doc_string:
            docString = this.str(w, at, end);
            break;
          case ModelFields.graph:
            graphRanges = this.range(w, at, end, graphRanges, 'the graph');
            break;
          case ModelFields.opset_import: {
            const len = this.len(w, at, end, 'an opset import');
            const s = r.pos;
            this.opset(s, s + len, opsets, 'opset_import', opsets.size);
            r.pos = s + len;
            break;
          }
          case ModelFields.metadata_props: {
            const len = this.len(w, at, end, 'a metadata entry');
            meta = this.entryInto(r.pos, r.pos + len, meta ?? new Map(), 'metadata_props');
            break;
          }
          case ModelFields.training_info: {
            const len = this.len(w, at, end, 'a training_info');
            const s = r.pos;
            training.push(this.trainingInfo(s, s + len, training.length));
            r.pos = s + len;
            break;
          }
          case ModelFields.functions: {
            const len = this.len(w, at, end, 'a function');
            const s = r.pos;
            functions.push(this.function(s, s + len, functions.length));
            r.pos = s + len;
            break;
          }
          default:
            (unknown ??= []).push(r.unknown(at, w, end, f));
        }
      }
      p.field[0] = 0;
      if (graphRanges === undefined && irVersion === undefined) {
        this.fail('IMPORT_NOT_ONNX', `not an ONNX model: no ir_version and no graph field${sniffFormat(r)}`, 0, 'pass an .onnx file (a serialized ModelProto)');
      }
    } catch (e) {
      if (e instanceof ImportError && e.code !== 'IMPORT_NOT_ONNX' && firstKnown === false) {
        throw new ImportError('IMPORT_NOT_ONNX', `not an ONNX model: its first bytes are not a ModelProto field${sniffFormat(r)}`, {
          byteOffset: 0,
          fieldPath: 'ModelProto',
          file: this.file,
          hint: 'pass an .onnx file (a serialized ModelProto)',
          cause: e,
        });
      }
      throw e;
    }
    let graph: Graph;
    if (graphRanges !== undefined) {
      graph = this.graph(graphRanges, 'graph', -1);
    } else {
      graph = new Graph();
      this.pending.set(graph, pendingGraph(graph, 'ModelProto.graph'));
      this.diag('IMPORT_NO_GRAPH', 'the model has no graph', 'ModelProto');
    }
    const model = new Model({
      graph,
      irVersion: irVersion ?? 0,
      opsetImports: opsets,
      producerName,
      producerVersion,
      domain,
      modelVersion,
      docString,
      metadataProps: meta ?? new Map(),
      functions,
      trainingInfo: training,
    });
    model.unknownFields = unknown;
    if (this.opts.ownsInput === true) this.releaseInput();
    this.resolveModel(model);
    if (this.opts.ownsInput === true) this.compactPayloads();
    return model;
  }

  /**
   * Before name resolution, when the input is an owned buffer of its own of which the decode
   * handed out no view (`viewsOut`: a lazy-weights import, see load's `lazyWeightsFrom`): copies
   * the span of the input that holds the input names phase 2 reads as bytes (PendingGraph.inAt)
   * into a buffer of its own and detaches the input, whose bytes are then freed by the next
   * scavenge instead of the next full collection. Name resolution (the name table, the values of
   * every node's inputs, the use lists) was the import's last and largest growth, on top of the
   * whole file: on the 100k-node chain with a weight per block (a 29 MB file, whose nodes span
   * ≈ 5 MB of it) the end of the import was the peak of `optimize -q`.
   */
  private releaseInput(): void {
    const r = this.r;
    const input = r.buf;
    if (!r.inMemory || r.base !== 0 || r.viewsOut !== 0 || this.viewTensors.length !== 0) return;
    const whole = input.buffer;
    if (!(whole instanceof ArrayBuffer) || input.byteOffset !== 0 || input.byteLength !== whole.byteLength) return;
    // The span of the input the names lie in (the nodes' part of the file, not the weights'),
    // copied at once; when they are spread over most of the input, the copy would save little.
    const from = this.namesFrom < this.namesTo ? this.namesFrom : 0;
    const to = Math.max(from, this.namesTo);
    if ((to - from) * 2 > input.byteLength) return;
    const names = input.slice(from, to);
    this.namesShift = from;
    r.buf = names;
    // (a transfer moves the bytes to a new, unreferenced ArrayBuffer: a young one, which a
    // scavenge frees, where the input's own is old by now)
    structuredClone(whole, { transfer: [whole] });
  }


  /**
   * When every view of the input the decode handed out is a tensor payload (`viewsOut` counts
   * them) and those payloads are at most half of the input, copies them into one buffer of
   * their own: the input buffer (the whole file) is then garbage once the decode returns, where
   * one view would keep all of it alive for the rest of the run. A weightless graph (the 100k-node
   * shared-weight chain: 6.6 MB of file for 1.1 kB of weights) is mostly structure, which the IR
   * holds as objects; a weighted one keeps its views (no copy of its weights). Copying the 100k
   * chain with a weight per block too (payloads 74 % of its 29 MB file, threshold 7/8) raised its
   * peak RSS: the copy and the file coexist at the end of the import, and that became the peak
   * (`optimize -q`, 5 alternating runs: 184 against 181 MiB; the later phases were ≈ 4 MiB lower).
   */
  private compactPayloads(): void {
    const r = this.r;
    const tensors = this.viewTensors;
    if (!r.inMemory || r.viewsOut !== tensors.length || this.viewBytes * 2 > r.size) return;
    // 8-byte aligned slots, so a payload can be viewed as any typed array without a copy.
    let size = 0;
    for (const t of tensors) size += (t.byteLength + 7) & ~7;
    const pool = new Uint8Array(size);
    let o = 0;
    for (const t of tensors) {
      const old = t.bytes();
      pool.set(old, o);
      t._rebase(pool, o);
      o += (old.byteLength + 7) & ~7;
    }
    tensors.length = 0;
  }

  private opset(s: number, e: number, into: Map<string, number>, field: string, index: number): void {
    const r = this.r;
    const p = this.p;
    p.enter(field, index, OpsetSpec, s);
    const d = p.depth;
    let domain = '';
    let hasDomain = false;
    let version = 0;
    let unknown: Uint8Array[] | undefined;
    r.pos = s;
    while (r.pos < e) {
      const f = this.field(e, d), w = this.w, at = this.at;
      if (f === OpsetFields.domain) {
        domain = this.str(w, at, e);
        hasDomain = true;
      } else if (f === OpsetFields.version) version = this.int64Num(w, at, e, 'opset version');
      else (unknown ??= []).push(r.unknown(at, w, e, f));
    }
    p.field[d] = 0;
    if (into.has(domain)) this.diag('IMPORT_DUPLICATE_KEY', `opset domain '${domain}' is imported twice; the last version (${version}) is kept`);
    into.set(domain, version);
    setExtras(into, `opset:${domain}`, unknown);
    if (!hasDomain) markPresent(into, `opset-no-domain:${domain}`);
    p.leave();
  }

  /** Decodes a StringStringEntryProto into `into` (duplicate keys: last wins, with a diagnostic). */
  private entryInto(s: number, e: number, into: Map<string, string>, field: string): Map<string, string> {
    const r = this.r;
    const p = this.p;
    p.enter(field, into.size, EntrySpec, s);
    const d = p.depth;
    let key = '';
    let value = '';
    let unknown: Uint8Array[] | undefined;
    r.pos = s;
    while (r.pos < e) {
      const f = this.field(e, d), w = this.w, at = this.at;
      if (f === EntryFields.key) key = this.str(w, at, e);
      else if (f === EntryFields.value) value = this.str(w, at, e);
      else (unknown ??= []).push(r.unknown(at, w, e, f));
    }
    p.field[d] = 0;
    if (into.has(key)) this.diag('IMPORT_DUPLICATE_KEY', `key '${key}' appears twice; the last value is kept`);
    into.set(key, value);
    setExtras(into, `entry:${key}`, unknown);
    p.leave();
    r.pos = e;
    return into;
  }

  /** Decodes a StringStringEntryProto as a pair (for bindings, which may repeat keys). */
  private pair(s: number, e: number, field: string, index: number): [string, string] {
    const r = this.r;
    const p = this.p;
    p.enter(field, index, EntrySpec, s);
    const d = p.depth;
    let key = '';
    let value = '';
    let unknown: Uint8Array[] | undefined;
    r.pos = s;
    while (r.pos < e) {
      const f = this.field(e, d), w = this.w, at = this.at;
      if (f === EntryFields.key) key = this.str(w, at, e);
      else if (f === EntryFields.value) value = this.str(w, at, e);
      else (unknown ??= []).push(r.unknown(at, w, e, f));
    }
    p.field[d] = 0;
    p.leave();
    r.pos = e;
    const pair: [string, string] = [key, value];
    setExtras(pair, 'entry', unknown);
    return pair;
  }

  // ------------------------------------------------------------------ GraphProto

  graph(ranges: number[], field: string, index: number): Graph {
    const r = this.r;
    const p = this.p;
    p.enter(field, index, GraphSpec, ranges[0]!);
    const d = p.depth;
    const g = new Graph();
    const pg: PendingGraph = pendingGraph(g, p.render(false));
    const initCount = r.inMemory && r.base === 0 ? presize(pg, r.buf, ranges) : 0;
    this.pending.set(g, pg);
    const inputs: Value[] = [];
    // (presized, filled by index: see presize)
    const initializers: Tensor[] = initCount > 0 ? new Array<Tensor>(initCount) : [];
    const initHashes: number[] = initCount > 0 ? new Array<number>(initCount) : [];
    let nodeCount = 0;
    let initializerCount = 0;
    const sparse: SparseTensor[] = [];
    let unknown: Uint8Array[] | undefined;
    for (let k = 0; k < ranges.length; k += 2) {
      const e = ranges[k + 1]!;
      r.pos = ranges[k]!;
      while (r.pos < e) {
        const f = this.field(e, d), w = this.w, at = this.at;
        switch (f) {
          case GraphFields.node: {
            const len = this.len(w, at, e, 'a node');
            const s = r.pos;
            pg.nodes[nodeCount] = this.node(s, s + len, nodeCount, pg);
            nodeCount++;
            r.pos = s + len;
            break;
          }
          case GraphFields.name:
            g.name = this.str(w, at, e);
            break;
          case GraphFields.initializer: {
            const len = this.len(w, at, e, 'an initializer');
            const s = r.pos;
            const range = this.initRange;
            range[0] = s;
            range[1] = s + len;
            initializers[initializerCount] = this.tensor(range, 'initializer', initializerCount);
            initHashes[initializerCount++] = this.tensorNameHash;
            r.pos = s + len;
            break;
          }
          case GraphFields.doc_string:
            g.docString = this.str(w, at, e);
            break;
          case GraphFields.input:
          case GraphFields.output:
          case GraphFields.value_info: {
            const len = this.len(w, at, e, 'a value info');
            const s = r.pos;
            const list = f === GraphFields.input ? inputs : f === GraphFields.output ? pg.outputs : pg.valueInfos;
            list.push(this.valueInfo(s, s + len, GraphSpec.fields[f]!, list.length));
            r.pos = s + len;
            break;
          }
          case GraphFields.quantization_annotation: {
            const len = this.len(w, at, e, 'a quantization annotation');
            const s = r.pos;
            g.quantizationAnnotations.push(this.annotation(s, s + len, g.quantizationAnnotations.length));
            r.pos = s + len;
            break;
          }
          case GraphFields.sparse_initializer: {
            const len = this.len(w, at, e, 'a sparse initializer');
            const s = r.pos;
            sparse.push(this.sparseTensor([s, s + len], 'sparse_initializer', sparse.length));
            r.pos = s + len;
            break;
          }
          case GraphFields.metadata_props: {
            const len = this.len(w, at, e, 'a metadata entry');
            this.entryInto(r.pos, r.pos + len, g.metadataProps, 'metadata_props');
            break;
          }
          default:
            (unknown ??= []).push(r.unknown(at, w, e, f));
        }
      }
    }
    p.field[d] = 0;
    // (counted from the same bytes, so these hold already unless a count was not made)
    if (pg.nodes.length !== nodeCount) pg.nodes.length = nodeCount;
    if (initializers.length !== initializerCount) initializers.length = initHashes.length = initializerCount;
    g.unknownFields = unknown;
    this.assembleGraph(pg, inputs, initializers, initHashes, sparse);
    p.leave();
    return g;
  }

  /** Adds inputs, initializers (merging IR<4 input+initializer pairs into one Value) and nodes. */
  private assembleGraph(pg: PendingGraph, inputs: Value[], initializers: Tensor[], initHashes: number[], sparse: SparseTensor[]): void {
    const g = pg.graph;
    const byName = new Map<string, Value>();
    for (const v of inputs) {
      g.addInput(v);
      this.claimed.add(v);
      if (v.name !== '' && !byName.has(v.name)) byName.set(v.name, v);
    }
    const inits = g.initializers;
    // (presized, filled by index: 40k entries on the 100k-node chain, whose growth by push left
    // large dead arrays at the import's peak)
    const initHash = initializers.length > 0 ? new Array<number>(initializers.length) : pg.initHash;
    const initValues = initializers.length > 0 ? new Array<Value>(initializers.length) : pg.initValues;
    let kept = 0;
    for (let i = 0; i < initializers.length; i++) {
      const t = initializers[i]!;
      const name = t.name;
      // (error paths are rendered only when needed: a model may have 100k initializers)
      if (name === '') this.failPath('IMPORT_INVALID', 'an initializer has no name', `${pg.path}.initializer[${i}]`, 'every initializer needs a name that nodes refer to');
      const input = byName.size === 0 ? undefined : byName.get(name);
      let v: Value;
      if (input !== undefined && !input.isInitializer) {
        input.constValue = t;
        v = input;
      } else if (!inits.has(name)) {
        // (no init object: what new Value({ name, constValue, type }) would set)
        v = Value._named(name);
        v.type = this.initializerType(t.dtype, t.dims);
        v.constValue = t;
      } else {
        this.diag('IMPORT_DUPLICATE_NAME', `initializer '${name}' is defined twice; the first definition is kept`, `${pg.path}.initializer[${i}]`, true);
        continue;
      }
      g.addInitializer(v);
      initHash[kept] = initHashes[i]!;
      initValues[kept++] = v;
    }
    if (initHash.length !== kept) initHash.length = initValues.length = kept;
    pg.initHash = initHash;
    pg.initValues = initValues;
    sparse.forEach((s, i) => {
      const name = s.values.name;
      const path = `${pg.path}.sparse_initializer[${i}]`;
      if (name === '') this.failPath('IMPORT_INVALID', 'a sparse initializer has no name (values.name)', path);
      if (g.sparseInitializers.has(name) || g.initializers.has(name)) {
        this.diag('IMPORT_DUPLICATE_NAME', `sparse initializer '${name}' is defined twice; the first definition is kept`, path, true);
        return;
      }
      const input = byName.get(name);
      const v = input !== undefined && !input.isInitializer ? input : new Value({ name, type: { kind: 'sparse_tensor', elemType: s.values.dtype, shape: s.dims } });
      v.sparseValue = s;
      g.addSparseInitializer(v);
    });
    appendAll(g, pg.nodes);
  }

  /**
   * Initializer types by their (shared, frozen: see Tensor) dims, `initTypes.get(dims)[dtype]`:
   * types are immutable, and the initializers of a model have a few shapes, so values share them
   * (one object per initializer was 40k surviving objects on the 100k-node chain).
   */
  private readonly initTypes = new Map<readonly number[], TensorType[]>();

  private initializerType(elemType: DataType, shape: readonly number[]): TensorType {
    let byType = this.initTypes.get(shape);
    if (byType === undefined) {
      byType = [];
      // (bounded: dims past Tensor's shared set are copies, each its own key)
      if (this.initTypes.size < 4096) this.initTypes.set(shape, byType);
    }
    return (byType[elemType] ??= { kind: 'tensor', elemType, shape });
  }

  private failPath(code: ImportErrorCode, what: string, fieldPath: string, hint?: string): never {
    throw new ImportError(code, what, { fieldPath, file: this.file, hint });
  }

  // ------------------------------------------------------------------ NodeProto

  /** Decodes a NodeProto; its input names are appended to `pg`'s for phase 2. */
  private node(s: number, e: number, index: number, pg: PendingGraph): Node {
    const r = this.r;
    const p = this.p;
    p.enter('node', index, NodeSpec, s);
    const d = p.depth;
    // Output names go on a stack shared by nested nodes (subgraphs in attributes truncate it
    // back to where they started), so no per-node array outlives this call.
    const outputs = this.outputNames;
    const out0 = this.outputTop;
    const in0 = pg.inputCount;
    let name = '';
    let opType = '';
    let domain = '';
    let overload = '';
    let docString = '';
    let hasDomain = false;
    let hasName = false;
    let meta: Map<string, string> | undefined;
    const attrs = this.attributeStack;
    const a0 = this.attributeTop;
    let unknown: Uint8Array[] | undefined;
    /** lastOutAt as this node's last output left it (-1: none, or not recorded). */
    let ownLastOutAt = -1;
    r.pos = s;
    while (r.pos < e) {
      const f = this.field(e, d), w = this.w, at = this.at;
      switch (f) {
        case NodeFields.input: {
          if (pg.inputCount - in0 >= MAX_NODE_VALUES) this.tooManyNodeValues('inputs', at);
          const name = this.inputName(w, at, e);
          const j = pg.inputCount++;
          pushInputHash(pg, j, r.lastHash);
          if (name === null) {
            const nameAt = this.deferredAt;
            pg.inAt[j] = nameAt;
            if (nameAt < this.namesFrom) this.namesFrom = nameAt;
            if (nameAt + this.deferredLen > this.namesTo) this.namesTo = nameAt + this.deferredLen;
            // The last output read, when it is the last output of the node before this one in
            // this graph (a chain): phase 2 takes that Value without comparing the name again.
            const lastOut = this.deferredIsLastOut && this.lastOutNode !== null && index > 0 && this.lastOutNode === pg.nodes[index - 1];
            pg.inLen[j] = lastOut ? this.deferredLen | PREV_OUT : this.deferredLen;
          } else pg.inLen[j] = name === '' ? 0 : -pg.inputStrings.push(name);
          break;
        }
        case NodeFields.output: {
          if (w !== WIRE_LEN) this.badWire(w, 'a length-delimited string', at);
          if (this.outputTop - out0 >= MAX_NODE_VALUES) this.tooManyNodeValues('outputs', at);
          const out = r.hashedString(r.length(e, 'a string'));
          outputs[this.outputTop] = out;
          this.outputHashes[this.outputTop++] = r.lastHash;
          if (r.lastHash !== 0 && r.inMemory) {
            this.lastOutAt = r.pos - out.length;
            this.lastOutStr = out;
            this.lastOutHash = r.lastHash;
          } else this.lastOutAt = -1;
          this.lastOutNode = null;
          ownLastOutAt = this.lastOutAt;
          break;
        }
        case NodeFields.name:
          if (w !== WIRE_LEN) this.badWire(w, 'a length-delimited string', at);
          name = r.uniqueString(r.length(e, 'a string'));
          hasName = true;
          break;
        case NodeFields.op_type:
          opType = this.str(w, at, e);
          break;
        case NodeFields.attribute: {
          const len = this.len(w, at, e, 'an attribute');
          const as = r.pos;
          const attr = this.attribute(as, as + len, this.attributeTop - a0);
          attrs[this.attributeTop++] = attr;
          r.pos = as + len;
          break;
        }
        case NodeFields.doc_string:
          docString = this.str(w, at, e);
          break;
        case NodeFields.domain:
          domain = this.str(w, at, e);
          hasDomain = true;
          break;
        case NodeFields.overload:
          overload = this.str(w, at, e);
          break;
        case NodeFields.metadata_props: {
          const len = this.len(w, at, e, 'a metadata entry');
          meta = this.entryInto(r.pos, r.pos + len, meta ?? new Map(), 'metadata_props');
          break;
        }
        default:
          (unknown ??= []).push(r.unknown(at, w, e, f));
      }
    }
    p.field[d] = 0;
    const a1 = this.attributeTop;
    if (a1 - a0 > 1) {
      const seen = new Set<string>();
      for (let i = a0; i < a1; i++) {
        const a = attrs[i]!;
        if (seen.has(a.name)) this.diag('IMPORT_DUPLICATE_KEY', `node '${name || opType}' has two attributes named '${a.name}'; the last is kept`);
        seen.add(a.name);
      }
    }
    const node = Node._decoded(opType, domain, name, outputs, out0, this.outputTop);
    // (a node of a subgraph in an attribute read after the outputs has its own last output)
    if (ownLastOutAt >= 0 && ownLastOutAt === this.lastOutAt) this.lastOutNode = node;
    for (let k = out0; k < this.outputTop; k++) pushHash(pg, this.outputHashes[k] || nameHash(outputs[k]!));
    this.outputTop = out0;
    node._setAttributes(attrs, a0, a1);
    this.attributeTop = a0;
    if (overload !== '') node.overload = overload;
    if (docString !== '') node.docString = docString;
    if (meta !== undefined) node.metadataProps = meta;
    if (unknown !== undefined) node.unknownFields = unknown;
    if (hasDomain && domain === '') markPresent(node, 'domain');
    if (hasName && name === '') markPresent(node, 'name');
    if (index === pg.inputEnd.length) pg.inputEnd = grown(pg.inputEnd);
    pg.inputEnd[index] = pg.inputCount;
    p.leave();
    return node;
  }

  // ------------------------------------------------------------------ AttributeProto

  /**
   * Attributes decoded from the same bytes share one object: an Attribute is immutable (a clone
   * of a graph shares its attributes too), and a model repeats most of them on node after node
   * (LeakyRelu's alpha, a Conv's strides and pads), each one a few surviving objects (an INTS
   * holds a bigint per element). Only scalar and numeric-list attributes whose decode reported
   * nothing and kept no raw bits are shared.
   */
  private readonly sharedAttributes = new SharedByBytes<Attribute>();

  private attribute(s: number, e: number, index: number): Attribute {
    const r = this.r;
    const p = this.p;
    p.enter('attribute', index, AttributeSpec, s);
    const key = r.inMemory ? this.sharedAttributes.key(r.buf, s, e) : 0;
    if (key !== 0) {
      const shared = this.sharedAttributes.get(r.buf, s, e, key);
      if (shared !== undefined) {
        r.pos = e;
        p.leave();
        return shared;
      }
    }
    const diagnostics = this.diagnostics.length;
    const d = p.depth;
    let name = '';
    let ref = '';
    let docString = '';
    let type = -1;
    let fv: number | undefined;
    let fvAt = -1;
    let iv: bigint | undefined;
    let sv: Uint8Array | undefined;
    let tR: number[] | undefined;
    let gR: number[] | undefined;
    let spR: number[] | undefined;
    let tpR: number[] | undefined;
    let floats: number[] | undefined;
    let floatsAt: number[] | undefined;
    let ints: bigint[] | undefined;
    let strings: Uint8Array[] | undefined;
    let tensors: Tensor[] | undefined;
    let graphs: Graph[] | undefined;
    let sparses: SparseTensor[] | undefined;
    let tps: TypeInfo[] | undefined;
    let unknown: Uint8Array[] | undefined;
    r.pos = s;
    while (r.pos < e) {
      const f = this.field(e, d), w = this.w, at = this.at;
      switch (f) {
        case AttributeFields.name:
          name = this.str(w, at, e);
          break;
        case AttributeFields.f:
          if (w !== WIRE_I32) this.badWire(w, 'fixed32', at);
          fvAt = r.pos;
          fv = r.float32(e);
          break;
        case AttributeFields.i:
          this.varint(w, at);
          iv = r.int64Big(e);
          break;
        case AttributeFields.s:
          sv = r.bytes(this.len(w, at, e, 'a string'));
          break;
        case AttributeFields.t:
          tR = this.range(w, at, e, tR, 'a tensor');
          break;
        case AttributeFields.g:
          gR = this.range(w, at, e, gR, 'a graph');
          break;
        case AttributeFields.floats:
          floats ??= [];
          if (w === WIRE_LEN) {
            const len = r.length(e, 'packed floats');
            if (len % 4 !== 0) this.fail('IMPORT_INVALID', `packed floats hold ${len} bytes, not a multiple of 4`, at);
            const end = r.pos + len;
            floatsAt ??= [];
            if (floats.length + len / 4 > MAX_ATTRIBUTE_VALUES) this.tooManyValues('floats', at);
            while (r.pos < end) {
              floatsAt.push(r.pos);
              floats.push(r.float32(end));
            }
            if (len >= MEMORY_CHECK_VALUES_BYTES) this.checkMemory(); // (not for every pads or strides)
          } else if (w === WIRE_I32) {
            if (floats.length >= MAX_ATTRIBUTE_VALUES) this.tooManyValues('floats', at);
            (floatsAt ??= []).push(r.pos);
            floats.push(r.float32(e));
          } else this.badWire(w, 'fixed32 or packed', at);
          break;
        case AttributeFields.ints:
          ints ??= [];
          if (w === WIRE_LEN) {
            const len = r.length(e, 'packed ints');
            const end = r.pos + len;
            // (a value takes a byte at least: a shorter run cannot pass the cap; a longer one is
            // read up to it, its count unknown until read)
            if (ints.length + Math.min(len, MAX_ATTRIBUTE_VALUES + 1) > MAX_ATTRIBUTE_VALUES) {
              while (r.pos < end && ints.length <= MAX_ATTRIBUTE_VALUES) ints.push(r.int64Big(end));
              if (ints.length > MAX_ATTRIBUTE_VALUES) this.tooManyValues('ints', at);
            } else while (r.pos < end) ints.push(r.int64Big(end));
            if (len >= MEMORY_CHECK_VALUES_BYTES) this.checkMemory();
          } else if (w === WIRE_VARINT) {
            if (ints.length >= MAX_ATTRIBUTE_VALUES) this.tooManyValues('ints', at);
            ints.push(r.int64Big(e));
          }
          else this.badWire(w, 'varint or packed', at);
          break;
        case AttributeFields.strings:
          if ((strings ??= []).length >= MAX_ATTRIBUTE_VALUES) this.tooManyValues('strings', at);
          strings.push(r.bytes(this.len(w, at, e, 'a string')));
          break;
        case AttributeFields.tensors: {
          const len = this.len(w, at, e, 'a tensor');
          const ts = r.pos;
          tensors ??= [];
          tensors.push(this.tensor([ts, ts + len], 'tensors', tensors.length));
          r.pos = ts + len;
          break;
        }
        case AttributeFields.graphs: {
          const len = this.len(w, at, e, 'a graph');
          const gs = r.pos;
          graphs ??= [];
          graphs.push(this.graph([gs, gs + len], 'graphs', graphs.length));
          r.pos = gs + len;
          break;
        }
        case AttributeFields.doc_string:
          docString = this.str(w, at, e);
          break;
        case AttributeFields.tp:
          tpR = this.range(w, at, e, tpR, 'a type proto');
          break;
        case AttributeFields.type_protos: {
          const len = this.len(w, at, e, 'a type proto');
          const ts = r.pos;
          tps ??= [];
          tps.push(this.type([ts, ts + len], 'type_protos', tps.length));
          r.pos = ts + len;
          break;
        }
        case AttributeFields.type:
          this.varint(w, at);
          type = r.int32(e);
          break;
        case AttributeFields.ref_attr_name:
          ref = this.str(w, at, e);
          break;
        case AttributeFields.sparse_tensor:
          spR = this.range(w, at, e, spR, 'a sparse tensor');
          break;
        case AttributeFields.sparse_tensors: {
          const len = this.len(w, at, e, 'a sparse tensor');
          const ss = r.pos;
          sparses ??= [];
          sparses.push(this.sparseTensor([ss, ss + len], 'sparse_tensors', sparses.length));
          r.pos = ss + len;
          break;
        }
        default:
          (unknown ??= []).push(r.unknown(at, w, e, f));
      }
    }
    p.field[d] = 0;
    if (type === -1) {
      // IR version 1 had no type field: infer it from the value present (onnx's order).
      type =
        fv !== undefined ? AttributeType.FLOAT
        : iv !== undefined ? AttributeType.INT
        : sv !== undefined ? AttributeType.STRING
        : tR ? AttributeType.TENSOR
        : gR ? AttributeType.GRAPH
        : spR ? AttributeType.SPARSE_TENSOR
        : tpR ? AttributeType.TYPE_PROTO
        : floats ? AttributeType.FLOATS
        : ints ? AttributeType.INTS
        : strings ? AttributeType.STRINGS
        : tensors ? AttributeType.TENSORS
        : graphs ? AttributeType.GRAPHS
        : sparses ? AttributeType.SPARSE_TENSORS
        : tps ? AttributeType.TYPE_PROTOS
        : AttributeType.UNDEFINED;
      if (type !== AttributeType.UNDEFINED) this.diag('IMPORT_ATTRIBUTE_TYPE', `attribute '${name}' has no type field; inferred ${AttributeType[type]}`);
    }
    // (most attributes have none of these: one shared options object instead of one each)
    const opts = docString === '' && ref === '' && unknown === undefined ? NO_ATTRIBUTE_OPTIONS : { docString, refAttrName: ref, unknownFields: unknown };
    let attr: Attribute;
    let raw: Uint8Array[] | undefined;
    if (ref !== '') {
      attr = new Attribute(name, type as AttributeType, null, opts);
    } else {
      let value: Attribute['value'];
      switch (type) {
        case AttributeType.FLOAT:
          value = fv ?? 0;
          break;
        case AttributeType.INT:
          value = iv ?? 0n;
          break;
        case AttributeType.STRING: {
          const b = sv ?? new Uint8Array(0);
          const text = this.utf8(b);
          if (text.lossy) raw = [b];
          value = text.value;
          break;
        }
        case AttributeType.TENSOR:
          if (tR === undefined) this.fail('IMPORT_INVALID', `attribute '${name}' is TENSOR but has no t field`, s);
          value = this.tensor(tR, 't', -1);
          break;
        case AttributeType.GRAPH:
          if (gR === undefined) this.fail('IMPORT_INVALID', `attribute '${name}' is GRAPH but has no g field`, s);
          value = this.graph(gR, 'g', -1);
          break;
        case AttributeType.SPARSE_TENSOR:
          if (spR === undefined) this.fail('IMPORT_INVALID', `attribute '${name}' is SPARSE_TENSOR but has no sparse_tensor field`, s);
          value = this.sparseTensor(spR, 'sparse_tensor', -1);
          break;
        case AttributeType.TYPE_PROTO:
          if (tpR === undefined) this.fail('IMPORT_INVALID', `attribute '${name}' is TYPE_PROTO but has no tp field`, s);
          value = this.type(tpR, 'tp', -1);
          break;
        case AttributeType.FLOATS:
          value = floats ?? [];
          break;
        case AttributeType.INTS:
          value = ints ?? [];
          break;
        case AttributeType.STRINGS: {
          const list = strings ?? [];
          let lossy = false;
          value = list.map((b) => {
            const t = this.utf8(b);
            lossy ||= t.lossy;
            return t.value;
          });
          if (lossy) raw = list;
          break;
        }
        case AttributeType.TENSORS:
          value = tensors ?? [];
          break;
        case AttributeType.GRAPHS:
          value = graphs ?? [];
          break;
        case AttributeType.SPARSE_TENSORS:
          value = sparses ?? [];
          break;
        case AttributeType.TYPE_PROTOS:
          value = tps ?? [];
          break;
        default:
          if (type === AttributeType.UNDEFINED) this.fail('IMPORT_INVALID', `attribute '${name}' has neither a type nor a value`, s);
          return this.fail('IMPORT_INVALID', `attribute '${name}' has type ${type}, which is not an ONNX attribute type`, s, 'the file is corrupt or from a newer ONNX than onnxkit knows');
      }
      const present =
        +(fv !== undefined) + +(iv !== undefined) + +(sv !== undefined) + +(tR !== undefined) + +(gR !== undefined) + +(spR !== undefined) + +(tpR !== undefined) +
        +(floats !== undefined) + +(ints !== undefined) + +(strings !== undefined) + +(tensors !== undefined) + +(graphs !== undefined) + +(sparses !== undefined) + +(tps !== undefined);
      if (present > 1) this.diag('IMPORT_ATTRIBUTE_VALUES', `attribute '${name}' (${AttributeType[type]}) carries ${present} value fields; only the one its type names is kept`);
      attr = new Attribute(name, type as AttributeType, value, opts);
    }
    if (raw !== undefined) setRawAttributeStrings(attr, raw);
    let rawFloats = false;
    // NaN payloads (signaling NaNs in particular) do not survive a JS number; keep the bits.
    if (ref === '' && type === AttributeType.FLOAT && fv !== undefined && Number.isNaN(fv)) {
      setRawAttributeFloats(attr, r.bytesAt(fvAt, 4));
      rawFloats = true;
    }
    if (ref === '' && type === AttributeType.FLOATS && floats !== undefined && floats.some(Number.isNaN)) {
      const bits = new Uint8Array(4 * floatsAt!.length);
      floatsAt!.forEach((at, i) => bits.set(r.peekAt(at, 4), 4 * i));
      setRawAttributeFloats(attr, bits);
      rawFloats = true;
    }
    if (
      key !== 0 && opts === NO_ATTRIBUTE_OPTIONS && !rawFloats && this.diagnostics.length === diagnostics &&
      (type === AttributeType.FLOAT || type === AttributeType.INT || type === AttributeType.FLOATS || type === AttributeType.INTS)
    ) {
      this.sharedAttributes.add(key, s, e, attr);
    }
    p.leave();
    return attr;
  }

  private utf8(b: Uint8Array): { value: string; lossy: boolean } {
    try {
      return { value: fatalDecoder.decode(b), lossy: false };
    } catch {
      this.diag('IMPORT_NON_UTF8', 'an attribute string is not valid UTF-8; its bytes are kept for re-encoding, the text has replacement characters');
      return { value: lossyDecoder.decode(b), lossy: true };
    }
  }

  // ------------------------------------------------------------------ ValueInfoProto

  private valueInfo(s: number, e: number, field: string, index: number): Value {
    const r = this.r;
    const p = this.p;
    p.enter(field, index, ValueInfoSpec, s);
    const d = p.depth;
    let name = '';
    let typeR: number[] | undefined;
    let docString = '';
    let meta: Map<string, string> | undefined;
    let unknown: Uint8Array[] | undefined;
    r.pos = s;
    while (r.pos < e) {
      const f = this.field(e, d), w = this.w, at = this.at;
      switch (f) {
        case ValueInfoFields.name:
          name = this.str(w, at, e);
          break;
        case ValueInfoFields.type:
          typeR = this.range(w, at, e, typeR, 'a type');
          break;
        case ValueInfoFields.doc_string:
          docString = this.str(w, at, e);
          break;
        case ValueInfoFields.metadata_props: {
          const len = this.len(w, at, e, 'a metadata entry');
          meta = this.entryInto(r.pos, r.pos + len, meta ?? new Map(), 'metadata_props');
          break;
        }
        default:
          (unknown ??= []).push(r.unknown(at, w, e, f));
      }
    }
    p.field[d] = 0;
    const type = typeR === undefined ? null : this.type(typeR, 'type', -1);
    // (what new Value({ name, type, docString, metadataProps }) sets, without the init object)
    const v = Value._named(name);
    v.type = type;
    if (docString !== '') v.docString = docString;
    if (meta !== undefined) v.metadataProps = meta;
    v.unknownFields = unknown;
    p.leave();
    return v;
  }

  // ------------------------------------------------------------------ TypeProto

  /**
   * Types decoded from the same bytes (a value_info per value repeats a few shapes), shared as
   * attributes are (TypeInfo is immutable): those whose decode reported nothing and left no
   * unknown fields (kept with the object, as views of the input).
   */
  private readonly sharedTypes = new SharedByBytes<TypeInfo>();

  type(ranges: number[], field: string, index: number): TypeInfo {
    const r = this.r;
    const p = this.p;
    p.enter(field, index, TypeSpec, ranges[0]!);
    const key = r.inMemory && ranges.length === 2 ? this.sharedTypes.key(r.buf, ranges[0]!, ranges[1]!) : 0;
    if (key !== 0) {
      const shared = this.sharedTypes.get(r.buf, ranges[0]!, ranges[1]!, key);
      if (shared !== undefined) {
        r.pos = ranges[1]!;
        p.leave();
        return shared;
      }
    }
    const diagnostics = this.diagnostics.length;
    const d = p.depth;
    let which = 0;
    let inner: number[] | undefined;
    let denotation: string | undefined;
    let unknown: Uint8Array[] | undefined;
    for (let k = 0; k < ranges.length; k += 2) {
      const e = ranges[k + 1]!;
      r.pos = ranges[k]!;
      while (r.pos < e) {
        const f = this.field(e, d), w = this.w, at = this.at;
        switch (f) {
          case TypeFields.tensor_type:
          case TypeFields.sequence_type:
          case TypeFields.map_type:
          case TypeFields.opaque_type:
          case TypeFields.sparse_tensor_type:
          case TypeFields.optional_type:
            // A oneof: a different member replaces the previous one; the same member merges.
            if (which !== f) inner = undefined;
            which = f;
            inner = this.range(w, at, e, inner, 'a type');
            break;
          case TypeFields.denotation:
            denotation = this.str(w, at, e);
            break;
          default:
            (unknown ??= []).push(r.unknown(at, w, e, f));
        }
      }
    }
    p.field[d] = which;
    let t: TypeInfo;
    let innerUnknown: Uint8Array[] | undefined;
    switch (which) {
      case TypeFields.tensor_type:
      case TypeFields.sparse_tensor_type: {
        const x = this.tensorType(inner!, which === TypeFields.tensor_type ? 'tensor' : 'sparse_tensor', denotation);
        t = x.type;
        innerUnknown = x.unknown;
        break;
      }
      case TypeFields.sequence_type:
      case TypeFields.optional_type: {
        const x = this.wrappedType(inner!, which === TypeFields.sequence_type ? TypeSequenceSpec : TypeOptionalSpec);
        t = withDenotation(which === TypeFields.sequence_type ? { kind: 'sequence', elem: x.elem } : { kind: 'optional', elem: x.elem }, denotation);
        innerUnknown = x.unknown;
        break;
      }
      case TypeFields.map_type: {
        const x = this.mapType(inner!);
        t = withDenotation({ kind: 'map', keyType: x.keyType, value: x.value }, denotation);
        innerUnknown = x.unknown;
        break;
      }
      case TypeFields.opaque_type: {
        const x = this.opaqueType(inner!);
        t = withDenotation({ kind: 'opaque', domain: x.domain, name: x.name }, denotation);
        innerUnknown = x.unknown;
        break;
      }
      default:
        t = withDenotation({ kind: 'empty' }, denotation);
    }
    p.field[d] = 0;
    setExtras(t, 'type', unknown);
    setExtras(t, 'inner', innerUnknown);
    if (key !== 0 && this.diagnostics.length === diagnostics && !hasExtras(t) && !hasNestedExtras(t)) this.sharedTypes.add(key, ranges[0]!, ranges[1]!, t);
    p.leave();
    return t;
  }

  private tensorType(ranges: number[], kind: 'tensor' | 'sparse_tensor', denotation: string | undefined): { type: TensorType; unknown?: Uint8Array[] } {
    const r = this.r;
    const p = this.p;
    p.enter(kind === 'tensor' ? 'tensor_type' : 'sparse_tensor_type', -1, TypeTensorSpec, ranges[0]!);
    const d = p.depth;
    let elemType = 0;
    let shapeR: number[] | undefined;
    let unknown: Uint8Array[] | undefined;
    for (let k = 0; k < ranges.length; k += 2) {
      const e = ranges[k + 1]!;
      r.pos = ranges[k]!;
      while (r.pos < e) {
        const f = this.field(e, d), w = this.w, at = this.at;
        if (f === TypeTensorFields.elem_type) {
          this.varint(w, at);
          elemType = r.int32(e);
        } else if (f === TypeTensorFields.shape) shapeR = this.range(w, at, e, shapeR, 'a shape');
        else (unknown ??= []).push(r.unknown(at, w, e, f));
      }
    }
    p.field[d] = 0;
    if (elemType !== 0 && !isKnownDataType(elemType)) this.diag('IMPORT_UNKNOWN_DTYPE', `element type ${elemType} is not a data type onnxkit knows; it is kept as a number`);
    let type: TensorType;
    if (shapeR === undefined) {
      type = withDenotation({ kind, elemType: elemType as DataType, shape: null }, denotation);
    } else {
      p.field[d] = 2;
      const dims = this.shape(shapeR);
      p.field[d] = 0;
      const t: { -readonly [K in keyof TensorType]: TensorType[K] } = { kind, elemType: elemType as DataType, shape: dims };
      const denotations = this.shapeDenotations;
      if (denotations) t.dimDenotations = denotations;
      type = withDenotation(t, denotation);
      if (this.shapeUnknown !== undefined) setExtras(type, 'shape', this.shapeUnknown);
      this.dimUnknown?.forEach((u, i) => setExtras(type, `dim:${i}`, u));
    }
    p.leave();
    return { type, unknown };
  }

  /** shape()'s by-products (few shapes have any): set by every call. */
  private shapeDenotations: (string | undefined)[] | undefined;
  private shapeUnknown: Uint8Array[] | undefined;
  private dimUnknown: (Uint8Array[] | undefined)[] | undefined;
  /** Dims being gathered by shape(), reused (shape() does not nest): one exact-size copy per shape. */
  private readonly dimScratch: Dim[] = [];

  /** A TensorShapeProto's dims; its denotations and unknown fields go to the members above. */
  private shape(ranges: number[]): Dim[] {
    const r = this.r;
    const p = this.p;
    p.enter('shape', -1, ShapeSpec, ranges[0]!);
    const d = p.depth;
    // (filled by index, never truncated: a length of 0 would free its backing store)
    const dims = this.dimScratch;
    let n = 0;
    let denotations: (string | undefined)[] | undefined;
    let unknown: Uint8Array[] | undefined;
    let dimUnknown: (Uint8Array[] | undefined)[] | undefined;
    for (let k = 0; k < ranges.length; k += 2) {
      const e = ranges[k + 1]!;
      r.pos = ranges[k]!;
      while (r.pos < e) {
        const f = this.field(e, d), w = this.w, at = this.at;
        if (f === ShapeFields.dim) {
          if (n >= MAX_RANK) this.tooManyDims(at);
          const len = this.len(w, at, e, 'a dimension');
          const s = r.pos;
          const i = n;
          p.enter('dim', i, DimSpec, s);
          const dd = p.depth;
          let dim: Dim = null;
          let den: string | undefined;
          let du: Uint8Array[] | undefined;
          const de = s + len;
          while (r.pos < de) {
            const f2 = this.field(de, dd), w2 = this.w, at2 = this.at;
            if (f2 === DimFields.dim_value) dim = this.int64Num(w2, at2, de, 'dim_value');
            else if (f2 === DimFields.dim_param) dim = this.str(w2, at2, de);
            else if (f2 === DimFields.denotation) den = this.str(w2, at2, de);
            else (du ??= []).push(r.unknown(at2, w2, de, f2));
          }
          p.leave();
          dims[n++] = dim;
          if (den !== undefined) (denotations ??= [])[i] = den;
          if (du !== undefined) (dimUnknown ??= [])[i] = du;
        } else (unknown ??= []).push(r.unknown(at, w, e, f));
      }
    }
    p.field[d] = 0;
    if (denotations !== undefined) denotations.length = n;
    p.leave();
    this.shapeDenotations = denotations;
    this.shapeUnknown = unknown;
    this.dimUnknown = dimUnknown;
    return dims.slice(0, n);
  }

  private wrappedType(ranges: number[], spec: typeof TypeSequenceSpec | typeof TypeOptionalSpec): { elem: TypeInfo | null; unknown?: Uint8Array[] } {
    const r = this.r;
    const p = this.p;
    p.enter(spec === TypeSequenceSpec ? 'sequence_type' : 'optional_type', -1, spec, ranges[0]!);
    const d = p.depth;
    let elemR: number[] | undefined;
    let unknown: Uint8Array[] | undefined;
    for (let k = 0; k < ranges.length; k += 2) {
      const e = ranges[k + 1]!;
      r.pos = ranges[k]!;
      while (r.pos < e) {
        const f = this.field(e, d), w = this.w, at = this.at;
        if (f === spec.byName.elem_type) elemR = this.range(w, at, e, elemR, 'an element type');
        else (unknown ??= []).push(r.unknown(at, w, e, f));
      }
    }
    p.field[d] = 0;
    const elem = elemR === undefined ? null : this.type(elemR, 'elem_type', -1);
    p.leave();
    return { elem, unknown };
  }

  private mapType(ranges: number[]): { keyType: DataType; value: TypeInfo | null; unknown?: Uint8Array[] } {
    const r = this.r;
    const p = this.p;
    p.enter('map_type', -1, TypeMapSpec, ranges[0]!);
    const d = p.depth;
    let keyType = 0;
    let valueR: number[] | undefined;
    let unknown: Uint8Array[] | undefined;
    for (let k = 0; k < ranges.length; k += 2) {
      const e = ranges[k + 1]!;
      r.pos = ranges[k]!;
      while (r.pos < e) {
        const f = this.field(e, d), w = this.w, at = this.at;
        if (f === TypeMapFields.key_type) {
          this.varint(w, at);
          keyType = r.int32(e);
        } else if (f === TypeMapFields.value_type) valueR = this.range(w, at, e, valueR, 'a value type');
        else (unknown ??= []).push(r.unknown(at, w, e, f));
      }
    }
    p.field[d] = 0;
    const value = valueR === undefined ? null : this.type(valueR, 'value_type', -1);
    p.leave();
    return { keyType: keyType as DataType, value, unknown };
  }

  private opaqueType(ranges: number[]): { domain: string; name: string; unknown?: Uint8Array[] } {
    const r = this.r;
    const p = this.p;
    p.enter('opaque_type', -1, TypeOpaqueSpec, ranges[0]!);
    const d = p.depth;
    let domain = '';
    let name = '';
    let unknown: Uint8Array[] | undefined;
    for (let k = 0; k < ranges.length; k += 2) {
      const e = ranges[k + 1]!;
      r.pos = ranges[k]!;
      while (r.pos < e) {
        const f = this.field(e, d), w = this.w, at = this.at;
        if (f === TypeOpaqueFields.domain) domain = this.str(w, at, e);
        else if (f === TypeOpaqueFields.name) name = this.str(w, at, e);
        else (unknown ??= []).push(r.unknown(at, w, e, f));
      }
    }
    p.field[d] = 0;
    p.leave();
    return { domain, name, unknown };
  }

  // ------------------------------------------------------------------ TensorProto

  /** The reader's nameHash of the name of the tensor decoded last (0: not computed). */
  private tensorNameHash = 0;
  private readonly tensorDims: number[] = [];
  /**
   * The init of every raw_data tensor, refilled for each (Tensor's constructor copies what it
   * keeps out of its init; one object per tensor was 40k objects of garbage at 100k nodes).
   */
  private readonly rawInit: { name: string; docString: string; metadataProps: ReadonlyMap<string, string> | undefined; codecData: undefined; codecRecord: object | undefined } = {
    name: '',
    docString: '',
    metadataProps: undefined,
    codecData: undefined,
    codecRecord: undefined,
  };
  /** The one range of an initializer being decoded (tensor() reads it before anything else can). */
  private readonly initRange: number[] = [0, 0];

  /** A TensorProto; `field` '' decodes the root message (a standalone .pb tensor). */
  tensor(ranges: number[], field: string, index: number): Tensor {
    const r = this.r;
    const p = this.p;
    if (field !== '') p.enter(field, index, TensorSpec, ranges[0]!);
    const d = p.depth;
    // Dims are gathered in a reused array (tensor() does not nest) and copied out exactly sized.
    const dimScratch = this.tensorDims;
    let nd = 0;
    let dataType = 0;
    let segR: number[] | undefined;
    // Typed data fields: [offset, length, offset, length, ...] of packed runs or single values.
    let floatSeg: number[] | undefined;
    let int32Seg: number[] | undefined;
    let int64Seg: number[] | undefined;
    let doubleSeg: number[] | undefined;
    let uint64Seg: number[] | undefined;
    let strings: Uint8Array[] | undefined;
    let rawAt = -1;
    let rawLen = 0;
    let name = '';
    let nameHashed = 0;
    let hasName = false;
    let docString = '';
    let entries: { key: string; value: string; raw: Uint8Array; at: number }[] | undefined;
    let location = 0;
    let meta: Map<string, string> | undefined;
    let unknown: Uint8Array[] | undefined;
    for (let k = 0; k < ranges.length; k += 2) {
      const e = ranges[k + 1]!;
      r.pos = ranges[k]!;
      while (r.pos < e) {
        const f = this.field(e, d), w = this.w, at = this.at;
        switch (f) {
          case TensorFields.dims:
            if (w === WIRE_LEN) {
              const len = r.length(e, 'packed dims');
              const end = r.pos + len;
              while (r.pos < end) {
                if (nd >= MAX_RANK) this.tooManyDims(at);
                dimScratch[nd++] = this.dim(r.pos, end);
              }
            } else if (w === WIRE_VARINT) {
              if (nd >= MAX_RANK) this.tooManyDims(at);
              dimScratch[nd++] = this.dim(at, e);
            }
            else this.badWire(w, 'varint or packed', at);
            break;
          case TensorFields.data_type:
            this.varint(w, at);
            dataType = r.int32(e);
            break;
          case TensorFields.segment:
            segR = this.range(w, at, e, segR, 'a segment');
            break;
          case TensorFields.float_data:
            floatSeg = this.typedRun(w, at, e, floatSeg, WIRE_I32);
            break;
          case TensorFields.int32_data:
            int32Seg = this.typedRun(w, at, e, int32Seg, WIRE_VARINT);
            break;
          case TensorFields.string_data:
            (strings ??= []).push(r.bytes(this.len(w, at, e, 'a string')));
            break;
          case TensorFields.int64_data:
            int64Seg = this.typedRun(w, at, e, int64Seg, WIRE_VARINT);
            break;
          case TensorFields.name:
            // (defined once, looked up by its hash: not filed in the reader's string cache)
            if (w !== WIRE_LEN) this.badWire(w, 'a length-delimited string', at);
            name = r.hashedString(r.length(e, 'a string'));
            nameHashed = r.lastHash;
            hasName = true;
            break;
          case TensorFields.raw_data: {
            // Payload bytes are only located here, never read: small ones are viewed (memory
            // mode) or copied once the tensor is built; large ones stay on disk (windowed mode).
            rawLen = this.len(w, at, e, 'raw_data');
            rawAt = r.pos;
            r.pos += rawLen;
            break;
          }
          case TensorFields.double_data:
            doubleSeg = this.typedRun(w, at, e, doubleSeg, WIRE_I64);
            break;
          case TensorFields.uint64_data:
            uint64Seg = this.typedRun(w, at, e, uint64Seg, WIRE_VARINT);
            break;
          case TensorFields.doc_string:
            docString = this.str(w, at, e);
            break;
          case TensorFields.external_data: {
            const len = this.len(w, at, e, 'an external_data entry');
            const s = r.pos;
            entries ??= [];
            const [key, value] = this.pair(s, s + len, 'external_data', entries.length);
            entries.push({ key, value, raw: r.bytesAt(at, s + len - at), at });
            r.pos = s + len;
            break;
          }
          case TensorFields.data_location:
            this.varint(w, at);
            location = r.int32(e);
            break;
          case TensorFields.metadata_props: {
            const len = this.len(w, at, e, 'a metadata entry');
            meta = this.entryInto(r.pos, r.pos + len, meta ?? new Map(), 'metadata_props');
            break;
          }
          default:
            (unknown ??= []).push(r.unknown(at, w, e, f));
        }
      }
    }
    p.field[d] = 0;
    const dims = dimScratch.slice(0, nd);
    if (
      rawAt >= 0 && segR === undefined && location === 0 && floatSeg === undefined && int32Seg === undefined && int64Seg === undefined &&
      doubleSeg === undefined && uint64Seg === undefined && strings === undefined && entries === undefined &&
      dataType !== DataType.UNDEFINED && dataType !== DataType.STRING && isKnownDataType(dataType)
    ) {
      // The common case (every weight of an exporter's file): raw_data alone. No error text, no
      // field lists and no closures are built unless something is wrong (the general path
      // below then says what).
      let size = 1;
      for (let i = 0; i < dims.length; i++) size *= dims[i]!;
      if (size <= MAX_SAFE && rawLen === packedByteLength(dataType as DataType, size)) {
        const init = this.rawInit;
        init.name = name;
        init.docString = docString;
        init.metadataProps = meta;
        init.codecRecord = unknown === undefined ? undefined : tensorRecordHint(undefined, unknown);
        const t = this.payloadTensor(dataType as DataType, dims, rawAt, rawLen, init);
        init.metadataProps = undefined;
        init.codecRecord = undefined;
        if (hasName && name === '') markPresent(t, 'name');
        this.tensorNameHash = nameHashed;
        if (field !== '') p.leave();
        return t;
      }
    }
    const segment = segR === undefined ? undefined : this.segment(segR);
    const init: TensorInit = { name, docString, metadataProps: meta, codecRecord: tensorRecordHint(segment, unknown) };
    const t = this.buildTensor(ranges[0]!, dims, dataType, init, {
      rawAt,
      rawLen,
      floatSeg,
      int32Seg,
      int64Seg,
      doubleSeg,
      uint64Seg,
      strings,
      entries,
      location,
    });
    if (hasName && name === '') markPresent(t, 'name');
    this.tensorNameHash = nameHashed;
    if (field !== '') p.leave();
    return t;
  }

  private dim(at: number, end: number): number {
    const v = this.r.int64Number(end);
    if (!(v >= 0)) this.fail('IMPORT_INVALID', Number.isNaN(v) ? 'a tensor dimension exceeds 2^53' : `tensor dimension ${v} is negative`, at);
    return v;
  }

  /** Records a packed run (or one unpacked element) of a typed data field. */
  private typedRun(wire: number, at: number, end: number, seg: number[] | undefined, single: number): number[] {
    const r = this.r;
    const s = seg ?? [];
    if (wire === WIRE_LEN) {
      const len = r.length(end, 'packed data');
      s.push(r.pos, len);
      r.pos += len;
    } else if (wire === single) {
      const v = r.pos;
      if (single === WIRE_VARINT) r.varint64(end);
      else {
        const n = single === WIRE_I32 ? 4 : 8;
        if (v + n > end) this.fail('IMPORT_TRUNCATED', `input ends inside a fixed${n * 8} element`, v);
        r.pos = v + n;
      }
      s.push(v, r.pos - v);
    } else {
      this.badWire(wire, single === WIRE_VARINT ? 'varint or packed' : single === WIRE_I32 ? 'fixed32 or packed' : 'fixed64 or packed', at);
    }
    return s;
  }

  /** The bytes of a typed field: a view of its only run, or a concatenation of several. */
  private gather(seg: number[]): Uint8Array {
    if (seg.length === 2) return this.r.bytesAt(seg[0]!, seg[1]!);
    let total = 0;
    for (let i = 1; i < seg.length; i += 2) total += seg[i]!;
    const out = new Uint8Array(total);
    let o = 0;
    for (let i = 0; i < seg.length; i += 2) {
      out.set(this.r.peekAt(seg[i]!, seg[i + 1]!), o);
      o += seg[i + 1]!;
    }
    return out;
  }

  private segment(ranges: number[]): TensorSegment {
    const r = this.r;
    const p = this.p;
    p.enter('segment', -1, SegmentSpec, ranges[0]!);
    const d = p.depth;
    let begin = 0n;
    let end = 0n;
    let unknown: Uint8Array[] | undefined;
    for (let k = 0; k < ranges.length; k += 2) {
      const e = ranges[k + 1]!;
      r.pos = ranges[k]!;
      while (r.pos < e) {
        const f = this.field(e, d), w = this.w, at = this.at;
        if (f === SegmentFields.begin || f === SegmentFields.end) {
          this.varint(w, at);
          const v = r.int64Big(e);
          if (f === SegmentFields.begin) begin = v;
          else end = v;
        } else (unknown ??= []).push(r.unknown(at, w, e, f));
      }
    }
    p.field[d] = 0;
    p.leave();
    const seg = { begin, end };
    setExtras(seg, 'segment', unknown);
    return seg;
  }

  private buildTensor(
    at: number,
    dims: number[],
    dataType: number,
    init: TensorInit,
    data: {
      rawAt: number;
      rawLen: number;
      floatSeg?: number[];
      int32Seg?: number[];
      int64Seg?: number[];
      doubleSeg?: number[];
      uint64Seg?: number[];
      strings?: Uint8Array[];
      entries?: { key: string; value: string; raw: Uint8Array; at: number }[];
      location: number;
    },
  ): Tensor {
    const name = init.name ?? '';
    const label = name ? `tensor '${name}'` : 'a tensor';
    if (dataType === DataType.UNDEFINED || !isKnownDataType(dataType)) {
      this.fail(
        'IMPORT_INVALID',
        dataType === 0 ? `${label} has no data_type` : `${label} has data_type ${dataType}, which is not an ONNX data type onnxkit knows (the last is INT2 = 26)`,
        at,
        'the file is corrupt or from a newer ONNX than this onnxkit',
      );
    }
    const dtype = dataType as DataType;
    let size = 1;
    for (const dim of dims) {
      size *= dim;
      if (size > MAX_SAFE) this.fail('IMPORT_INVALID', `${label} has ${dims.length} dims [${dims.join(',')}] whose element count exceeds 2^53`, at);
    }
    const info = dataTypeInfo(dtype);
    const shapeText = `${dataTypeName(dtype)}[${dims.join(',')}]`;
    const typedPresent: [TypedDataField, number[] | undefined][] = [
      ['float_data', data.floatSeg],
      ['int32_data', data.int32Seg],
      ['int64_data', data.int64Seg],
      ['double_data', data.doubleSeg],
      ['uint64_data', data.uint64Seg],
    ];
    const present: string[] = typedPresent.filter(([, s]) => s !== undefined).map(([f]) => f);
    if (data.strings !== undefined) present.push('string_data');
    if (data.rawAt >= 0) present.push('raw_data');
    const wrap = <T>(fn: () => T): T => {
      try {
        return fn();
      } catch (e) {
        if (e instanceof GraphError) this.fail('IMPORT_INVALID', e.message, at);
        throw e;
      }
    };

    if (data.location === DataLocation.EXTERNAL) {
      if (dtype === DataType.STRING) this.fail('IMPORT_EXTERNAL_DATA', `${label} is a string tensor stored as external data, which ONNX does not allow`, at);
      if (present.length > 0) this.diag('IMPORT_IGNORED_DATA', `${label} is stored as external data; its ${present.join(', ')} field(s) are ignored`);
      const byteLength = packedByteLength(dtype, size);
      const extInfo = parseExternalEntries(data.entries ?? [], label, (code, what, offset) => this.fail(code, what, offset));
      checkExternalLocationSyntax(extInfo.location, label, (code, what) => this.fail(code, what, data.entries?.[0]?.at ?? at));
      if (extInfo.length !== undefined && extInfo.length !== byteLength) {
        this.fail('IMPORT_EXTERNAL_DATA', `${label} (${shapeText}) needs ${byteLength} bytes but its external_data length says ${extInfo.length}`, at);
      }
      setRawExternalEntries(extInfo, (data.entries ?? []).map((x) => x.raw));
      const fieldPath = this.p.render(false);
      const source = this.opts.external ? this.opts.external(extInfo, name, fieldPath, byteLength) : unresolvedExternal(extInfo, label, byteLength, fieldPath, this.file);
      return wrap(() => Tensor.lazy(dtype, dims, source, init));
    }
    if (data.location !== DataLocation.DEFAULT) this.diag('IMPORT_DATA_LOCATION', `${label} has data_location ${data.location}, which is not DEFAULT or EXTERNAL; treated as DEFAULT`);

    if (dtype === DataType.STRING) {
      if (present.some((f) => f !== 'string_data')) this.fail('IMPORT_INVALID', `${label} is a string tensor but stores data in ${present.filter((f) => f !== 'string_data').join(', ')}`, at);
      const values = data.strings ?? [];
      if (values.length !== size) this.fail('IMPORT_INVALID', `${label} (${shapeText}) needs ${size} strings, string_data holds ${values.length}`, at);
      return wrap(() => Tensor.fromStrings(dims, values, init));
    }
    const byteLength = packedByteLength(dtype, size);
    if (data.rawAt >= 0) {
      if (present.length > 1) this.diag('IMPORT_IGNORED_DATA', `${label} has raw_data and ${present.filter((f) => f !== 'raw_data').join(', ')}; raw_data is used`);
      if (data.rawLen !== byteLength) this.fail('IMPORT_INVALID', `${label} (${shapeText}) needs ${byteLength} bytes but raw_data holds ${data.rawLen}`, data.rawAt);
      return wrap(() => this.payloadTensor(dtype, dims, data.rawAt, data.rawLen, init));
    }
    if (data.strings !== undefined) this.fail('IMPORT_INVALID', `${label} is ${dataTypeName(dtype)} but stores data in string_data`, at);
    // Not string_data or 'none': STRING returned above, UNDEFINED failed at the top.
    const expectField = TENSOR_DATA_FIELD[dtype] as TypedDataField;
    const typed: TensorInit = { ...init, codecData: TensorDataHint[expectField] };
    for (const f of present) {
      if (f !== expectField) this.fail('IMPORT_INVALID', `${label} is ${dataTypeName(dtype)} but stores data in ${f} (expected ${expectField} or raw_data)`, at);
    }
    const seg = typedPresent.find(([f]) => f === expectField)?.[1];
    if (seg === undefined) {
      if (size !== 0) this.fail('IMPORT_INVALID', `${label} (${shapeText}) has no data: no raw_data, ${expectField} or external data`, at, 'an initializer must carry its values');
      return wrap(() => Tensor.fromBytes(dtype, dims, new Uint8Array(0), typed));
    }
    if (expectField === 'float_data' || expectField === 'double_data') {
      // Packed fixed-width floats have exactly the raw_data layout: no conversion, just a view.
      let total = 0;
      for (let i = 1; i < seg.length; i += 2) total += seg[i]!;
      if (total !== byteLength) this.fail('IMPORT_INVALID', `${label} (${shapeText}) needs ${byteLength} bytes but ${expectField} holds ${total}`, seg[0]);
      if (seg.length === 2) return wrap(() => this.payloadTensor(dtype, dims, seg[0]!, seg[1]!, typed));
      return wrap(() => Tensor.fromBytes(dtype, dims, this.gather(seg), typed));
    }
    const bytes = this.gather(seg);
    const units = info.perStorageUnit > 1 ? Math.ceil(size / info.perStorageUnit) : size * info.partsPerElement;
    let count = 0;
    let run = 0;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i]! < 0x80) {
        count++;
        run = 0;
      } else if (++run >= 10) this.fail('IMPORT_INVALID', `${label}: ${expectField} holds a varint longer than 10 bytes`, seg[0]);
    }
    if (bytes.length > 0 && bytes[bytes.length - 1]! >= 0x80) this.fail('IMPORT_TRUNCATED', `${label}: ${expectField} ends inside a varint`, seg[seg.length - 2]);
    if (count !== units) this.fail('IMPORT_INVALID', `${label} (${shapeText}) needs ${units} values in ${expectField}, found ${count}`, seg[0]);
    const wire = expectField === 'int32_data' ? 'int32' : expectField === 'int64_data' ? 'int64' : 'uint64';
    const source = new VarintTensorSource(bytes, wire, dtype, units, byteLength);
    return wrap(() => Tensor.lazy(dtype, dims, source, typed));
  }

  /**
   * A tensor over input bytes: a zero-copy range of the input buffer (memory mode without
   * `lazyRaw`), a copy into a shared slab (small payloads, windowed mode or `lazyRaw`), an on-disk
   * source (large ones, `lazyRaw`) or a copy of its own (large ones without `lazyRaw`, in windowed
   * mode). The tensors of the first two keep no view object each (Tensor._fromSlab).
   */
  private payloadTensor(dtype: DataType, dims: number[], at: number, len: number, init: TensorInit): Tensor {
    const r = this.r;
    const lazy = this.opts.lazyRaw;
    if (r.inMemory && lazy === undefined) {
      r.viewsOut++; // a range of the input handed out, as bytesAt counts it (see compactPayloads)
      const t = Tensor._fromSlab(dtype, dims, r.buf, at, init);
      if (this.opts.ownsInput === true) {
        this.viewTensors.push(t);
        this.viewBytes += len;
      }
      return t;
    }
    if (lazy !== undefined && len >= lazy.threshold) return Tensor.lazy(dtype, dims, lazy.source(at, len, init.name ?? ''), init);
    if (len > SLAB_PAYLOAD_MAX) {
      if (!r.inMemory) return Tensor.fromBytes(dtype, dims, r.bytesAt(at, len), init);
      const own = new Uint8Array(len); // (an in-memory input with lazyRaw: no view of it is kept)
      r.copyAt(at, len, own, 0);
      return Tensor.fromBytes(dtype, dims, own, init);
    }
    let slab = this.slab;
    let o = this.slabUsed;
    if (o + len > slab.byteLength) {
      this.slab = slab = new Uint8Array(Math.min(Math.max(slab.byteLength * 2, SLAB_BYTES_MIN), SLAB_BYTES_MAX));
      o = 0;
    }
    r.copyAt(at, len, slab, o);
    this.slabUsed = (o + len + 7) & ~7; // 8-byte aligned: viewed as any typed array without a copy
    return Tensor._fromSlab(dtype, dims, slab, o, init);
  }

  // ------------------------------------------------------------------ SparseTensorProto

  sparseTensor(ranges: number[], field: string, index: number): SparseTensor {
    const r = this.r;
    const p = this.p;
    p.enter(field, index, SparseTensorSpec, ranges[0]!);
    const d = p.depth;
    let valuesR: number[] | undefined;
    let indicesR: number[] | undefined;
    const dims: number[] = [];
    let unknown: Uint8Array[] | undefined;
    for (let k = 0; k < ranges.length; k += 2) {
      const e = ranges[k + 1]!;
      r.pos = ranges[k]!;
      while (r.pos < e) {
        const f = this.field(e, d), w = this.w, at = this.at;
        if (f === SparseTensorFields.values) valuesR = this.range(w, at, e, valuesR, 'sparse values');
        else if (f === SparseTensorFields.indices) indicesR = this.range(w, at, e, indicesR, 'sparse indices');
        else if (f === SparseTensorFields.dims) {
          if (w === WIRE_LEN) {
            const len = r.length(e, 'packed dims');
            const end = r.pos + len;
            while (r.pos < end) {
              if (dims.length >= MAX_RANK) this.tooManyDims(at);
              dims.push(this.dim(r.pos, end));
            }
          } else if (w === WIRE_VARINT) {
            if (dims.length >= MAX_RANK) this.tooManyDims(at);
            dims.push(this.dim(at, e));
          }
          else this.badWire(w, 'varint or packed', at);
        } else (unknown ??= []).push(r.unknown(at, w, e, f));
      }
    }
    p.field[d] = 0;
    if (valuesR === undefined || indicesR === undefined) this.fail('IMPORT_INVALID', `a sparse tensor lacks its ${valuesR === undefined ? 'values' : 'indices'}`, ranges[0]);
    const values = this.tensor(valuesR, 'values', -1);
    const indices = this.tensor(indicesR, 'indices', -1);
    const st: SparseTensor = { values, indices, dims };
    setExtras(st, 'sparse', unknown);
    p.leave();
    return st;
  }

  // ------------------------------------------------------------------ TensorAnnotation

  private annotation(s: number, e: number, index: number): QuantizationAnnotation {
    const r = this.r;
    const p = this.p;
    p.enter('quantization_annotation', index, AnnotationSpec, s);
    const d = p.depth;
    let tensorName = '';
    const params: [string, string][] = [];
    let unknown: Uint8Array[] | undefined;
    r.pos = s;
    while (r.pos < e) {
      const f = this.field(e, d), w = this.w, at = this.at;
      if (f === AnnotationFields.tensor_name) tensorName = this.str(w, at, e);
      else if (f === AnnotationFields.quant_parameter_tensor_names) {
        const len = this.len(w, at, e, 'a parameter entry');
        const ps = r.pos;
        params.push(this.pair(ps, ps + len, 'quant_parameter_tensor_names', params.length));
        r.pos = ps + len;
      } else (unknown ??= []).push(r.unknown(at, w, e, f));
    }
    p.field[d] = 0;
    const q: QuantizationAnnotation = { tensorName, params };
    setExtras(q, 'annotation', unknown);
    p.leave();
    return q;
  }

  // ------------------------------------------------------------------ TrainingInfoProto

  private trainingInfo(s: number, e: number, index: number): TrainingInfo {
    const r = this.r;
    const p = this.p;
    p.enter('training_info', index, TrainingSpec, s);
    const d = p.depth;
    let initR: number[] | undefined;
    let algoR: number[] | undefined;
    const initializationBinding: [string, string][] = [];
    const updateBinding: [string, string][] = [];
    let unknown: Uint8Array[] | undefined;
    r.pos = s;
    while (r.pos < e) {
      const f = this.field(e, d), w = this.w, at = this.at;
      if (f === TrainingFields.initialization) initR = this.range(w, at, e, initR, 'a graph');
      else if (f === TrainingFields.algorithm) algoR = this.range(w, at, e, algoR, 'a graph');
      else if (f === TrainingFields.initialization_binding || f === TrainingFields.update_binding) {
        const len = this.len(w, at, e, 'a binding');
        const bs = r.pos;
        const list = f === TrainingFields.initialization_binding ? initializationBinding : updateBinding;
        list.push(this.pair(bs, bs + len, TrainingSpec.fields[f]!, list.length));
        r.pos = bs + len;
      } else (unknown ??= []).push(r.unknown(at, w, e, f));
    }
    p.field[d] = 0;
    const t: TrainingInfo = {
      initialization: initR === undefined ? null : this.graph(initR, 'initialization', -1),
      algorithm: algoR === undefined ? null : this.graph(algoR, 'algorithm', -1),
      initializationBinding,
      updateBinding,
    };
    if (unknown !== undefined) t.unknownFields = unknown;
    p.leave();
    return t;
  }

  // ------------------------------------------------------------------ FunctionProto

  private function(s: number, e: number, index: number): OnnxFunction {
    const r = this.r;
    const p = this.p;
    p.enter('functions', index, FunctionSpec, s);
    const d = p.depth;
    const g = new Graph();
    const pg: PendingGraph = pendingGraph(g, p.render(false));
    let name = '';
    let domain = '';
    let overload = '';
    let docString = '';
    const inputs: string[] = [];
    const outputs: string[] = [];
    const attributeNames: string[] = [];
    const attributeDefaults: Attribute[] = [];
    const opsets = new Map<string, number>();
    let meta: Map<string, string> | undefined;
    let unknown: Uint8Array[] | undefined;
    r.pos = s;
    while (r.pos < e) {
      const f = this.field(e, d), w = this.w, at = this.at;
      switch (f) {
        case FunctionFields.name:
          name = this.str(w, at, e);
          break;
        case FunctionFields.input:
          inputs.push(this.str(w, at, e));
          break;
        case FunctionFields.output:
          outputs.push(this.str(w, at, e));
          break;
        case FunctionFields.attribute:
          attributeNames.push(this.str(w, at, e));
          break;
        case FunctionFields.node: {
          const len = this.len(w, at, e, 'a node');
          const ns = r.pos;
          pg.nodes.push(this.node(ns, ns + len, pg.nodes.length, pg));
          r.pos = ns + len;
          break;
        }
        case FunctionFields.doc_string:
          docString = this.str(w, at, e);
          break;
        case FunctionFields.opset_import: {
          const len = this.len(w, at, e, 'an opset import');
          const os = r.pos;
          this.opset(os, os + len, opsets, 'opset_import', opsets.size);
          r.pos = os + len;
          break;
        }
        case FunctionFields.domain:
          domain = this.str(w, at, e);
          break;
        case FunctionFields.attribute_proto: {
          const len = this.len(w, at, e, 'an attribute');
          const as = r.pos;
          attributeDefaults.push(this.attribute(as, as + len, attributeDefaults.length));
          r.pos = as + len;
          break;
        }
        case FunctionFields.value_info: {
          const len = this.len(w, at, e, 'a value info');
          const vs = r.pos;
          pg.valueInfos.push(this.valueInfo(vs, vs + len, 'value_info', pg.valueInfos.length));
          r.pos = vs + len;
          break;
        }
        case FunctionFields.overload:
          overload = this.str(w, at, e);
          break;
        case FunctionFields.metadata_props: {
          const len = this.len(w, at, e, 'a metadata entry');
          meta = this.entryInto(r.pos, r.pos + len, meta ?? new Map(), 'metadata_props');
          break;
        }
        default:
          (unknown ??= []).push(r.unknown(at, w, e, f));
      }
    }
    p.field[d] = 0;
    for (const n of inputs) g.addInput(new Value({ name: n }));
    appendAll(g, pg.nodes);
    for (const n of outputs) pg.outputs.push(new Value({ name: n }));
    this.pending.set(g, pg);
    const fn = new OnnxFunction({ domain, name, overload, graph: g, attributeNames, attributeDefaults, opsetImports: opsets, docString, metadataProps: meta });
    fn.unknownFields = unknown;
    this.functionsPending.push({ f: fn, pg });
    p.leave();
    return fn;
  }

  // ------------------------------------------------------------------ name resolution

  private resolveModel(m: Model): void {
    const main = this.resolveGraph(m.graph, null);
    for (const { f } of this.functionsPending) this.resolveGraph(f.graph, null, true);
    for (const t of m.trainingInfo) {
      // Training graphs see the inference graph's values (its initializers are global variables).
      if (t.initialization) this.resolveGraph(t.initialization, main);
      if (t.algorithm) this.resolveGraph(t.algorithm, main);
    }
  }

  private resolveGraph(g: Graph, outer: Scope | null, isFunction = false): Scope {
    const pg = this.pending.get(g)!;
    const nodes = pg.nodes;
    const names = new NameTable(g.inputs.length + g.initializers.size + g.sparseInitializers.size + pg.outCount);
    const scope: Scope = { names, parent: outer };
    // Definitions in order (inputs, initializers, sparse initializers, node outputs); the first
    // of a name wins, and each repeat is reported.
    let unique = true;
    /** `what` is a kind of definition, or the node whose output `v` is. */
    const define = (v: Value, h: number, what: string | Node): void => {
      if (v.name === '') return;
      const first = names.add(v, h);
      if (first === v) return;
      unique = false;
      const how = typeof what === 'string' ? what : `output of ${what.describe()}`;
      this.diag('IMPORT_DUPLICATE_NAME', `'${v.name}' is defined twice in ${pg.path} (${how}); uses refer to the first definition`, pg.path);
    };
    for (const v of g.inputs) define(v, nameHash(v.name), 'graph input');
    // (an IR<4 initializer that is also a graph input is one Value: add() returns it, no report)
    const initHash = pg.initHash;
    // (forEach: in insertion order, initHash's order, without a [name, value] pair per entry)
    let i = 0;
    g.initializers.forEach((v) => define(v, initHash[i++] || nameHash(v.name), 'initializer'));
    for (const v of g.sparseInitializers.values()) define(v, nameHash(v.name), 'sparse initializer');
    const outHash = pg.outHash;
    let o = 0;
    for (let k = 0; k < nodes.length; k++) {
      const node = nodes[k]!;
      const outs = node.outputs;
      for (let i = 0; i < outs.length; i++) define(outs[i]!, outHash[o++]!, node);
    }

    const inputStrings = pg.inputStrings;
    const inHash = pg.inHash;
    const inAt = pg.inAt;
    const inLen = pg.inLen;
    const ends = pg.inputEnd;
    const buf = this.r.buf;
    /** Where `buf` starts in the input (releaseInput). */
    const shift = this.namesShift;
    // Exporters write initializers in the order of their first use: an input name that is not
    // the previous node's output is tried against the initializer after the one found last.
    const inits = pg.initValues;
    let nextInit = 0;
    let prev: Node | null = null;
    for (let k = 0; k < nodes.length; k++) {
      const node = nodes[k]!;
      // (counted over every graph, subgraphs and functions too, from the first: see memoryTick)
      if (--this.resolveTick === 0) {
        this.resolveTick = MEMORY_CHECK_NODES;
        this.checkMemory();
      }
      const from = k === 0 ? 0 : ends[k - 1]!;
      const count = ends[k]! - from;
      if (count > 0) {
        // Literals for the usual one or two inputs: V8 allocates what such a site makes in the
        // old generation once it sees all of it survive (see Node._decoded), and these arrays
        // live as long as the graph.
        const values: (Value | null)[] = count === 1 ? [null] : count === 2 ? [null, null] : new Array(count);
        for (let j = 0; j < count; j++) {
          let len = inLen[from + j]!;
          if (len > 0) {
            if (len >= PREV_OUT) {
              // The bytes of the previous node's last output (see node()): without repeated
              // names, the one Value of this graph so named, which a scope lookup would find.
              if (unique) {
                const outs = prev!.outputs;
                values[j] = outs[outs.length - 1]!;
                continue;
              }
              len -= PREV_OUT;
            }
            const at = inAt[from + j]! - shift;
            // (without repeated names, the initializer so named is the one a lookup would find)
            if (unique && nextInit < inits.length) {
              if (sameAscii(inits[nextInit]!.name, buf, at, len)) {
                values[j] = inits[nextInit++]!;
                continue;
              }
              // An initializer out of that order (a shared constant written first, say) would
              // otherwise leave every later one to the table: the one after it is tried too.
              if (nextInit + 1 < inits.length && sameAscii(inits[nextInit + 1]!.name, buf, at, len)) {
                values[j] = inits[nextInit + 1]!;
                nextInit += 2;
                continue;
              }
            }
            values[j] = this.lookupBytes(scope, at, len, inHash[from + j]!, unique ? prev : null, pg, k, j, node);
            continue;
          }
          if (len === 0) {
            values[j] = null;
            continue;
          }
          const n = inputStrings[-1 - len]!;
          // Most inputs are the previous node's output (a chain). Without repeated names, a
          // value of this graph named `n` is the one `n` refers to: no map lookup needed.
          let v: Value | null = null;
          if (unique && prev !== null) {
            const outs = prev.outputs;
            for (let i = 0; i < outs.length; i++) {
              if (outs[i]!.name === n) {
                v = outs[i]!;
                break;
              }
            }
          }
          values[j] = v ?? this.lookup(scope, n, inHash[from + j] || nameHash(n), pg, k, j, node);
        }
        node._adoptInputs(values);
      }
      if (node._hasSubgraphs()) for (const sub of node.subgraphs()) this.resolveGraph(sub, scope);
      prev = node;
    }

    const hints: GraphHints = { valueInfoOrder: [], detached: new Map(), outputInfo: new Map() };
    const occurrences = new Map<Value, number>();
    pg.outputs.forEach((rec, i) => {
      const v = this.lookup(scope, rec.name, nameHash(rec.name), pg, -1, i, null);
      const k = occurrences.get(v) ?? 0;
      occurrences.set(v, k + 1);
      if (!isFunction) this.applyOutputInfo(g, rec, v, hints, k);
      g.addOutput(v);
    });
    for (const rec of pg.valueInfos) {
      const v = names.get(rec.name, nameHash(rec.name));
      if (v === undefined) {
        g.danglingValueInfo.push(rec);
        hints.valueInfoOrder.push(rec);
      } else if (!this.claimed.has(v)) {
        applyInfo(rec, v);
        this.claimed.add(v);
        hints.valueInfoOrder.push(v);
      } else if (valueInfosEqual(rec, v)) {
        hints.valueInfoOrder.push(v);
      } else {
        hints.detached.set(rec, v);
        hints.valueInfoOrder.push(rec);
      }
    }
    setGraphHints(g, hints);
    return scope;
  }

  /**
   * Stores an output ValueInfoProto on its Value, or as a record (for the `occurrence`-th output
   * slot holding the Value) when the Value is not this graph's to describe or was described already.
   */
  private applyOutputInfo(g: Graph, rec: Value, v: Value, hints: GraphHints, occurrence: number): void {
    const own = (v.producer !== null && v.producer.graph === g) || v._initializerOf === g || (v.producer === null && v.graph === null && this.placeholders.get(v.name) === v);
    if (own && !this.claimed.has(v)) {
      applyInfo(rec, v);
      this.claimed.add(v);
    } else if (!valueInfosEqual(rec, v)) {
      let list = hints.outputInfo.get(v);
      if (list === undefined) hints.outputInfo.set(v, (list = []));
      list[occurrence] = rec;
    }
  }

  /**
   * lookup() of the name in input bytes `[at, at + len)` (ASCII, hashed to `h`), without making it
   * a string unless it names nothing. `prev` (the node before, when names are unique) is tried
   * first, as in resolveGraph.
   */
  private lookupBytes(scope: Scope, at: number, len: number, h: number, prev: Node | null, pg: PendingGraph, k: number, j: number, node: Node): Value {
    const buf = this.r.buf;
    if (prev !== null) {
      const outs = prev.outputs;
      for (let i = 0; i < outs.length; i++) if (sameAscii(outs[i]!.name, buf, at, len)) return outs[i]!;
    }
    for (let s: Scope | null = scope; s !== null; s = s.parent) {
      const v = s.names.getBytes(buf, at, len, h);
      if (v !== undefined) return v;
    }
    return this.undefinedName(this.r.stringAt(at, len), pg, k, j, node);
  }

  /** The Value `name` refers to from `scope` (input j of node k, or graph output j when k < 0). */
  private lookup(scope: Scope, name: string, h: number, pg: PendingGraph, k: number, j: number, node: Node | null): Value {
    for (let s: Scope | null = scope; s !== null; s = s.parent) {
      const v = s.names.get(name, h);
      if (v !== undefined) return v;
    }
    return this.undefinedName(name, pg, k, j, node);
  }

  /** The placeholder Value of a name nothing defines (one per name, reported once). */
  private undefinedName(name: string, pg: PendingGraph, k: number, j: number, node: Node | null): Value {
    let v = this.placeholders.get(name);
    if (v === undefined) {
      v = new Value({ name });
      this.placeholders.set(name, v);
      this.diag(
        'IMPORT_UNDEFINED_NAME',
        `${node ? `${node.describe()} reads` : 'a graph output names'} '${name}', which no graph input, initializer or node output defines; kept as a placeholder value`,
        k >= 0 ? `${pg.path}.node[${k}].input[${j}]` : `${pg.path}.output[${j}]`,
      );
    }
    return v;
  }
}

function pendingGraph(graph: Graph, path: string): PendingGraph {
  return { graph, nodes: [], inputCount: 0, inputStrings: [], inputEnd: new Int32Array(64), outHash: new Int32Array(64), outCount: 0, inHash: new Int32Array(64), inAt: new Int32Array(64), inLen: new Int32Array(64), initHash: [], initValues: [], outputs: [], valueInfos: [], path };
}

/**
 * Appends `nodes` to `g` in chunks: one `append` call per node costs a rest-parameter array
 * each, and one call with every node as an argument could overflow the stack.
 */
function appendAll(g: Graph, nodes: Node[]): void {
  // apply, where the lint rule against spreading model-sized arrays would ask for a loop: the
  // chunk is bounded, so it never overflows the stack.
  for (let i = 0; i < nodes.length; i += APPEND_CHUNK) {
    // eslint-disable-next-line prefer-spread
    g.append.apply(g, i === 0 && nodes.length <= APPEND_CHUNK ? nodes : nodes.slice(i, i + APPEND_CHUNK));
  }
}
const APPEND_CHUNK = 4096;

/**
 * Added to an input name's length in `PendingGraph.inLen` (deferred names are at most 64 bytes)
 * when the name is the last output of the node before, in the same graph.
 */
const PREV_OUT = 0x10000;

/**
 * Immutable objects decoded from identical bytes of the input (memory mode), to be shared: at
 * most MAX_SHARED entries, of messages of at most MAX_SHARED_BYTES bytes (a longer one is
 * seldom repeated, and its hash would cost as much as its decode). On a hash collision the first
 * message keeps the entry.
 */
class SharedByBytes<T> {
  readonly #index = new Map<number, number>();
  readonly #items: T[] = [];
  readonly #at: number[] = [];
  readonly #len: number[] = [];

  /** The hash of `buf[s, e)`, or 0 when such a message is not shared. */
  key(buf: Uint8Array, s: number, e: number): number {
    if (e - s > MAX_SHARED_BYTES) return 0;
    let h = (e - s) | 0x40000000;
    for (let i = s; i < e; i++) h = (Math.imul(h, 31) + buf[i]!) | 0;
    return h;
  }

  /** The object decoded from bytes equal to `buf[s, e)` (whose key is `key`), if there is one. */
  get(buf: Uint8Array, s: number, e: number, key: number): T | undefined {
    const k = this.#index.get(key);
    if (k === undefined) return undefined;
    const at = this.#at[k]!;
    const len = this.#len[k]!;
    if (len !== e - s) return undefined;
    for (let i = 0; i < len; i++) if (buf[at + i] !== buf[s + i]) return undefined;
    return this.#items[k];
  }

  /** Files `item`, decoded from `[s, e)` (key `key`), unless the key is taken or the table full. */
  add(key: number, s: number, e: number, item: T): void {
    if (this.#items.length >= MAX_SHARED || this.#index.has(key)) return;
    this.#index.set(key, this.#items.length);
    this.#items.push(item);
    this.#at.push(s);
    this.#len.push(e - s);
  }
}
const MAX_SHARED_BYTES = 256;
const MAX_SHARED = 4096;

/**
 * Sizes `pg`'s node list and its per-node, per-input and per-output arrays for the graph in
 * `buf[ranges]` (its bytes in memory) from a count of its nodes (tags and lengths alone; inputs
 * and outputs are guessed from it); returns the count of its initializers (for the decoder's
 * arrays of them). Grown by doubling (typed arrays) or by half (pushes) instead, the arrays of the
 * 100k-node chain left ≈ 4 MiB of dead ArrayBuffers and ≈ 2.5 MB of dead large arrays at the end
 * of the import (V8 frees them only in a full collection), and the last ones were up to twice the
 * size needed. Bytes that are not well formed (or a group) leave the arrays as they are (returns
 * 0): the decode reports what is wrong, and the arrays grow as they need.
 */
function presize(pg: PendingGraph, buf: Uint8Array, ranges: readonly number[]): number {
  let nodes = 0;
  let initializers = 0;
  // (one-byte tags read inline: this loop runs once per graph, mostly before V8 optimizes it;
  // counting the nodes' inputs too, field by field, cost ≈ 20 ms on the 100k-node chain)
  const nodeTag = (GraphFields.node << 3) | WIRE_LEN;
  const initTag = (GraphFields.initializer << 3) | WIRE_LEN;
  for (let k = 0; k < ranges.length; k += 2) {
    let p = ranges[k]!;
    const e = ranges[k + 1]!;
    if (e > buf.length) return 0;
    while (p < e) {
      let tag = buf[p]!;
      if (tag < 0x80) p++;
      else {
        p = scanVarint(buf, p, e);
        if (p < 0) return 0;
        tag = scanned;
      }
      if ((tag & 7) !== WIRE_LEN) {
        p = skipField(buf, p, e, tag & 7);
        if (p < 0) return 0;
        continue;
      }
      let len = 0;
      for (let m = 1; ; m *= 128) {
        if (p >= e || m > 2 ** 35) return 0;
        const b = buf[p++]!;
        len += (b & 0x7f) * m;
        if (b < 0x80) break;
      }
      p += len;
      if (p > e) return 0;
      if (tag === nodeTag) nodes++;
      else if (tag === initTag) initializers++;
    }
  }
  // Most nodes have one output and one or two inputs (the arrays grow past these if need be;
  // pages of a typed array never written are not resident).
  if (nodes > pg.inputEnd.length) pg.inputEnd = new Int32Array(nodes);
  if (nodes > pg.outHash.length) pg.outHash = new Int32Array(nodes);
  if (2 * nodes > pg.inHash.length) {
    pg.inHash = new Int32Array(2 * nodes);
    pg.inAt = new Int32Array(2 * nodes);
    pg.inLen = new Int32Array(2 * nodes);
  }
  if (nodes > 0) pg.nodes = new Array<Node>(nodes);
  return initializers;
}

/** The value of the varint scanVarint read last. */
let scanned = 0;

/** Reads the varint at `p` into `scanned`; the position after it, or -1 past `e` or from 2^49 (no length or tag is). */
function scanVarint(buf: Uint8Array, p: number, e: number): number {
  let v = 0;
  let m = 1;
  for (;;) {
    if (p >= e || m > 2 ** 42) return -1;
    const b = buf[p++]!;
    v += (b & 0x7f) * m;
    if (b < 0x80) break;
    m *= 128;
  }
  scanned = v;
  return p;
}

/** The position after the field of wire type `w` whose value starts at `p`; -1 if it is not within `e` (or a group). */
function skipField(buf: Uint8Array, p: number, e: number, w: number): number {
  switch (w) {
    case WIRE_VARINT:
      for (let n = 0; n < 10 && p < e; n++) if (buf[p++]! < 0x80) return p;
      return -1;
    case WIRE_I64:
      return p + 8 <= e ? p + 8 : -1;
    case WIRE_LEN: {
      const q = scanVarint(buf, p, e);
      return q >= 0 && q + scanned <= e ? q + scanned : -1;
    }
    case WIRE_I32:
      return p + 4 <= e ? p + 4 : -1;
    default:
      return -1;
  }
}

/** Records the hash of input name `at` (the one just counted in `pg.inputCount`). */
function pushInputHash(pg: PendingGraph, at: number, h: number): void {
  if (at === pg.inHash.length) {
    pg.inHash = grown(pg.inHash);
    pg.inAt = grown(pg.inAt);
    pg.inLen = grown(pg.inLen);
  }
  pg.inHash[at] = h;
}

/** Records the hash of the next node output name. */
function pushHash(pg: PendingGraph, h: number): void {
  if (pg.outCount === pg.outHash.length) pg.outHash = grown(pg.outHash);
  pg.outHash[pg.outCount++] = h;
}

/** `a` copied into one twice its length (typed arrays: their memory is outside the GC'd heap). */
function grown(a: Int32Array): Int32Array {
  const b = new Int32Array(2 * a.length);
  b.set(a);
  return b;
}

/** Whether a type nested in `t` (an element or value type) carries unknown fields. */
function hasNestedExtras(t: TypeInfo): boolean {
  const inner = t.kind === 'sequence' || t.kind === 'optional' ? t.elem : t.kind === 'map' ? t.value : null;
  return inner !== null && (hasExtras(inner) || hasNestedExtras(inner));
}

/** `t` with `denotation` set when there is one (no key at all otherwise, as a spread of {} would give). */
function withDenotation<T extends TypeInfo>(t: T, denotation: string | undefined): T {
  if (denotation !== undefined) (t as { denotation?: string }).denotation = denotation;
  return t;
}

function applyInfo(rec: Value, v: Value): void {
  v.type = rec.type;
  v.docString = rec.docString;
  // (reading metadataProps would allocate an empty map per value)
  if (rec.hasMetadata || v.hasMetadata) v.metadataProps = rec.metadataProps;
  v.unknownFields = rec.unknownFields;
}

const fatalDecoder = new TextDecoder('utf-8', { fatal: true });
const lossyDecoder = new TextDecoder('utf-8');

/** A source for external data when decoding bytes without knowing their folder. */
function unresolvedExternal(info: ExternalDataInfo, label: string, byteLength: number, fieldPath: string, file: string | undefined): TensorSource {
  return {
    byteLength,
    description: `${info.location} @ ${info.offset} + ${byteLength} bytes (folder unknown)`,
    external: info,
    read(): Uint8Array {
      throw new ImportError('IMPORT_EXTERNAL_DATA', `${label} is stored in external file '${info.location}', but the model was decoded from bytes without a folder`, {
        fieldPath,
        file,
        hint: 'pass { baseDir } to decode(), or load() the model from its path',
      });
    },
  };
}

/** Names a known non-ONNX format from its first bytes, for the IMPORT_NOT_ONNX message. */
function sniffFormat(r: Reader): string {
  if (r.size === 0) return '';
  const head = r.peekAt(0, Math.min(16, r.size));
  const ascii = Array.from(head, (b) => String.fromCharCode(b)).join('');
  if (ascii.startsWith('PK\x03\x04')) return '; it is a zip archive (a PyTorch .pt/.pth checkpoint or a .keras file?)';
  if (ascii.startsWith('\x89HDF')) return '; it is an HDF5 file (a Keras .h5 model?)';
  if (ascii.slice(4, 8) === 'TFL3') return '; it is a TensorFlow Lite flatbuffer';
  if (ascii.slice(4, 8) === 'ORTM') return '; it is an onnxruntime .ort flatbuffer, not a .onnx protobuf';
  if (ascii.startsWith('GGUF')) return '; it is a GGUF file';
  if (head[0] === 0x80 && head[1] !== undefined && head[1] <= 5) return '; it looks like a Python pickle (a PyTorch checkpoint?)';
  if (/^\s*[{[]/.test(ascii)) return '; it looks like JSON';
  if (/^\s*</.test(ascii)) return '; it looks like XML/HTML (a download error page?)';
  if (/^\s*(ir_version|<)/.test(ascii)) return '; it looks like the ONNX text format';
  return '';
}
