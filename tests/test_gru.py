"""Tests of the NumPy reference GRU (course_lib.gru).

* reset_after=True (PyTorch/cuDNN) equals torch.nn.GRU and nn.GRUCell given converted weights;
* reset_after=False (Cho et al. 2014) equals an independent torch implementation written below from the
  paper's column-vector equations;
* the two conventions agree exactly when they should and differ when they should (hand checks);
* the hand-written backward equals torch.autograd and central finite differences (all parameters, H_0, X);
* bad input raises a clear error.
"""

import numpy as np
import pytest
import torch

from course_lib.activations import sigmoid
from course_lib.convert import gru_params_from_torch
from course_lib.gradcheck import assert_gradients_match
from course_lib.gru import (
    GRU_PARAM_NAMES,
    GRUConfig,
    check_gru_params,
    gru_backward,
    gru_forward,
    gru_step,
    gru_step_backward,
    init_gru_params,
)

BEFORE = GRUConfig(reset_after=False)
AFTER = GRUConfig(reset_after=True)

# (n, T, d, h): batch 1 and T = 1 included, plus a few drawn at random (fixed seed)
_draw = np.random.default_rng(2024)
SIZES = [(1, 1, 1, 1), (1, 6, 3, 4), (5, 1, 2, 3), (3, 4, 5, 2)] + [
    tuple(int(v) for v in _draw.integers(1, 7, size=4)) for _ in range(3)
]


def random_params(d, h, rng, dtype=np.float64, bias_scale=0.5):
    """GRU params with non-zero biases (init_gru_params starts the biases at zero)."""
    params = init_gru_params(d, h, rng=rng, scale=0.8, dtype=dtype)
    for name in ("b_r", "b_z", "b_h", "b_hh_rec"):
        params[name] = rng.uniform(-bias_scale, bias_scale, size=h).astype(dtype)
    return params


def torch_gru(d, h, dtype, seed):
    torch.manual_seed(seed)
    return torch.nn.GRU(d, h, batch_first=True, dtype=dtype)


# ----------------------------------------------------------------------------------------------------------
# reset_after=True against PyTorch
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-10), (torch.float32, 1e-5)])
@pytest.mark.parametrize("size", SIZES)
def test_forward_matches_torch_nn_gru(size, dtype, tol):
    n, T, d, h = size
    module = torch_gru(d, h, dtype, seed=sum(size))
    params = gru_params_from_torch(module)
    assert set(params) == set(GRU_PARAM_NAMES)
    X = torch.randn(n, T, d, dtype=dtype)
    H_0 = torch.randn(1, n, h, dtype=dtype)
    with torch.no_grad():
        H_seq_torch, H_T_torch = module(X, H_0)
    H, cache = gru_forward(X.numpy(), params, H_0=H_0[0].numpy(), config=AFTER)
    assert H.shape == (n, T, h)
    assert np.abs(H - H_seq_torch.numpy()).max() < tol
    assert np.abs(H[:, -1] - H_T_torch[0].numpy()).max() < tol
    # zero initial state: the default of both
    with torch.no_grad():
        H_seq_torch, _ = module(X)
    H, _ = gru_forward(X.numpy(), params, config=AFTER)
    assert np.abs(H - H_seq_torch.numpy()).max() < tol


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-10), (torch.float32, 1e-5)])
@pytest.mark.parametrize("size", SIZES[:4])
def test_step_matches_torch_nn_grucell(size, dtype, tol):
    n, T, d, h = size
    torch.manual_seed(7 + sum(size))
    cell = torch.nn.GRUCell(d, h, dtype=dtype)
    params = gru_params_from_torch(cell)
    X = torch.randn(n, T, d, dtype=dtype)
    H_torch = torch.randn(n, h, dtype=dtype)
    H_np = H_torch.numpy().copy()
    for t in range(T):
        with torch.no_grad():
            H_torch = cell(X[:, t], H_torch)
        H_np, cache = gru_step(X[:, t].numpy(), H_np, params, config=AFTER)
        assert np.abs(H_np - H_torch.numpy()).max() < tol
    assert set(cache) >= {"R_t", "Z_t", "H_tilde", "H_t"}


