"""The fast path of course_lib.torch_cells (course_lib.fast_layers) equals the readable reference.

* for every variant (LSTM peepholes / no forget gate / CIFG / activations, both GRU conventions and their
  activations, tanh and ReLU RNNs), ``layer(X, state)`` and ``layer.forward_reference(X, state)`` give the
  same outputs and the same gradients with respect to X, the initial states and every parameter: float64
  within 1e-10, float32 within 1e-5 (relative to the size of the values), including batch 1 and T = 1;
* the custom autograd Functions pass ``torch.autograd.gradcheck`` (finite differences, float64);
* where PyTorch has the same layer (standard LSTM, GRU with reset after, Elman RNN), values and gradients
  equal ``nn.LSTM``/``nn.GRU``/``nn.RNN`` with converted weights;
* the fast path is the default, ``reference=True`` switches to the readable loop, and training a model
  with either gives the same losses.
"""

import numpy as np
import pytest
import torch

from course_lib import fast_layers
from course_lib.convert import gru_params_from_torch, lstm_params_from_torch, rnn_params_from_torch
from course_lib.gru import GRUConfig
from course_lib.lstm import LSTMConfig
from course_lib.torch_cells import GRULayer, LSTMLayer, RNNLayer

SIZES = [(3, 4, 3, 5), (1, 5, 2, 3), (2, 1, 3, 4), (1, 1, 2, 3)]  # (n, T, d, h): batch 1, T = 1, both
TOLERANCES = [(torch.float64, 1e-10), (torch.float32, 1e-5)]

LSTM_CONFIGS = {
    "standard": LSTMConfig(),
    "peepholes": LSTMConfig(peepholes=True),
    "no-forget-gate": LSTMConfig(forget_gate=False),
    "no-forget-gate-peepholes": LSTMConfig(forget_gate=False, peepholes=True),
    "cifg": LSTMConfig(cifg=True),
    "cifg-peepholes": LSTMConfig(cifg=True, peepholes=True),
    "hard-sigmoid-keras": LSTMConfig(gate_activation="hard_sigmoid_keras"),
    "hard-sigmoid-torch-relu-linear": LSTMConfig(
        gate_activation="hard_sigmoid_torch", candidate_activation="relu", output_activation="linear"
    ),
    "bipolar-gates-peepholes": LSTMConfig(gate_activation="bipolar_sigmoid", peepholes=True),
    "cifg-linear-candidate-sigmoid-output": LSTMConfig(
        cifg=True, candidate_activation="linear", output_activation="sigmoid"
    ),
    "no-forget-relu-output": LSTMConfig(forget_gate=False, output_activation="relu"),
}
GRU_CONFIGS = {
    "reset-after": GRUConfig(reset_after=True),
    "reset-before": GRUConfig(reset_after=False),
    "after-hard-sigmoid-keras": GRUConfig(gate_activation="hard_sigmoid_keras"),
    "before-hard-sigmoid-torch-relu": GRUConfig(
        reset_after=False, gate_activation="hard_sigmoid_torch", candidate_activation="relu"
    ),
    "after-bipolar-linear": GRUConfig(gate_activation="bipolar_sigmoid", candidate_activation="linear"),
    "before-sigmoid-candidate": GRUConfig(reset_after=False, candidate_activation="sigmoid"),
}


def _randomize(layer, scale=0.8):
    """Every parameter random (biases and peepholes too, which the default init leaves at zero/small)."""
    with torch.no_grad():
        for p in layer.parameters():
            p.uniform_(-scale, scale)
    return layer


def _run(layer, forward, X, states, G):
    """Outputs and the gradients of sum(outputs * G) with respect to X, states and every parameter."""
    layer.zero_grad(set_to_none=True)
    X = X.clone().requires_grad_(True)
    states = [S.clone().requires_grad_(True) for S in states]
    H_seq, last = forward(X, tuple(states) if len(states) == 2 else states[0])
    outputs = [H_seq, *(last if isinstance(last, tuple) else (last,))]
    loss = sum((out * g).sum() for out, g in zip(outputs, G, strict=True))
    loss.backward()
    grads = {"X": X.grad, **{f"state{i}": S.grad for i, S in enumerate(states)}}
    grads.update({name: p.grad for name, p in layer.named_parameters()})
    return [out.detach() for out in outputs], grads


