/**
 * The lecture's other costs (MIT EfficientML.ai lecture 2): energy from the operations and the
 * data movement, and the memory training needs.
 *
 * Energy per layer = MACs × (multiply + add) + the other element-wise FLOPs × add
 *                  + 2 SRAM reads per MAC (weight and activation operands from on-chip memory)
 *                  + the roofline's bytes moved (weights, input and output activations) as 32-bit DRAM reads.
 * An integer layer (QLinearConv, QGemm, a QDQ-fused Conv/MatMul: its work is `intOps`, not FLOPs)
 * is priced as the integer kernel runs it: each MAC an 8-bit multiply accumulated by a 32-bit add,
 * its other integer OPs (requantization, element-wise) as 32-bit adds, and its two SRAM operands
 * 8 bits wide (a quarter of a 32-bit word each). With the lecture's table an int8 MAC
 * (0.2 + 0.1 pJ) is 15× cheaper than a float one (3.7 + 0.9 pJ).
 * With Horowitz's 45 nm numbers a DRAM read (640 pJ) costs ~170 float multiplies: data movement,
 * not arithmetic, dominates — the lecture's point. The table is per 32-bit word; a device may supply
 * its own (`energy` in a device profile, or AnalyzeOptions.energy); a table without integer entries
 * prices integer operations as float ones.
 */
import { DeviceProfileError } from './errors.js';

export interface EnergyTable {
  /** Where the numbers come from. */
  readonly source: string;
  /** Picojoules for one 32-bit read from DRAM. */
  readonly dramReadPj: number;
  /** Picojoules for one 32-bit read from on-chip SRAM. */
  readonly sramReadPj: number;
  /** Picojoules for one float multiply. */
  readonly multPj: number;
  /** Picojoules for one float add. */
  readonly addPj: number;
  /** Picojoules for one 8-bit integer multiply (absent: multPj). */
  readonly int8MultPj?: number;
  /** Picojoules for one 8-bit integer add (absent: addPj). */
  readonly int8AddPj?: number;
  /** Picojoules for one 32-bit integer multiply (absent: multPj). */
  readonly int32MultPj?: number;
  /** Picojoules for one 32-bit integer add: the int8 MAC's accumulation (absent: addPj). */
  readonly int32AddPj?: number;
}

/** Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014, 45 nm, 0.9 V. */
export const HOROWITZ_45NM: EnergyTable = Object.freeze({
  source: 'M. Horowitz, "Computing\'s energy problem (and what we can do about it)", ISSCC 2014, 45 nm (32-bit words, 8 KB SRAM)',
  dramReadPj: 640,
  sramReadPj: 5,
  multPj: 3.7,
  addPj: 0.9,
  int8MultPj: 0.2,
  int8AddPj: 0.03,
  int32MultPj: 3.1,
  int32AddPj: 0.1,
});

export const ENERGY_CONVENTION =
  'Energy: MACs × (multiply + add) + other element-wise FLOPs × add + 2 SRAM reads per MAC + bytes moved (weights, input and output activations, at their stored dtypes) / 4 as 32-bit DRAM reads; float layers at fp32 (float mult, float add, 32-bit SRAM operands); integer layers (their work counted as intOps) as int8 MACs (8-bit int mult + 32-bit int add), other integer OPs as 32-bit int adds, and 8-bit SRAM operands (a quarter of a 32-bit read).';

export interface LayerEnergy {
  /** Joules; null when MACs, FLOPs or bytes are unknown. */
  readonly joules: number | null;
  readonly computeJoules: number | null;
  readonly sramJoules: number | null;
  readonly dramJoules: number | null;
}

const PJ = 1e-12;

/**
 * The energy of one layer from its MACs, its operations and bytes moved. `ops` are the layer's
 * FLOPs, or its integer OPs when `integer` (the analysis's intOps: 2 per MAC + the other OPs).
 */
