/**
 * @onnxkit/zoo — deterministic, seeded builders of reference architectures (AlexNet as in MIT
 * EfficientML.ai lecture 2, VGG-16, ResNet-50 v1.5, MobileNetV2, a transformer stack) as
 * onnxkit IR models, with PyTorch module paths as names. Browser-safe: depends only on
 * @onnxkit/graph.
 */
export { alexnet, type AlexNetOptions } from './alexnet.js';
export { vgg16, type Vgg16Options } from './vgg16.js';
export { resnet50, type ResNet50Options } from './resnet50.js';
export { mobilenetv2, makeDivisible, type MobileNetV2Options } from './mobilenetv2.js';
export { transformer, LAYER_NORM_EPSILON, type TransformerOptions } from './transformer.js';
export { ZOO_MODELS, buildZooModel, type ZooModelInfo, type ZooModelName, type ZooModelOptions } from './registry.js';
export { DEFAULT_OPSET, MAX_OPSET, MIN_OPSET, type ImageModelOptions, type WeightsMode, type ZooOptions } from './options.js';
export { ZooError } from './errors.js';
export { Prng, normalArray } from './prng.js';
export { BN_EPSILON } from './net.js';