# ----------------------------------------------------------------------------------------------------------
# independent torch implementations, written from the papers' equations (column vectors, one example per
# column), used for reset_after=False and for the autograd checks
# ----------------------------------------------------------------------------------------------------------
def cho2014_gru(X, H_0, P):
    """Cho et al. (2014), eqs. (5)-(8), with the biases the paper leaves out.

    r = σ(W_r x + U_r h),  z = σ(W_z x + U_z h),  h̃ = tanh(W x + U (r ⊙ h) + b),  h' = z ⊙ h + (1 − z) ⊙ h̃,
    where W_r = W_xr^T (h, d), U_r = W_hr^T (h, h) and b = b_h + b_hh_rec.
    X (n, T, d), H_0 (n, h) torch tensors; P dict of torch tensors. Returns H (n, T, h).
    """
    W_r, U_r, W_z, U_z, W, U = (P[k].T for k in ("W_xr", "W_hr", "W_xz", "W_hz", "W_xh", "W_hh"))
    h = H_0.T  # (h, n)
    out = []
    for t in range(X.shape[1]):
        x = X[:, t].T  # (d, n)
        r = torch.sigmoid(W_r @ x + U_r @ h + P["b_r"][:, None])
        z = torch.sigmoid(W_z @ x + U_z @ h + P["b_z"][:, None])
        h_tilde = torch.tanh(W @ x + U @ (r * h) + (P["b_h"] + P["b_hh_rec"])[:, None])
        h = z * h + (1 - z) * h_tilde
        out.append(h.T)
    return torch.stack(out, dim=1)


def pytorch_doc_gru(X, H_0, P):
    """The equations of the torch.nn.GRU documentation (reset gate applied after the product).

    r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(...), n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),
    h' = (1 − z) ⊙ n + z ⊙ h, with W_in = W_xh^T, W_hn = W_hh^T, b_in = b_h, b_hn = b_hh_rec.
    """
    W_ir, W_hr, W_iz, W_hz, W_in, W_hn = (P[k].T for k in ("W_xr", "W_hr", "W_xz", "W_hz", "W_xh", "W_hh"))
    h = H_0.T
    out = []
    for t in range(X.shape[1]):
        x = X[:, t].T
        r = torch.sigmoid(W_ir @ x + W_hr @ h + P["b_r"][:, None])
        z = torch.sigmoid(W_iz @ x + W_hz @ h + P["b_z"][:, None])
        n_t = torch.tanh(W_in @ x + P["b_h"][:, None] + r * (W_hn @ h + P["b_hh_rec"][:, None]))
        h = (1 - z) * n_t + z * h
        out.append(h.T)
    return torch.stack(out, dim=1)


REFERENCE = {False: cho2014_gru, True: pytorch_doc_gru}


@pytest.mark.parametrize("size", SIZES)
def test_reset_before_matches_cho2014(size):
    n, T, d, h = size
    rng = np.random.default_rng(100 + sum(size))
    params = random_params(d, h, rng)
    X, H_0 = rng.normal(size=(n, T, d)), rng.normal(size=(n, h))
    H, _ = gru_forward(X, params, H_0=H_0, config=BEFORE)
    P = {k: torch.from_numpy(v) for k, v in params.items()}
    H_ref = cho2014_gru(torch.from_numpy(X), torch.from_numpy(H_0), P).numpy()
    assert np.abs(H - H_ref).max() < 1e-10