def _assert_fast_equals_reference(layer, n, T, dtype, tol, n_states):
    d, h = layer.input_size, layer.hidden_size
    gen = torch.Generator().manual_seed(n * 100 + T * 10 + d + h)
    X = torch.randn(n, T, d, generator=gen, dtype=dtype)
    states = [torch.randn(n, h, generator=gen, dtype=dtype) for _ in range(n_states)]
    G = [torch.randn(n, T, h, generator=gen, dtype=dtype)]
    G += [torch.randn(n, h, generator=gen, dtype=dtype) for _ in range(n_states)]
    fast_out, fast_grads = _run(layer, layer.forward, X, states, G)
    ref_out, ref_grads = _run(layer, layer.forward_reference, X, states, G)
    for a, b in zip(fast_out, ref_out, strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype == dtype
        assert float((a - b).abs().max()) <= tol * max(1.0, float(b.abs().max()))
    assert set(fast_grads) == set(ref_grads)
    for name, ref in ref_grads.items():
        assert fast_grads[name] is not None, name
        assert fast_grads[name].shape == ref.shape, name
        err = float((fast_grads[name] - ref).abs().max())
        assert err <= tol * max(1.0, float(ref.abs().max())), (name, err)


# ----------------------------------------------------------------------------------------------------------
# fast path == readable reference, values and gradients, every variant
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype, tol", TOLERANCES)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("key", list(LSTM_CONFIGS))
def test_lstm_fast_equals_reference(key, size, dtype, tol):
    n, T, d, h = size
    torch.manual_seed(0)
    layer = _randomize(LSTMLayer(d, h, LSTM_CONFIGS[key], dtype=dtype))
    _assert_fast_equals_reference(layer, n, T, dtype, tol, n_states=2)


@pytest.mark.parametrize("dtype, tol", TOLERANCES)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("key", list(GRU_CONFIGS))
def test_gru_fast_equals_reference(key, size, dtype, tol):
    n, T, d, h = size
    torch.manual_seed(1)
    layer = _randomize(GRULayer(d, h, GRU_CONFIGS[key], dtype=dtype))
    _assert_fast_equals_reference(layer, n, T, dtype, tol, n_states=1)


@pytest.mark.parametrize("dtype, tol", TOLERANCES)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_rnn_fast_equals_reference(activation, size, dtype, tol):
    n, T, d, h = size
    torch.manual_seed(2)
    layer = _randomize(RNNLayer(d, h, activation, dtype=dtype))
    _assert_fast_equals_reference(layer, n, T, dtype, tol, n_states=1)


@pytest.mark.parametrize("key", ["standard", "cifg-peepholes", "hard-sigmoid-torch-relu-linear"])
def test_lstm_fast_equals_reference_larger(key):
    """A size where the fused slabs are wide (h = 64) and long (T = 30), float32 and float64."""
    for dtype, tol in TOLERANCES:
        torch.manual_seed(3)
        layer = _randomize(LSTMLayer(7, 64, LSTM_CONFIGS[key], dtype=dtype), scale=0.3)
        _assert_fast_equals_reference(layer, 16, 30, dtype, tol, n_states=2)


@pytest.mark.parametrize("key", ["reset-after", "reset-before"])
def test_gru_fast_equals_reference_larger(key):
    for dtype, tol in TOLERANCES:
        torch.manual_seed(4)
        layer = _randomize(GRULayer(7, 64, GRU_CONFIGS[key], dtype=dtype), scale=0.3)
        _assert_fast_equals_reference(layer, 16, 30, dtype, tol, n_states=1)


@pytest.mark.parametrize(
    "layer_key",
    ["lstm-standard", "lstm-cifg-peepholes", "lstm-no-forget-gate-peepholes", "gru-reset-after",
     "gru-reset-before", "rnn-tanh"],
)
def test_large_block_mode_equals_reference(layer_key, monkeypatch):
    """The code paths for large blocks (tanh as 2 sigmoid(2x) - 1, factors a few steps at a time, weight
    gradients accumulated step by step), forced on at a small size and checked like the default ones."""
    monkeypatch.setattr(fast_layers, "TANH_VIA_SIGMOID_MIN", 1)
    monkeypatch.setattr(fast_layers, "LARGE_BLOCK", 1)
    monkeypatch.setattr(fast_layers, "_CHUNK_ELEMENTS", 60)  # chunks of 1 to 3 steps, a short last one
    kind, key = layer_key.split("-", 1)
    for dtype, tol in TOLERANCES:
        torch.manual_seed(10)
        if kind == "lstm":
            layer, n_states = LSTMLayer(3, 5, LSTM_CONFIGS[key], dtype=dtype), 2
        elif kind == "gru":
            layer, n_states = GRULayer(3, 5, GRU_CONFIGS[key], dtype=dtype), 1
        else:
            layer, n_states = RNNLayer(3, 5, key, dtype=dtype), 1
        _assert_fast_equals_reference(_randomize(layer), 4, 7, dtype, tol, n_states)


def test_large_size_equals_reference():
    """A size past the large-block thresholds for real (h n = 4096), float64 and float32."""
    assert 64 * 64 >= fast_layers.LARGE_BLOCK and 64 * 64 >= fast_layers.TANH_VIA_SIGMOID_MIN
    for dtype, tol in TOLERANCES:
        torch.manual_seed(11)
        layer = _randomize(LSTMLayer(4, 64, LSTMConfig(peepholes=True), dtype=dtype), scale=0.2)
        _assert_fast_equals_reference(layer, 64, 12, dtype, tol, n_states=2)
        layer = _randomize(GRULayer(4, 64, GRUConfig(reset_after=False), dtype=dtype), scale=0.2)
        _assert_fast_equals_reference(layer, 64, 12, dtype, tol, n_states=1)


def test_only_needed_gradients_and_no_grad():
    """Inputs that need no gradient get none; under no_grad the fast path still returns the values."""
    torch.manual_seed(5)
    for layer in (LSTMLayer(3, 4, LSTMConfig(peepholes=True)), GRULayer(3, 4), RNNLayer(3, 4)):
        X = torch.randn(2, 5, 3)
        H_seq, _ = layer(X)
        H_seq.sum().backward()
        assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in layer.parameters())
        with torch.no_grad():
            H_nograd, _ = layer(X)
            H_ref, _ = layer.forward_reference(X)
        assert not H_nograd.requires_grad
        assert torch.allclose(H_nograd, H_ref, atol=1e-6)
        layer.W_hh.requires_grad_(False) if hasattr(layer, "W_hh") else layer.W_hc.requires_grad_(False)
        layer.zero_grad(set_to_none=True)
        layer(X)[0].sum().backward()
        frozen = layer.W_hh if hasattr(layer, "W_hh") else layer.W_hc
        assert frozen.grad is None


