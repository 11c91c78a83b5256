#!/usr/bin/python3
"""Writes a torchvision ResNet-50 variant (models.py) as ONNX with BatchNormalization kept:
    /usr/bin/python3 bench/quantize-diagnosis/export.py tv:default /tmp/tv_default.onnx"""
import sys

import torch

from models import build

spec, out = sys.argv[1], sys.argv[2]
m = build(spec)
torch.onnx.export(m, torch.zeros(1, 3, 224, 224), out, opset_version=13, input_names=["input"], output_names=["output"],
                  training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
print("wrote", out)