def test_pytorch_doc_reference_matches_nn_gru():
    """The reference used for the reset_after=True autograd check is itself nn.GRU."""
    module = torch_gru(3, 4, torch.float64, seed=3)
    params = gru_params_from_torch(module)
    X, H_0 = torch.randn(2, 5, 3, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64)
    P = {k: torch.from_numpy(v) for k, v in params.items()}
    with torch.no_grad():
        expected, _ = module(X, H_0[None])
    assert torch.allclose(pytorch_doc_gru(X, H_0, P), expected, rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------------------------------------
# the two conventions, by hand
# ----------------------------------------------------------------------------------------------------------
def _one_step(params, X_t, H_prev):
    """Both conventions on the same step, plus the gates computed by hand."""
    R = sigmoid(X_t @ params["W_xr"] + H_prev @ params["W_hr"] + params["b_r"])
    Z = sigmoid(X_t @ params["W_xz"] + H_prev @ params["W_hz"] + params["b_z"])
    H_before, _ = gru_step(X_t, H_prev, params, config=BEFORE)
    H_after, _ = gru_step(X_t, H_prev, params, config=AFTER)
    return R, Z, H_before, H_after


def test_conventions_agree_when_reset_gate_is_one():
    rng = np.random.default_rng(1)
    params = random_params(3, 4, rng)
    params["W_xr"][:] = 0.0
    params["W_hr"][:] = 0.0
    params["b_r"][:] = 40.0  # sigmoid(40) rounds to exactly 1.0 in float64
    X, H_0 = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 4))
    H_b, cache_b = gru_forward(X, params, H_0=H_0, config=BEFORE)
    H_a, cache_a = gru_forward(X, params, H_0=H_0, config=AFTER)
    assert np.all(cache_b["R"] == 1.0) and np.all(cache_a["R"] == 1.0)
    assert np.abs(H_b - H_a).max() < 1e-14


def test_conventions_agree_without_recurrent_candidate_term():
    """W_hh = 0 and b_hh_rec = 0: the reset gate has nothing to act on, in either place."""
    rng = np.random.default_rng(2)
    params = random_params(3, 4, rng)
    params["W_hh"][:] = 0.0
    params["b_hh_rec"][:] = 0.0
    X, H_0 = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 4))
    H_b, _ = gru_forward(X, params, H_0=H_0, config=BEFORE)
    H_a, _ = gru_forward(X, params, H_0=H_0, config=AFTER)
    assert np.abs(H_b - H_a).max() < 1e-14


def test_conventions_differ_through_recurrent_bias_only():
    """W_hh = 0, b_hh_rec != 0: before -> b_hh_rec is added as is; after -> it is scaled by R_t."""
    rng = np.random.default_rng(3)
    params = random_params(3, 4, rng)
    params["W_hh"][:] = 0.0
    params["b_hh_rec"][:] = 0.7
    X_t, H_prev = rng.normal(size=(2, 3)), rng.normal(size=(2, 4))
    R, Z, H_before, H_after = _one_step(params, X_t, H_prev)
    XW = X_t @ params["W_xh"] + params["b_h"]
    expected_before = Z * H_prev + (1 - Z) * np.tanh(XW + 0.7)
    expected_after = Z * H_prev + (1 - Z) * np.tanh(XW + R * 0.7)
    assert np.allclose(H_before, expected_before, rtol=0, atol=1e-14)
    assert np.allclose(H_after, expected_after, rtol=0, atol=1e-14)
    assert np.abs(H_before - H_after).max() > 1e-3


def test_conventions_differ_through_recurrent_weights_only():
    """b_hh_rec = 0, W_hh != 0: (R_t * H_{t-1}) W_hh versus R_t * (H_{t-1} W_hh)."""
    rng = np.random.default_rng(4)
    params = random_params(3, 4, rng)
    params["b_hh_rec"][:] = 0.0
    X_t, H_prev = rng.normal(size=(2, 3)), rng.normal(size=(2, 4))
    R, Z, H_before, H_after = _one_step(params, X_t, H_prev)
    XW = X_t @ params["W_xh"] + params["b_h"]
    expected_before = Z * H_prev + (1 - Z) * np.tanh(XW + (R * H_prev) @ params["W_hh"])
    expected_after = Z * H_prev + (1 - Z) * np.tanh(XW + R * (H_prev @ params["W_hh"]))
    assert np.allclose(H_before, expected_before, rtol=0, atol=1e-14)
    assert np.allclose(H_after, expected_after, rtol=0, atol=1e-14)
    assert np.abs(H_before - H_after).max() > 1e-3


