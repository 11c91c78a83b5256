/**
 * A model-sized array is never spread into a call (issue 13): ~150k nodes used to crash
 * `analyze` in the table formatter (`Math.max(...rows)`, "Maximum call stack size exceeded").
 * The lint rule in eslint.config.js forbids such spreads in packages/[pkg]/src; this is the
 * end-to-end regression.
 */
import { expect, it } from 'vitest';
import { DataType, GraphBuilder } from '@onnxkit/graph';
import { analyzeModel, formatAnalysisTable } from '@onnxkit/passes';

it('a 150,000-node graph is analysed and formatted as a table', () => {
  const b = new GraphBuilder({ name: 'wide', opset: 17 });
  let x = b.input('x', DataType.FLOAT, [1, 4]);
  for (let i = 0; i < 150_000; i++) x = b.op('Relu', [x]);
  b.output(x, 'y');
  const report = analyzeModel(b.build());
  expect(report.layers.length).toBe(150_000);
  const text = formatAnalysisTable(report);
  expect(text.split('\n').length).toBeGreaterThan(150_000);
}, 120_000);
