/** The list of zoo models and a name-based entry point (used by `onnxkit zoo <name>`). */
import type { Model } from '@onnxkit/graph';
import { alexnet, type AlexNetOptions } from './alexnet.js';
import { ZooError } from './errors.js';
import { mobilenetv2, type MobileNetV2Options } from './mobilenetv2.js';
import { resnet50, type ResNet50Options } from './resnet50.js';
import { transformer, type TransformerOptions } from './transformer.js';
import { vgg16, type Vgg16Options } from './vgg16.js';

export interface ZooModelInfo {
  readonly name: ZooModelName;
  readonly title: string;
  readonly description: string;
  /** The paper (and, where it matters, the implementation) the builder follows. */
  readonly reference: string;
}

export type ZooModelName = 'alexnet' | 'vgg16' | 'resnet50' | 'mobilenetv2' | 'transformer';

/** Options accepted by `buildZooModel` for each name. */
export interface ZooModelOptions {
  alexnet: AlexNetOptions;
  vgg16: Vgg16Options;
  resnet50: ResNet50Options;
  mobilenetv2: MobileNetV2Options;
  transformer: TransformerOptions;
}

export const ZOO_MODELS: readonly ZooModelInfo[] = Object.freeze([
  {
    name: 'alexnet',
    title: 'AlexNet',
    description: 'AlexNet as tabulated in MIT EfficientML.ai lecture 2: 5 convs (groups 2 on three), 3 max-pools, 3 linear layers; 60,954,656 weights (bias ignored), 724,406,816 MACs.',
    reference: 'Krizhevsky, Sutskever, Hinton. ImageNet Classification with Deep Convolutional Neural Networks. NeurIPS 2012.',
  },
  {
    name: 'vgg16',
    title: 'VGG-16',
    description: 'VGG-16 configuration D in torchvision layout: 13 3×3 convs, 5 max-pools, 7×7 average pool, 3 linear layers; 138,357,544 parameters, 15,470,264,320 MACs.',
    reference: 'Simonyan, Zisserman. Very Deep Convolutional Networks for Large-Scale Image Recognition. ICLR 2015 (torchvision.models.vgg16).',
  },
  {
    name: 'resnet50',
    title: 'ResNet-50 v1.5',
    description: 'ResNet-50 v1.5 (stride on the 3×3 conv) in torchvision layout with BatchNormalization kept; 25,557,032 learnable parameters, 4,089,184,256 MACs.',
    reference: 'He, Zhang, Ren, Sun. Deep Residual Learning for Image Recognition. CVPR 2016 (torchvision.models.resnet50, v1.5).',
  },
  {
    name: 'mobilenetv2',
    title: 'MobileNetV2',
    description: 'MobileNetV2 in torchvision layout with BatchNormalization kept and ReLU6 as Clip; 3,504,872 learnable parameters, 300,774,272 MACs (width 1.0).',
    reference: 'Sandler, Howard, Zhu, Zhmoginov, Chen. MobileNetV2: Inverted Residuals and Linear Bottlenecks. CVPR 2018 (torchvision.models.mobilenet_v2).',
  },
  {
    name: 'transformer',
    title: 'Transformer',
    description: 'Configurable transformer encoder (post-LN) or decoder-only (pre-LN, causal) stack as PyTorch exports it: MatMul/Add linears, batched-MatMul attention, Softmax, LayerNormalization, erf GELU.',
    reference: 'Vaswani et al. Attention Is All You Need. NeurIPS 2017.',
  },
]);

/** Builds the zoo model `name`. Throws ZooError for an unknown name. */
export function buildZooModel<K extends ZooModelName>(name: K, o?: ZooModelOptions[K]): Model;
export function buildZooModel(name: string, o?: object): Model;
export function buildZooModel(name: string, o: object = {}): Model {
  switch (name) {
    case 'alexnet':
      return alexnet(o);
    case 'vgg16':
      return vgg16(o);
    case 'resnet50':
      return resnet50(o);
    case 'mobilenetv2':
      return mobilenetv2(o);
    case 'transformer':
      return transformer(o);
    default:
      throw new ZooError(`unknown zoo model ${JSON.stringify(name)}`, {
        code: 'ZOO_UNKNOWN_MODEL',
        hint: `choose one of: ${ZOO_MODELS.map((m) => m.name).join(', ')}`,
      });
  }
}
