/**
 * Per-op type and shape rules for shape inference, following the operator spec for opsets 7–21+:
 * each op declares its rule in its module (ops/, the `shape` facet) and this table is derived
 * from the registry. A rule reads its inputs' facts through a RuleContext and sets its outputs;
 * it never throws on inconsistent input but reports a diagnostic and leaves what it cannot know
 * as null.
 *
 * Rules also propagate *partial values* of small integer tensors (Shape, Gather, Concat,
 * Unsqueeze, Slice, Cast, arithmetic…), which is how a Reshape whose target was computed from
 * `Shape(x)` of a symbolic-batch input still gets concrete trailing dims.
 */
import { SHAPE_FACET } from '../ops/registry.js';
import type { ShapeRule } from './inference-types.js';

export { broadcastShapesSymbolic } from '../ops/shape-helpers.js';

export const SHAPE_RULES: Readonly<Record<string, ShapeRule>> = SHAPE_FACET;