@pytest.mark.parametrize("config", [BEFORE, AFTER])
def test_update_gate_extremes(config):
    """Z_t = 1 copies the state through; Z_t = 0 replaces it by the candidate."""
    rng = np.random.default_rng(5)
    params = random_params(2, 3, rng)
    X, H_0 = rng.normal(size=(2, 4, 2)), rng.normal(size=(2, 3))
    params["W_xz"][:], params["W_hz"][:] = 0.0, 0.0
    params["b_z"][:] = 40.0
    H, _ = gru_forward(X, params, H_0=H_0, config=config)
    assert np.array_equal(H, np.broadcast_to(H_0[:, None], H.shape))
    params["b_z"][:] = -40.0
    H, cache = gru_forward(X, params, H_0=H_0, config=config)
    assert np.allclose(H, cache["H_tilde"], rtol=0, atol=1e-15)


def test_only_biases():
    """All weights zero: R = σ(b_r), Z = σ(b_z), and from H_0 = 0 the candidate is tanh of the biases."""
    rng = np.random.default_rng(6)
    params = random_params(2, 3, rng)
    for k in GRU_PARAM_NAMES:
        if k.startswith("W_"):
            params[k][:] = 0.0
    X = rng.normal(size=(1, 1, 2))
    for config, b in ((BEFORE, params["b_h"] + params["b_hh_rec"]), (AFTER, None)):
        H, cache = gru_forward(X, params, config=config)
        R, Z = sigmoid(params["b_r"]), sigmoid(params["b_z"])
        if b is None:
            b = params["b_h"] + R * params["b_hh_rec"]
        assert np.allclose(cache["R"][0, 0], R) and np.allclose(cache["Z"][0, 0], Z)
        assert np.allclose(H[0, 0], (1 - Z) * np.tanh(b), rtol=0, atol=1e-15)


# ----------------------------------------------------------------------------------------------------------
# backward: autograd and finite differences
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("reset_after", [False, True])
@pytest.mark.parametrize("size", [(1, 1, 1, 1), (3, 5, 4, 3), (1, 4, 2, 5)])
def test_backward_matches_autograd(size, reset_after):
    n, T, d, h = size
    rng = np.random.default_rng(10 + sum(size))
    params = random_params(d, h, rng)
    X, H_0 = rng.normal(size=(n, T, d)), rng.normal(size=(n, h))
    G, G_T = rng.normal(size=(n, T, h)), rng.normal(size=(n, h))
    config = GRUConfig(reset_after=reset_after)

    H, cache = gru_forward(X, params, H_0=H_0, config=config)
    dX, dH_0, grads = gru_backward(G, cache, dH_T=G_T)

    P = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    X_t, H_0_t = torch.tensor(X, requires_grad=True), torch.tensor(H_0, requires_grad=True)
    H_ref = REFERENCE[reset_after](X_t, H_0_t, P)
    loss = (H_ref * torch.from_numpy(G)).sum() + (H_ref[:, -1] * torch.from_numpy(G_T)).sum()
    loss.backward()

    assert np.abs(H - H_ref.detach().numpy()).max() < 1e-10
    assert np.abs(dX - X_t.grad.numpy()).max() < 1e-8
    assert np.abs(dH_0 - H_0_t.grad.numpy()).max() < 1e-8
    assert set(grads) == set(GRU_PARAM_NAMES)
    for k in GRU_PARAM_NAMES:
        assert grads[k].shape == params[k].shape
        assert np.abs(grads[k] - P[k].grad.numpy()).max() < 1e-8, k


@pytest.mark.parametrize(
    "config",
    [
        BEFORE,
        AFTER,
        GRUConfig(reset_after=True, gate_activation="hard_sigmoid_keras", candidate_activation="relu"),
        GRUConfig(
            reset_after=False, gate_activation="hard_sigmoid_torch", candidate_activation="bipolar_sigmoid"
        ),
    ],
    ids=["before", "after", "after-hard-relu", "before-hard-bipolar"],
)
def test_backward_matches_finite_differences(config):
    rng = np.random.default_rng(20)
    n, T, d, h = 2, 3, 2, 3
    params = random_params(d, h, rng)
    X, H_0 = rng.normal(size=(n, T, d)), rng.normal(size=(n, h))
    G, G_T = rng.normal(size=(n, T, h)), rng.normal(size=(n, h))

    def loss():
        H, _ = gru_forward(X, params, H_0=H_0, config=config)
        return np.sum(H * G) + np.sum(H[:, -1] * G_T)

    _, cache = gru_forward(X, params, H_0=H_0, config=config)
    dX, dH_0, grads = gru_backward(G, cache, dH_T=G_T)
    assert_gradients_match(loss, {**params, "X": X, "H_0": H_0}, {**grads, "X": dX, "H_0": dH_0})


