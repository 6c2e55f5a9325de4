"""Recurrent units: paper equations, unrolling, gradients, interface and errors."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from tests.helpers import close, gradcheck, missing_grads
from tests.recurrent import reference as ref
from vidgan_blocks.layers import freeze_spectral_norm, has_spectral_norm
from vidgan_blocks.recurrent import (
    PTSRU,
    TSRU,
    ConvGRU,
    ConvLSTM,
    KTrajGRU,
    MultiplicativeConvGRU,
    RecurrentUnit,
)

CIN, CH = 3, 4

BUILDERS = {
    "ConvGRU": lambda **kw: ConvGRU(CIN, CH, **kw),
    "MultiplicativeConvGRU": lambda **kw: MultiplicativeConvGRU(CIN, CH, **kw),
    "ConvLSTM": lambda **kw: ConvLSTM(CIN, CH, **kw),
    "KTrajGRU": lambda **kw: KTrajGRU(CIN, CH, **kw),
    "TSRUc": lambda **kw: TSRU(CIN, CH, variant="c", **kw),
    "TSRUp": lambda **kw: TSRU(CIN, CH, variant="p", **kw),
    "TSRUs": lambda **kw: TSRU(CIN, CH, variant="s", **kw),
    "PTSRUs": lambda **kw: PTSRU(CIN, CH, **kw),
}
WARPING = {"KTrajGRU", "TSRUc", "TSRUp", "TSRUs", "PTSRUs"}


def build(name: str, dtype=torch.float32, **kw) -> RecurrentUnit:
    unit = BUILDERS[name](**kw).to(dtype)
    freeze_spectral_norm(unit)  # fixed weights, so two calls see the same normalised kernels
    return unit


def reference_step(name, unit, x, state):
    """The unit's equations written out with its own layers; returns (state, kernels or None)."""
    if name == "ConvGRU":
        return ref.conv_gru(unit, x, state), None
    if name == "MultiplicativeConvGRU":
        return ref.mconv_gru(unit, x, state), None
    if name == "ConvLSTM":
        return ref.conv_lstm(unit, x, state), None
    if name == "KTrajGRU":
        return ref.k_traj_gru(unit, x, state)
    return ref.tsru(unit, x, state, pixelwise=name.startswith("PTSRU"))


