"""ResNet-50 variants for the quantization diagnosis (see README.md beside this file).

  zoo:PATH      the onnxkit zoo ResNet-50 written by `onnxkit zoo resnet50 -o PATH` (BN kept,
                torchvision names), its initializers loaded into torchvision's resnet50
  tv:default    torchvision resnet50() with its own random init (kaiming, BN gamma 1, beta 0)
  tv:affine     the same with BN gamma U(0.5, 1.5), beta U(-0.25, 0.25) (as the zoo draws them)
  tv:VARIANT@a  the last BN of every residual branch (bn3) scaled by a (gamma and beta) before
                the statistics are taken, so every later BN is calibrated to the scaled branches

BN running statistics of the tv variants: cumulative averages over 4 seeded batches of 8
uniform [-1, 1) images (the distribution onnxkit's synthetic inputs use), as
fixtures/export_torchvision.py calibrates its fixtures.
"""
import onnx
import torch
import torch.nn as nn
import torchvision
from onnx import numpy_helper


def build(spec):
    torch.manual_seed(0)
    m = torchvision.models.resnet50()
    if spec.startswith("zoo:"):
        sd = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in onnx.load(spec[4:]).graph.initializer}
        own = m.state_dict()
        missing = [k for k in own if k not in sd and not k.endswith("num_batches_tracked")]
        assert not missing, f"not a zoo ResNet-50: {missing[:3]}"
        m.load_state_dict({k: sd.get(k, own[k]) for k in own})
        return m.eval()
    variant, _, scale = spec[3:].partition("@")
    bns = [x for x in m.modules() if isinstance(x, nn.BatchNorm2d)]
    for b in bns:
        b.reset_running_stats()
        b.momentum = None
    g = torch.Generator().manual_seed(1)
    if variant == "affine":
        with torch.no_grad():
            for b in bns:
                b.weight.copy_(torch.rand(b.num_features, generator=g) + 0.5)
                b.bias.copy_((torch.rand(b.num_features, generator=g) - 0.5) * 0.5)
    if scale:
        with torch.no_grad():
            for name, b in m.named_modules():
                if name.endswith("bn3"):
                    b.weight.mul_(float(scale))
                    b.bias.mul_(float(scale))
    m.train()
    with torch.no_grad():
        for _ in range(4):
            m(torch.rand(8, 3, 224, 224, generator=g) * 2 - 1)
    return m.eval()