def test_step_backward_is_sequence_backward_with_T_1():
    rng = np.random.default_rng(30)
    params = random_params(3, 2, rng)
    X, H_0, G = rng.normal(size=(4, 1, 3)), rng.normal(size=(4, 2)), rng.normal(size=(4, 1, 2))
    for config in (BEFORE, AFTER):
        H, cache = gru_forward(X, params, H_0=H_0, config=config)
        H_t, step_cache = gru_step(X[:, 0], H_0, params, config=config)
        assert np.array_equal(H[:, 0], H_t)
        dX_t, dH_prev, g_step = gru_step_backward(G[:, 0], step_cache)
        dX, dH_0, g_seq = gru_backward(G, cache)
        assert np.allclose(dX[:, 0], dX_t) and np.allclose(dH_0, dH_prev)
        assert all(np.allclose(g_step[k], g_seq[k]) for k in GRU_PARAM_NAMES)


def test_backward_final_state_gradient_only():
    """dH=None with dH_T is the same as a dH that is zero except at the last step."""
    rng = np.random.default_rng(31)
    params = random_params(2, 3, rng)
    X = rng.normal(size=(2, 4, 2))
    G_T = rng.normal(size=(2, 3))
    _, cache = gru_forward(X, params)
    dH = np.zeros((2, 4, 3))
    dH[:, -1] = G_T
    a, b = gru_backward(None, cache, dH_T=G_T), gru_backward(dH, cache)
    assert np.allclose(a[0], b[0]) and np.allclose(a[1], b[1])
    assert all(np.allclose(a[2][k], b[2][k]) for k in GRU_PARAM_NAMES)


# ----------------------------------------------------------------------------------------------------------
# parameters, cache and bad input
# ----------------------------------------------------------------------------------------------------------
def test_init_params_shapes_and_dtype():
    params = init_gru_params(3, 5, rng=0)
    assert list(params) == list(GRU_PARAM_NAMES)
    assert check_gru_params(params) == (3, 5)
    for k, v in params.items():
        assert v.dtype == np.float64
        assert v.shape == ((3, 5) if k.startswith("W_x") else (5, 5) if k.startswith("W_h") else (5,))
    assert np.all(np.abs(params["W_hh"]) <= 1 / np.sqrt(5))
    again = init_gru_params(3, 5, rng=0)
    assert all(np.array_equal(params[k], again[k]) for k in params)
    assert init_gru_params(2, 2, rng=0, dtype=np.float32)["W_xr"].dtype == np.float32


def test_forward_cache_contents():
    rng = np.random.default_rng(40)
    params = random_params(3, 4, rng)
    H, cache = gru_forward(rng.normal(size=(2, 5, 3)), params)
    for key in ("R", "Z", "H_tilde"):
        assert cache[key].shape == (2, 5, 4)
    assert np.all((cache["R"] > 0) & (cache["R"] < 1) & (cache["Z"] > 0) & (cache["Z"] < 1))
    assert len(cache["steps"]) == 5 and np.array_equal(cache["steps"][-1]["H_t"], H[:, -1])


def test_float32_stays_float32():
    rng = np.random.default_rng(41)
    params = {k: v.astype(np.float32) for k, v in random_params(3, 4, rng).items()}
    X = rng.normal(size=(2, 5, 3)).astype(np.float32)
    H, cache = gru_forward(X, params)
    assert H.dtype == np.float32
    dX, dH_0, grads = gru_backward(np.ones_like(H), cache)
    assert dX.dtype == np.float32 and grads["W_hh"].dtype == np.float32


@pytest.fixture
def setup():
    rng = np.random.default_rng(50)
    return random_params(3, 4, rng), rng.normal(size=(2, 5, 3))


