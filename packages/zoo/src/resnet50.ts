/**
 * ResNet-50 v1.5 (He et al., 2016; torchvision's variant with the stride on the 3×3 conv of a
 * bottleneck) with BatchNormalization nodes kept, as `torch.onnx.export(model.eval(),
 * training=TrainingMode.PRESERVE)` writes it. Stages of 3, 4, 6, 3 bottlenecks (width 64, 128,
 * 256, 512; expansion 4); convs have no bias. 25,557,032 learnable parameters (conv/linear
 * weights and biases plus BN scale and shift), 53,120 BN buffers, 4,089,184,256 MACs at 224.
 *
 * Names are torchvision's: `conv1`, `bn1`, `layer1.0.conv1`, `layer1.0.bn1`,
 * `layer1.0.downsample.0`, `layer1.0.relu_2`, `layer1.0.Add`, `avgpool`, `fc`.
 */
import type { Model } from '@onnxkit/graph';
import { type Act, Net } from './net.js';
import { resolveImageOptions, type ImageModelOptions } from './options.js';

export type ResNet50Options = ImageModelOptions;

const STAGES: readonly (readonly [width: number, blocks: number, stride: number])[] = [
  [64, 3, 1],
  [128, 4, 2],
  [256, 6, 2],
  [512, 3, 2],
];
const EXPANSION = 4;

function bottleneck(net: Net, name: string, x: Act, width: number, stride: number): Act {
  const out = width * EXPANSION;
  let y = net.conv(`${name}.conv1`, x, { out: width, kernel: 1 });
  y = net.batchNorm(`${name}.bn1`, y);
  y = net.relu(`${name}.relu`, y);
  y = net.conv(`${name}.conv2`, y, { out: width, kernel: 3, stride, pad: 1 });
  y = net.batchNorm(`${name}.bn2`, y);
  y = net.relu(`${name}.relu_1`, y);
  y = net.conv(`${name}.conv3`, y, { out, kernel: 1 });
  y = net.batchNorm(`${name}.bn3`, y);
  let identity = x;
  if (stride !== 1 || x.dims[0] !== out) {
    identity = net.conv(`${name}.downsample.0`, x, { out, kernel: 1, stride });
    identity = net.batchNorm(`${name}.downsample.1`, identity);
  }
  return net.relu(`${name}.relu_2`, net.add(`${name}.Add`, y, identity));
}

export function resnet50(o: ResNet50Options = {}): Model {
  const { r, numClasses, size } = resolveImageOptions('resnet50', o, 32);
  const net = new Net('resnet50', r);
  let x = net.input('input', [3, size, size]);
  x = net.conv('conv1', x, { out: 64, kernel: 7, stride: 2, pad: 3 });
  x = net.batchNorm('bn1', x);
  x = net.relu('relu', x);
  x = net.maxPool('maxpool', x, 3, 2, 1);
  STAGES.forEach(([width, blocks, stride], s) => {
    for (let i = 0; i < blocks; i++) x = bottleneck(net, `layer${s + 1}.${i}`, x, width, i === 0 ? stride : 1);
  });
  x = net.globalAveragePool('avgpool', x);
  x = net.flatten('Flatten', x);
  x = net.linear('fc', x, numClasses, { last: true });
  net.output(x, 'output');
  return net.build('ResNet-50 v1.5, torchvision layout, BatchNormalization kept', { 'zoo.model': 'resnet50' });
}