export function layerEnergy(t: EnergyTable, macs: number | null, ops: number | null, bytesMoved: number | null, integer = false): LayerEnergy {
  const mult = integer ? (t.int8MultPj ?? t.multPj) : t.multPj;
  const acc = integer ? (t.int32AddPj ?? t.addPj) : t.addPj;
  const compute = macs === null || ops === null ? null : (macs * (mult + acc) + Math.max(0, ops - 2 * macs) * acc) * PJ;
  // 8-bit operands: a quarter of a 32-bit SRAM word each.
  const sram = macs === null ? null : 2 * macs * (integer ? t.sramReadPj / 4 : t.sramReadPj) * PJ;
  const dram = bytesMoved === null ? null : (bytesMoved / 4) * t.dramReadPj * PJ;
  const joules = compute === null || sram === null || dram === null ? null : compute + sram + dram;
  return { joules, computeJoules: compute, sramJoules: sram, dramJoules: dram };
}

/** Reads an energy table (a device profile's `energy`, or a file of its own). */
export function parseEnergyTable(json: unknown, where = 'energy table'): EnergyTable {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new DeviceProfileError(`${where} must be an object like { "source": "…", "dramReadPj": 640, "sramReadPj": 5, "multPj": 3.7, "addPj": 0.9 }`);
  }
  const r = json as Record<string, unknown>;
  const num = (k: keyof EnergyTable): number => {
    const v = r[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new DeviceProfileError(`${where}: ${k} must be a non-negative number of picojoules, got ${JSON.stringify(v)}`);
    return v;
  };
  if (typeof r.source !== 'string' || r.source.trim() === '') throw new DeviceProfileError(`${where}: give a source for the numbers (a paper or a measurement)`);
  const optional = (k: 'int8MultPj' | 'int8AddPj' | 'int32MultPj' | 'int32AddPj'): Partial<Record<typeof k, number>> => (r[k] === undefined ? {} : { [k]: num(k) });
  return {
    source: r.source,
    dramReadPj: num('dramReadPj'),
    sramReadPj: num('sramReadPj'),
    multPj: num('multPj'),
    addPj: num('addPj'),
    ...optional('int8MultPj'),
    ...optional('int8AddPj'),
    ...optional('int32MultPj'),
    ...optional('int32AddPj'),
  };
}

/** Memory to train the model: weights, gradients, optimizer state and the stored activations. */
export interface TrainingMemory {
  /** The batch size the activations are given for. */
  readonly batch: number;
  /** Bytes per stored value (fp32 training: 4). */
  readonly bytesPerValue: number;
  readonly weightsBytes: number;
  readonly gradientsBytes: number;
  /** Optimizer state: SGD with momentum keeps one buffer per parameter, Adam two (m and v). */
  readonly optimizerBytes: { readonly sgdMomentum: number; readonly adam: number };
  /** Activations stored for the backward pass (the lecture's activation total, at `batch`); null when unknown. */
  readonly activationsBytes: number | null;
  /** weights + gradients + optimizer state + activations; null when the activations are unknown. */
  readonly totalBytes: { readonly sgdMomentum: number | null; readonly adam: number | null };
  readonly note: string;
}

export function trainingMemory(params: number, activationsPerSample: number | null, batch: number, bytesPerValue = 4): TrainingMemory {
  const w = params * bytesPerValue;
  const act = activationsPerSample === null ? null : activationsPerSample * batch * bytesPerValue;
  const sgd = w;
  const adam = 2 * w;
  return {
    batch,
    bytesPerValue,
    weightsBytes: w,
    gradientsBytes: w,
    optimizerBytes: { sgdMomentum: sgd, adam },
    activationsBytes: act,
    totalBytes: { sgdMomentum: act === null ? null : w + w + sgd + act, adam: act === null ? null : w + w + adam + act },
    note: 'fp32 training: weights + gradients (one per parameter) + optimizer state (SGD-momentum 1, Adam 2 per parameter) + every layer output stored for the backward pass (the activation total, in-place activations and views excluded), per sample × batch',
  };
}