@pytest.mark.parametrize(
    "mutate, error, match",
    [
        (lambda p, X: (p, X[:, 0], None), ValueError, r"X must have 3 dimensions"),
        (lambda p, X: (p, X[None], None), ValueError, r"X must have 3 dimensions"),
        (lambda p, X: (p, X[:, :, :2], None), ValueError, r"X has shape \(2, 5, 2\); expected \(\*, \*, 3\)"),
        (lambda p, X: (p, X.astype(int), None), TypeError, r"X must be a floating-point array.*int"),
        (lambda p, X: (p, X[:, :0], None), ValueError, r"T = 0"),
        (lambda p, X: (p, X.tolist(), None), None, None),  # nested lists of floats are fine
        (lambda p, X: (p, torch.tensor(X), None), TypeError, r"torch tensor"),
        (lambda p, X: (p, X, np.zeros((3, 4))), ValueError, r"H_0 has shape \(3, 4\); expected \(2, 4\)"),
        (lambda p, X: (p, X, np.zeros((2, 4), dtype=int)), TypeError, r"H_0 must be a floating-point"),
        (lambda p, X: ({k: v for k, v in p.items() if k != "b_hh_rec"}, X, None), ValueError, r"b_hh_rec"),
        (lambda p, X: ({**p, "W_xi": p["W_xr"]}, X, None), ValueError, r"unexpected key.*W_xi"),
        (lambda p, X: ({**p, "W_hz": p["W_hz"][:3]}, X, None), ValueError, r"params\['W_hz'\] has shape"),
        (lambda p, X: ({**p, "b_z": p["b_z"][:, None]}, X, None), ValueError, r"params\['b_z'\] must have 1"),
        (lambda p, X: ({**p, "W_xr": p["W_xr"].astype(int)}, X, None), TypeError, r"params\['W_xr'\]"),
        (lambda p, X: (list(p.values()), X, None), TypeError, r"params must be a dict"),
    ],
    ids=[
        "X-rank-2", "X-rank-4", "X-wrong-d", "X-int", "T-0", "X-list", "X-tensor", "H0-shape", "H0-int",
        "missing-key", "extra-key", "W-shape", "b-rank", "param-int", "params-list",
    ],
)
def test_forward_bad_input(setup, mutate, error, match):
    params, X = setup
    p, X_bad, H_0 = mutate(params, X)
    if error is None:
        gru_forward(X_bad, p, H_0=H_0)
        return
    with pytest.raises(error, match=match):
        gru_forward(X_bad, p, H_0=H_0)


def test_bad_config_and_step_input(setup):
    params, X = setup
    with pytest.raises(TypeError, match="GRUConfig"):
        gru_forward(X, params, config={"reset_after": True})
    with pytest.raises(ValueError, match=r"GRUConfig.gate_activation must be one of .*got 'sigmoidd'"):
        GRUConfig(gate_activation="sigmoidd")
    with pytest.raises(TypeError, match="reset_after"):
        GRUConfig(reset_after="yes")
    with pytest.raises(ValueError, match=r"X_t has shape \(2, 4\); expected \(\*, 3\)"):
        gru_step(np.zeros((2, 4)), None, params)
    with pytest.raises(ValueError, match=r"H_prev has shape"):
        gru_step(X[:, 0], np.zeros((2, 5)), params)
    with pytest.raises(ValueError, match=r"h must be a positive int"):
        init_gru_params(3, 0)
    with pytest.raises(TypeError, match=r"d must be a positive int"):
        init_gru_params(3.0, 2)


def test_backward_bad_input(setup):
    params, X = setup
    H, cache = gru_forward(X, params)
    with pytest.raises(ValueError, match=r"dH has shape \(2, 4, 4\); expected \(2, 5, 4\)"):
        gru_backward(H[:, :4], cache)
    with pytest.raises(ValueError, match=r"dH_T has shape"):
        gru_backward(H, cache, dH_T=H[:, 0, :2])
    with pytest.raises(TypeError, match=r"dH must be a floating-point"):
        gru_backward(H.astype(int), cache)
    with pytest.raises(TypeError, match="gru_forward"):
        gru_backward(H, cache["steps"])
    with pytest.raises(ValueError, match=r"dH_t has shape"):
        gru_step_backward(H[:, 0, :3], cache["steps"][0])