def random_state(name, b=2, hw=(5, 6), dtype=torch.float64, device=None):
    if name == "ConvLSTM":
        return tuple(torch.randn(b, CH // 2, *hw, dtype=dtype, device=device) for _ in range(2))
    return torch.randn(b, CH, *hw, dtype=dtype, device=device)


def as_tensor(state):
    return torch.cat(state, dim=1) if isinstance(state, tuple) else state


@pytest.mark.parametrize("name", list(BUILDERS))
def test_bf16_autocast_with_float32_input_and_state(name, device):
    """Under autocast the gates run in bf16 while inputs and a given state may be float32."""
    if device.type == "cuda" and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bfloat16 support")
    torch.manual_seed(0)
    unit = build(name).to(device)
    x = torch.randn(2, CIN, 3, 5, 6, device=device, requires_grad=True)
    expected = unit(x)
    with torch.autocast(device.type, dtype=torch.bfloat16):
        out = unit(x)
        stepped = unit.step(x[:, :, 0], random_state(name, dtype=torch.float32, device=device))
    assert out.dtype == torch.bfloat16 and as_tensor(stepped).dtype == torch.bfloat16
    close(out.float(), expected, device, rtol=0, atol=0.05)
    out.float().square().mean().backward()
    assert torch.isfinite(x.grad).all() and not missing_grads(unit)


@pytest.mark.parametrize("name", list(BUILDERS))
class TestEveryUnit:
    def test_step_matches_paper_equations(self, name, device):
        unit = build(name, torch.float64).to(device)
        x = torch.randn(2, CIN, 5, 6, dtype=torch.float64, device=device)
        h = random_state(name, device=device)
        expected, kernels = reference_step(name, unit, x, h)
        got = unit.step(x, h)
        close(as_tensor(got), as_tensor(expected), device)
        if kernels is not None:
            close(unit.last_kernels[:, :, 0], kernels, device)

    def test_parameter_gradients_match_paper_equations(self, name, device):
        unit = build(name, torch.float64).to(device)
        x = torch.randn(2, CIN, 4, 4, dtype=torch.float64, device=device)
        h = random_state(name, hw=(4, 4), device=device)
        weight = torch.randn(2, CH, 4, 4, dtype=torch.float64, device=device)
        (as_tensor(reference_step(name, unit, x, h)[0]) * weight).sum().backward()
        expected = {n: p.grad.clone() for n, p in unit.named_parameters()}
        unit.zero_grad()
        (as_tensor(unit.step(x, h)) * weight).sum().backward()
        for n, p in unit.named_parameters():
            close(p.grad, expected[n], device, msg=lambda m, n=n: f"{n}: {m}")

    def test_unroll_equals_repeated_steps(self, name, device):
        unit = build(name, torch.float64).to(device)
        x = torch.randn(2, CIN, 4, 5, 6, dtype=torch.float64, device=device)
        h0 = torch.randn(2, CH, 5, 6, dtype=torch.float64, device=device)
        out = unit(x, h0)
        assert out.shape == (2, CH, 4, 5, 6)
        kernels = unit.last_kernels
        state = unit.state_from_features(h0)
        for t in range(4):
            state = unit.step(x[:, :, t], state)
            close(out[:, :, t], unit.output_from_state(state), device)
            if name in WARPING:
                close(kernels[:, :, t], unit.last_kernels[:, :, 0], device)

    def test_zero_default_state(self, name, device):
        unit = build(name).to(device)
        x = torch.randn(2, CIN, 3, 4, 4, device=device)
        close(unit(x), unit(x, torch.zeros(2, CH, 4, 4, device=device)), device)
        zero = unit.init_state(x[:, :, 0])
        assert float(as_tensor(zero).abs().sum()) == 0.0

    @pytest.mark.parametrize("t", [1, 7])
    def test_any_length(self, name, t, device):
        unit = build(name).to(device)
        out = unit(torch.randn(1, CIN, t, 3, 5, device=device))
        assert out.shape == (1, CH, t, 3, 5)
        assert torch.isfinite(out).all()
        if name in WARPING:
            assert unit.last_kernels.shape == (1, 9, t, 3, 5)
            close(unit.last_kernels.sum(1), torch.ones(1, t, 3, 5, device=device), device)
            assert not unit.last_kernels.requires_grad

    def test_gradcheck(self, name, device):
        unit = build(name, torch.float64).to(device)
        x = torch.randn(1, CIN, 2, 3, 2, dtype=torch.float64, device=device, requires_grad=True)
        h0 = torch.randn(1, CH, 3, 2, dtype=torch.float64, device=device, requires_grad=True)
        # fast mode compares the Jacobian along random directions (the full one is checked
        # against the written-out equations by test_parameter_gradients_match_paper_equations).
        assert gradcheck(lambda a, b: unit(a, b), (x, h0), device, fast_mode=True)

    def test_every_parameter_gets_gradient(self, name, device):
        unit = BUILDERS[name]().to(device)
        unit(torch.randn(2, CIN, 3, 4, 4, device=device), torch.randn(2, CH, 4, 4, device=device)).square().mean().backward()
        assert missing_grads(unit) == []

    def test_spectral_norm_switch(self, name):
        layers = lambda u: [m for m in u.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
        with_sn = BUILDERS[name]()
        without = BUILDERS[name](sn=False)
        assert layers(with_sn) and all(has_spectral_norm(m) for m in layers(with_sn))
        assert not any(has_spectral_norm(m) for m in layers(without))

    def test_interface(self, name):
        unit = BUILDERS[name]()
        assert isinstance(unit, RecurrentUnit)
        assert (unit.in_channels, unit.hidden_channels) == (CIN, CH)
        assert hasattr(unit, "last_kernels")

    def test_input_errors(self, name):
        unit = build(name)
        with pytest.raises(ValueError, match=rf"\(B, {CIN}, T, H, W\)"):
            unit(torch.randn(1, CIN + 1, 2, 4, 4))
        with pytest.raises(ValueError, match="5-D"):
            unit(torch.randn(1, CIN, 4, 4))
        with pytest.raises(TypeError, match="torch.Tensor"):
            unit([1.0])
        with pytest.raises(ValueError, match=rf"\(1, {CH}, 4, 4\)"):
            unit(torch.randn(1, CIN, 2, 4, 4), torch.randn(1, CH, 4, 5))
        with pytest.raises(ValueError, match=rf"\(N, {CH}, H, W\)"):
            unit(torch.randn(1, CIN, 2, 4, 4), torch.randn(1, CH + 2, 4, 4))
        with pytest.raises(ValueError, match=rf"\(N, {CIN}, H, W\)"):
            unit.step(torch.randn(1, CIN + 1, 4, 4), unit.init_state(torch.randn(1, CIN, 4, 4)))


@settings(max_examples=10)
@given(b=st.integers(1, 2), t=st.integers(1, 4), hh=st.integers(1, 5), ww=st.integers(1, 5))
def test_shapes_through_unrolling(b, t, hh, ww):
    for unit in (_GRU, _TSRU):
        with torch.no_grad():
            out = unit(torch.randn(b, CIN, t, hh, ww))
        assert out.shape == (b, CH, t, hh, ww)
    assert _TSRU.last_kernels.shape == (b, 9, t, hh, ww)


_GRU = ConvGRU(CIN, CH, sn=False)
_TSRU = TSRU(CIN, CH, sn=False)


class TestConvLSTMState:
    def test_features_split_into_hidden_and_cell(self, device):
        unit = build("ConvLSTM").to(device)
        f = torch.randn(2, CH, 3, 3, device=device)
        h, c = unit.state_from_features(f)
        close(h, f[:, : CH // 2], device)
        close(c, f[:, CH // 2 :], device)
        close(unit.output_from_state((h, c)), f, device)

    def test_pair_as_h0(self, device):
        unit = build("ConvLSTM").to(device)
        x = torch.randn(2, CIN, 3, 3, 3, device=device)
        f = torch.randn(2, CH, 3, 3, device=device)
        close(unit(x, unit.state_from_features(f)), unit(x, f), device)

    def test_output_is_hidden_and_cell(self, device):
        unit = build("ConvLSTM").to(device)
        x = torch.randn(1, CIN, 2, 3, 3, device=device)
        out = unit(x)
        h, c = unit.step(x[:, :, 0], unit.init_state(x[:, :, 0]))
        close(out[:, : CH // 2, 0], h, device)
        close(out[:, CH // 2 :, 0], c, device)

    def test_state_errors(self):
        unit = build("ConvLSTM")
        x = torch.randn(1, CIN, 3, 3)
        with pytest.raises(TypeError, match=r"pair \(h, c\)"):
            unit.step(x, torch.randn(1, CH, 3, 3))
        with pytest.raises(ValueError, match=r"\(1, 2, 3, 3\)"):
            unit.step(x, (torch.randn(1, 2, 3, 3), torch.randn(1, 2, 3, 4)))
        with pytest.raises(ValueError, match="even"):
            ConvLSTM(3, 5)


class TestConstructorErrors:
    def test_variant(self):
        with pytest.raises(ValueError, match="variant"):
            TSRU(3, 4, variant="x")

    def test_even_kernel(self):
        with pytest.raises(ValueError, match="odd"):
            ConvGRU(3, 4, kernel_size=2)

    def test_channels(self):
        with pytest.raises(ValueError, match="in_channels"):
            ConvGRU(0, 4)
        with pytest.raises(TypeError, match="hidden_channels"):
            TSRU(3, 4.0)


def test_pixelwise_parallel_variant_matches_paper_equations(device):
    unit = build("PTSRUs", torch.float64, variant="p").to(device)
    x = torch.randn(2, CIN, 4, 5, dtype=torch.float64, device=device)
    h = torch.randn(2, CH, 4, 5, dtype=torch.float64, device=device)
    expected, kernels = ref.tsru(unit, x, h, pixelwise=True)
    close(unit.step(x, h), expected, device)
    close(unit.last_kernels[:, :, 0], kernels, device)


class TestOptions:
    def test_activation_is_injected(self, device):
        unit = ConvGRU(CIN, CH, act_layer=nn.Tanh).double()
        freeze_spectral_norm(unit).to(device)
        x = torch.randn(1, CIN, 3, 3, dtype=torch.float64, device=device)
        h = torch.randn(1, CH, 3, 3, dtype=torch.float64, device=device)
        close(unit.step(x, h), ref.conv_gru(unit, x, h, rho=torch.tanh), device)

    def test_five_by_five_warp_and_fewer_kernels(self, device):
        unit = TSRU(CIN, CH, variant="c", warp_kernel_size=5, num_kernels=4).double()
        freeze_spectral_norm(unit).to(device)
        x = torch.randn(1, CIN, 6, 6, dtype=torch.float64, device=device)
        h = torch.randn(1, CH, 6, 6, dtype=torch.float64, device=device)
        expected, kernels = ref.tsru(unit, x, h)
        close(unit.step(x, h), expected, device)
        assert unit.last_kernels.shape == (1, 25, 1, 6, 6)

    def test_training_mode_power_iteration_runs_once_per_call(self, device):
        unit = ConvGRU(CIN, CH).to(device)
        u0 = unit.conv_r.parametrizations.weight[0]._u.clone()
        unit(torch.randn(1, CIN, 5, 3, 3, device=device))
        u1 = unit.conv_r.parametrizations.weight[0]._u.clone()
        assert not torch.equal(u0, u1)  # it advanced
        unit2 = ConvGRU(CIN, CH).to(device)
        unit2.load_state_dict({**unit.state_dict(), "conv_r.parametrizations.weight.0._u": u0})
        unit2.conv_r(torch.randn(1, CH + CIN, 3, 3, device=device))  # exactly one power iteration
        close(unit2.conv_r.parametrizations.weight[0]._u, u1, device)
