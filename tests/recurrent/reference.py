"""Line-by-line transcriptions of the papers' recurrent equations, for comparison with the units.

Every function takes the unit only to borrow its layers (same weights) and calls
each layer on the concatenation the paper writes; nothing is fused or hoisted.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def cat(*xs):
    return torch.cat(xs, dim=1)


def warp_unfold(h, weights):
    """Eq. 11 via an explicit im2col buffer (odd k)."""
    n, c, hh, ww = h.shape
    k = int(round(weights.shape[1] ** 0.5))
    cols = F.unfold(h, k, padding=k // 2).view(n, c, k * k, hh * ww)
    return (cols * weights.reshape(n, 1, k * k, hh * ww)).sum(2).view(n, c, hh, ww)


def factorized_f(net, z):
    """Appendix F.1 factorized hypernetwork and eq. 12, written out."""
    feat = F.relu(net.conv_feat(z))
    pooled = F.adaptive_max_pool2d(feat, 4).flatten(1)
    w = net.fc_out(F.relu(net.fc_hidden(pooled)))
    b = z.shape[0]
    w = torch.softmax(w.view(b, net.kernel_size**2, net.num_kernels), dim=1)  # each kernel a distribution
    s = torch.softmax(net.conv_select(z), dim=1)  # [B, N, H, W]
    weights = torch.zeros(b, net.kernel_size**2, *z.shape[2:], dtype=z.dtype, device=z.device)
    for l in range(net.num_kernels):
        weights = weights + s[:, l : l + 1] * w[:, :, l, None, None]
    return weights


def pixelwise_f(net, z):
    """Appendix F.1 pixelwise hypernetwork: conv, ReLU, conv, ReLU, conv, softmax."""
    a = F.relu(net.conv_in(z))
    a = F.relu(net.conv_hidden(a))
    return torch.softmax(net.conv_out(a), dim=1)


def conv_gru(unit, x, h, rho=F.relu):
    r = torch.sigmoid(unit.conv_r(cat(h, x)))  # (1)
    h_reset = r * h  # (2)
    c = rho(unit.conv_c(cat(h_reset, x)))  # (3)
    u = torch.sigmoid(unit.conv_u(cat(h, x)))  # (4)
    return u * h + (1 - u) * c  # (5)


def mconv_gru(unit, x, h, rho=F.relu):
    g = unit.conv_gh(h) * unit.conv_gx(x)
    r = torch.sigmoid(unit.conv_r(cat(g, x)))
    u = torch.sigmoid(unit.conv_u(cat(g, x)))
    c = rho(unit.conv_c(cat(x, r * g)))
    return u * g + (1 - u) * c


def conv_lstm(unit, x, state, rho=F.relu):
    h, c = state
    z = cat(h, x)
    i = torch.sigmoid(unit.conv_i(z))
    f = torch.sigmoid(unit.conv_f(z))
    o = torch.sigmoid(unit.conv_o(z))
    g = rho(unit.conv_g(z))
    c = f * c + i * g
    h = o * rho(c)
    return h, c


def tsru(unit, x, h, rho=F.relu, pixelwise=False):
    f = pixelwise_f if pixelwise else factorized_f
    theta = f(unit.hyper, cat(h, x))  # (6)
    h_warp = warp_unfold(h, theta)  # (7)
    if unit.variant == "c":
        c = rho(unit.conv_c(cat(h_warp, x)))  # (8)
        u = torch.sigmoid(unit.conv_u(cat(h, x)))  # (9)
    elif unit.variant == "p":
        c = rho(unit.conv_c(cat(h, x)))
        u = torch.sigmoid(unit.conv_u(cat(h, x)))
    else:
        c = rho(unit.conv_c(cat(h_warp, x)))
        u = torch.sigmoid(unit.conv_u(cat(h_warp, c)))
    return u * h_warp + (1 - u) * c, theta  # (10)


def k_traj_gru(unit, x, h, rho=torch.tanh):
    theta = factorized_f(unit.hyper, cat(h, x))  # (16)
    h_warp = warp_unfold(h, theta)  # (17)
    r = torch.sigmoid(unit.conv_r(cat(h_warp, x)))  # (18)
    h_reset = r * h_warp  # (19)
    c = rho(unit.conv_c(cat(h_reset, x)))  # (20)
    u = torch.sigmoid(unit.conv_u(cat(h_warp, x)))  # (21)
    return u * h + (1 - u) * c, theta  # (22)