# ----------------------------------------------------------------------------------------------------------
# gradcheck of the custom Functions (finite differences, float64)
# ----------------------------------------------------------------------------------------------------------
def _f64(*shape, gen):
    return (torch.rand(*shape, generator=gen, dtype=torch.float64) * 1.6 - 0.8).requires_grad_(True)


@pytest.mark.parametrize("key", list(LSTM_CONFIGS))
def test_lstm_function_gradcheck(key):
    config = LSTM_CONFIGS[key]
    n, T, d, h = 2, 3, 3, 2
    G = 2 + int(not config.cifg) + int(config.forget_gate)
    gen = torch.Generator().manual_seed(6)
    k = G - 2
    P = _f64(k + 1, h, gen=gen) if config.peepholes else None
    inputs = (_f64(n, T, d, gen=gen), _f64(n, h, gen=gen), _f64(n, h, gen=gen), _f64(d, G * h, gen=gen),
              _f64(h, G * h, gen=gen), _f64(G * h, gen=gen), P)

    def f(X, H_0, C_0, W_x, W_h, b, P):
        H_seq, H_T, C_T = fast_layers.lstm_sequence(X, H_0, C_0, W_x, W_h, b, P, config)
        return H_seq, C_T

    assert torch.autograd.gradcheck(f, inputs, eps=1e-6, atol=1e-7)


