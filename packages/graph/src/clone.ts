/**
 * Deep copies of graphs and models. Tensors are immutable and shared between the copies;
 * everything mutable (values, nodes, attributes holding graphs, metadata) is copied.
 */
import { Attribute, AttributeType } from './attribute.js';
import { Graph, Model, Node, OnnxFunction, Value, type TrainingInfo } from './core.js';

function cloneValue(v: Value): Value {
  const nv = new Value({ name: v.name, type: v.type, docString: v.docString, metadataProps: v.hasMetadata ? new Map(v.metadataProps) : undefined, constValue: v.constValue });
  nv.sparseValue = v.sparseValue;
  nv.unknownFields = v.unknownFields?.slice();
  return nv;
}

/**
 * Copies `g`. `outer` maps values of enclosing scopes to their copies; values referenced but
 * defined nowhere get a fresh placeholder so the copy never links back into the original (and a
 * value read before the node that produces it, the copy its producer then outputs).
 */
export function cloneGraph(g: Graph, outer: ReadonlyMap<Value, Value> = new Map()): Graph {
  const map = new Map(outer);
  // Whether a value was read before the node that produces it (see the node outputs below).
  let forward = false;
  const get = (v: Value): Value => {
    let nv = map.get(v);
    if (nv === undefined) {
      nv = cloneValue(v);
      map.set(v, nv);
      if (v.producer) forward = true;
    }
    return nv;
  };
  const ng = new Graph({ name: g.name, docString: g.docString, metadataProps: new Map(g.metadataProps) });
  ng.unknownFields = g.unknownFields?.slice();
  ng.quantizationAnnotations = g.quantizationAnnotations.map((q) => ({ tensorName: q.tensorName, params: q.params.map(([k, v]) => [k, v] as [string, string]) }));
  for (const v of g.inputs) {
    const nv = cloneValue(v);
    map.set(v, nv);
    ng.addInput(nv);
  }
  for (const v of g.initializers.values()) ng.addInitializer(map.has(v) ? map.get(v)! : get(v));
  for (const v of g.sparseInitializers.values()) ng.addSparseInitializer(map.has(v) ? map.get(v)! : get(v));
  for (const n of g) {
    const attrs = [...n.attributes.values()].map((a) => cloneAttribute(a, map));
    const nn = new Node(n.opType, n.inputs.map((v) => (v === null ? null : get(v))), {
      domain: n.domain,
      name: n.name,
      overload: n.overload,
      docString: n.docString,
      metadataProps: n.hasMetadata ? new Map(n.metadataProps) : undefined,
      attributes: attrs,
      // A value read before its producer (a cycle, a node reading its own output: an invalid
      // model, kept as it is) already has its copy: the producer's copy must be that one, or the
      // reader was left on a placeholder and verify() said 'defined nowhere in scope'. (Looked up
      // only once such a read was seen: no lookup per output in a valid graph.)
      outputs: forward ? n.outputs.map((o) => map.get(o) ?? cloneValue(o)) : n.outputs.map(cloneValue),
    });
    nn.unknownFields = n.unknownFields?.slice();
    n.outputs.forEach((o, i) => map.set(o, nn.outputs[i]!));
    ng.append(nn);
  }
  for (const v of g.outputs) ng.addOutput(get(v));
  ng.danglingValueInfo = g.danglingValueInfo.map(cloneValue);
  return ng;
}

function cloneAttribute(a: Attribute, scope: ReadonlyMap<Value, Value>): Attribute {
  if (a.isRef) return a;
  if (a.type === AttributeType.GRAPH) return new Attribute(a.name, a.type, cloneGraph(a.value as Graph, scope), a);
  if (a.type === AttributeType.GRAPHS) return new Attribute(a.name, a.type, (a.value as Graph[]).map((g) => cloneGraph(g, scope)), a);
  return a;
}

export function cloneModel(m: Model): Model {
  const mainMap = new Map<Value, Value>();
  const graph = cloneGraphRecording(m.graph, mainMap);
  const functions = m.functions.map((f) => {
    const nf = new OnnxFunction({
      domain: f.domain,
      name: f.name,
      overload: f.overload,
      graph: cloneGraph(f.graph),
      attributeNames: [...f.attributeNames],
      attributeDefaults: f.attributeDefaults.map((a) => cloneAttribute(a, new Map())),
      opsetImports: new Map(f.opsetImports),
      docString: f.docString,
      metadataProps: new Map(f.metadataProps),
    });
    nf.unknownFields = f.unknownFields?.slice();
    return nf;
  });
  const trainingInfo: TrainingInfo[] = m.trainingInfo.map((t) => ({
    initialization: t.initialization ? cloneGraph(t.initialization, mainMap) : null,
    algorithm: t.algorithm ? cloneGraph(t.algorithm, mainMap) : null,
    initializationBinding: t.initializationBinding.map(([k, v]) => [k, v] as [string, string]),
    updateBinding: t.updateBinding.map(([k, v]) => [k, v] as [string, string]),
    ...(t.unknownFields ? { unknownFields: t.unknownFields.slice() } : {}),
  }));
  const nm = new Model({
    graph,
    irVersion: m.irVersion,
    opsetImports: new Map(m.opsetImports),
    producerName: m.producerName,
    producerVersion: m.producerVersion,
    domain: m.domain,
    modelVersion: m.modelVersion,
    docString: m.docString,
    metadataProps: new Map(m.metadataProps),
    functions,
    trainingInfo,
  });
  nm.unknownFields = m.unknownFields?.slice();
  return nm;
}

/** Clones the main graph and records old→new for its top-level values (training graphs use them). */
function cloneGraphRecording(g: Graph, record: Map<Value, Value>): Graph {
  const ng = cloneGraph(g);
  const byNameNew = ng.valuesByName();
  for (const [name, v] of g.valuesByName()) {
    const nv = byNameNew.get(name);
    if (nv) record.set(v, nv);
  }
  return ng;
}
