"""Convolutional recurrent units with one interface, kernel hypernetworks and the motion read-out.

Every unit maps ``(B, C_in, T, H, W)`` to ``(B, C_h, T, H, W)`` (see
:class:`RecurrentUnit`).
"""

from .base import ActLayer, RecurrentUnit
from .gru import ConvGRU, MultiplicativeConvGRU
from .hyper import FactorizedKernelNet, PixelwiseKernelNet
from .lstm import ConvLSTM
from .motion import combine_flows, expected_flow, flow_to_rgb
from .tsru import PTSRU, TSRU, KTrajGRU, TSRUVariant

__all__ = [
    "ActLayer",
    "ConvGRU",
    "ConvLSTM",
    "FactorizedKernelNet",
    "KTrajGRU",
    "MultiplicativeConvGRU",
    "PTSRU",
    "PixelwiseKernelNet",
    "RecurrentUnit",
    "TSRU",
    "TSRUVariant",
    "combine_flows",
    "expected_flow",
    "flow_to_rgb",
]