@pytest.mark.parametrize("key", list(GRU_CONFIGS))
def test_gru_function_gradcheck(key):
    config = GRU_CONFIGS[key]
    n, T, d, h = 2, 3, 3, 2
    gen = torch.Generator().manual_seed(7)
    X, H_0 = _f64(n, T, d, gen=gen), _f64(n, h, gen=gen)
    W_x, b = _f64(d, 3 * h, gen=gen), _f64(3 * h, gen=gen)
    if config.reset_after:
        W_h, W_hh, b_rec = _f64(h, 3 * h, gen=gen), None, _f64(h, gen=gen)
    else:
        W_h, W_hh, b_rec = _f64(h, 2 * h, gen=gen), _f64(h, h, gen=gen), None

    def f(X, H_0, W_x, b, W_h, W_hh, b_rec):
        return fast_layers.gru_sequence(X, H_0, W_x, b, W_h, W_hh, b_rec, config)[0]

    assert torch.autograd.gradcheck(f, (X, H_0, W_x, b, W_h, W_hh, b_rec), eps=1e-6, atol=1e-7)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_rnn_function_gradcheck(activation):
    gen = torch.Generator().manual_seed(8)
    inputs = (_f64(2, 4, 3, gen=gen), _f64(2, 3, gen=gen), _f64(3, 3, gen=gen), _f64(3, 3, gen=gen),
              _f64(3, gen=gen))

    def f(X, H_0, W_xh, W_hh, b_h):
        H_seq, H_T = fast_layers.rnn_sequence(X, H_0, W_xh, W_hh, b_h, activation)
        return H_seq, H_T

    assert torch.autograd.gradcheck(f, inputs, eps=1e-6, atol=1e-7)


# ----------------------------------------------------------------------------------------------------------
# equal to PyTorch's own layers where they coincide: values and gradients
# ----------------------------------------------------------------------------------------------------------
def _grads_as_params(module, params_from_torch):
    """The module's parameter gradients, laid out as our params dict by the converter."""
    extra = {"nonlinearity": module.nonlinearity} if isinstance(module, torch.nn.RNN) else {}
    twin = type(module)(module.input_size, module.hidden_size, batch_first=True,
                        dtype=module.weight_hh_l0.dtype, **extra)
    with torch.no_grad():
        for name, p in module.named_parameters():
            getattr(twin, name).copy_(p.grad)
    return params_from_torch(twin)


@pytest.mark.parametrize("dtype, tol", TOLERANCES)
@pytest.mark.parametrize(
    "kind", ["lstm", "gru", "rnn-tanh", "rnn-relu"],
)
def test_fast_layers_match_torch_nn(kind, dtype, tol):
    n, T, d, h = 3, 6, 4, 5
    torch.manual_seed(9)
    if kind == "lstm":
        module = torch.nn.LSTM(d, h, batch_first=True, dtype=dtype)
        convert, layer_from = lstm_params_from_torch, LSTMLayer.from_params
        biases = ("b_i", "b_f", "b_o", "b_c")
    elif kind == "gru":
        module = torch.nn.GRU(d, h, batch_first=True, dtype=dtype)
        convert, layer_from = gru_params_from_torch, GRULayer.from_params
        biases = ("b_r", "b_z")  # the candidate's two biases stay apart in our layout (b_h, b_hh_rec)
    else:
        act = kind.split("-")[1]
        module = torch.nn.RNN(d, h, nonlinearity=act, batch_first=True, dtype=dtype)
        convert = rnn_params_from_torch
        biases = ("b_h",)

        def layer_from(params, act=act):
            return RNNLayer.from_params(params, activation=act)

    layer = layer_from(convert(module))
    assert next(layer.parameters()).dtype == dtype
    X = torch.randn(n, T, d, dtype=dtype)
    H_0 = torch.randn(n, h, dtype=dtype)
    G = torch.randn(n, T, h, dtype=dtype)
    X1, X2 = X.clone().requires_grad_(True), X.clone().requires_grad_(True)
    if kind == "lstm":
        C_0 = torch.randn(n, h, dtype=dtype)
        expected, _ = module(X1, (H_0[None], C_0[None]))
        H_seq, _ = layer(X2, (H_0, C_0))
    else:
        expected, _ = module(X1, H_0[None])
        H_seq, _ = layer(X2, H_0)
    assert float((H_seq - expected).detach().abs().max()) < tol
    (expected * G).sum().backward()
    (H_seq * G).sum().backward()
    assert float((X1.grad - X2.grad).abs().max()) < tol * max(1.0, float(X1.grad.abs().max()))
    expected_grads = _grads_as_params(module, convert)
    for name, p in layer.named_parameters():
        want = torch.as_tensor(expected_grads[name], dtype=dtype)
        if name in biases:  # torch's two bias vectors each get the full gradient of our one
            want = want / 2
        assert float((p.grad - want).abs().max()) < tol * max(1.0, float(want.abs().max())), name


# ----------------------------------------------------------------------------------------------------------
# the default is the fast path; reference=True the readable loop; training gives the same losses
# ----------------------------------------------------------------------------------------------------------
def test_default_is_fast_and_reference_switch():
    X = torch.randn(2, 3, 4)
    for cls, name in ((LSTMLayer, "_LSTMFunction"), (GRULayer, "_GRUFunction"), (RNNLayer, "_RNNFunction")):
        fast = cls(4, 5)
        H_seq, _ = fast(X)
        assert _has_node(H_seq.grad_fn, name)
        ref = cls(4, 5, reference=True)
        ref.load_params(fast.to_params())
        H_ref, _ = ref(X)
        assert not _has_node(H_ref.grad_fn, name)
        assert torch.allclose(H_seq, H_ref, atol=1e-6)
    with pytest.raises(TypeError, match="reference must be True or False"):
        LSTMLayer(4, 5, reference="yes")


def _has_node(fn, name, depth=6):
    if fn is None or depth == 0:
        return False
    if name in type(fn).__name__:
        return True
    return any(_has_node(child, name, depth - 1) for child, _ in fn.next_functions)


@pytest.mark.parametrize(
    "make",
    [
        lambda ref: LSTMLayer(2, 8, LSTMConfig(cifg=True, peepholes=True), forget_bias=1.0, reference=ref),
        lambda ref: GRULayer(2, 8, GRUConfig(reset_after=False), reference=ref),
        lambda ref: RNNLayer(2, 8, "relu", reference=ref),
    ],
    ids=["lstm-cifg-peepholes", "gru-reset-before", "rnn-relu"],
)
def test_training_fast_equals_reference(make):
    """A few Adam steps with the fast layer and with the reference give the same losses (float32)."""
    from course_lib.tasks import adding_problem
    from course_lib.training import SequenceModel, train

    losses = []
    for ref in (False, True):
        torch.manual_seed(0)
        model = SequenceModel(make(ref), 8, 1)
        history = train(model, lambda rng: adding_problem(16, 10, rng=rng), steps=15, lr=1e-2, seed=0)
        losses.append(np.array(history.loss))
    assert np.all(np.isfinite(losses[0]))
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-4, atol=1e-6)


def test_benchmark_script_runs_on_a_tiny_layer():
    """The benchmark's timing helper (not a timing test: it only has to run and report its fields)."""
    from course_lib.benchmark_layers import CASES, SIZES, time_pair

    assert len(SIZES) == 2 and {kind for kind, *_ in CASES} == {"LSTMLayer", "GRULayer", "RNNLayer"}
    X = torch.randn(2, 3, 2)
    for _, _, make_ours, make_theirs in CASES[:1] + CASES[-1:]:
        row = time_pair(make_ours(2, 3, False), make_theirs(2, 3), X, repeats=2, budget=1e-3)
        assert set(row) == {"ratio", "ratio_min", "ratio_max", "ours_ms", "theirs_ms"}
        assert row["ours_ms"] > 0 and row["theirs_ms"] > 0
        assert row["ratio"] == pytest.approx(row["ours_ms"] / row["theirs_ms"], rel=1.0)
