"""Datasets and models for the trainer: shapes, splits, and clear errors for bad input."""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from jaxsched.train import CNN, MLP, Dataset, build, fit, load
from jaxsched.train.models import _compiled_init, initial_states
from jaxsched.train.objective import Objective


@pytest.fixture(scope="module")
def mnist1d():
    return load("mnist1d")


def test_mnist1d_is_the_published_size(mnist1d):
    assert mnist1d.input_shape == (40,) and mnist1d.n_classes == 10
    assert len(mnist1d.x_train) + len(mnist1d.x_val) == 4000 and len(mnist1d.x_test) == 1000
    assert len(mnist1d.x_val) == 400
    assert mnist1d.x_train.dtype == np.float32 and mnist1d.y_train.dtype == np.int32
    assert set(np.unique(mnist1d.y_test)) == set(range(10))


def test_validation_split_is_fixed_and_disjoint(mnist1d):
    again = load("mnist1d")
    np.testing.assert_array_equal(again.x_val, mnist1d.x_val)
    train_rows = {row.tobytes() for row in mnist1d.x_train}
    assert not any(row.tobytes() in train_rows for row in mnist1d.x_val)


def test_digits_and_val_fraction():
    ds = load("digits", val_fraction=0.25)
    assert ds.input_shape == (64,) and ds.n_classes == 10
    assert len(ds.x_val) == round(0.25 * 1438) and len(ds.x_test) == 359
    assert ds.x_train.min() >= 0.0 and ds.x_train.max() <= 1.0
    assert len(load("digits", val_fraction=0.0).x_val) == 0


def test_npz_of_a_users_problem(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "mine.npz"
    np.savez(
        path,
        x=rng.normal(size=(50, 8, 2)),
        y=rng.integers(0, 3, 50),
        x_test=rng.normal(size=(20, 8, 2)),
        y_test=rng.integers(0, 3, 20),
    )
    ds = load(path, val_fraction=0.2)
    assert ds.name == "mine" and ds.input_shape == (8, 2) and ds.n_classes == 3
    assert (len(ds.x_train), len(ds.x_val), len(ds.x_test)) == (40, 10, 20)


def _write(path, **arrays):
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(
    ("arrays", "words"),
    [
        ({"x": np.zeros((5, 3)), "y": np.zeros(5, int)}, ["missing arrays", "x_test", "y_test"]),
        (
            {
                "x": np.zeros((5, 3)),
                "y": np.zeros(4, int),
                "x_test": np.zeros((2, 3)),
                "y_test": np.zeros(2, int),
            },
            ["train y", "(5,)", "(4,)"],
        ),
        (
            {
                "x": np.zeros((5, 3)),
                "y": np.zeros(5, int),
                "x_test": np.zeros((2, 4)),
                "y_test": np.zeros(2, int),
            },
            ["x_test", "(4,)", "(3,)"],
        ),
        (
            {
                "x": np.full((5, 3), np.nan),
                "y": np.zeros(5, int),
                "x_test": np.zeros((2, 3)),
                "y_test": np.zeros(2, int),
            },
            ["NaN"],
        ),
        (
            {
                "x": np.zeros((5, 3)),
                "y": -np.ones(5, int),
                "x_test": np.zeros((2, 3)),
                "y_test": np.zeros(2, int),
            },
            ["class indices"],
        ),
        (
            {
                "x": np.zeros(5),
                "y": np.zeros(5, int),
                "x_test": np.zeros(2),
                "y_test": np.zeros(2, int),
            },
            ["[n, features...]"],
        ),
        (
            {
                "x": np.zeros((2, 3)),
                "y": np.array(["setosa", "virginica"]),
                "x_test": np.zeros((1, 3)),
                "y_test": np.array(["setosa"]),
            },
            ["train y", "class indices", "dtype <U9", "map the labels"],
        ),
        (
            {
                "x": np.full((2, 3), 1e300),
                "y": np.zeros(2, int),
                "x_test": np.zeros((1, 3)),
                "y_test": np.zeros(1, int),
            },
            ["train x", "beyond float32's range"],
        ),
        (
            {
                "x": np.zeros((2, 3)),
                "y": np.array([0.0, 1.5]),
                "x_test": np.zeros((1, 3)),
                "y_test": np.zeros(1, int),
            },
            ["class indices"],
        ),
        (
            {
                "x": np.zeros((4, 0)),
                "y": np.array([0, 1, 0, 1]),
                "x_test": np.zeros((2, 0)),
                "y_test": np.array([0, 1]),
            },
            ["train x", "no features", "(4, 0)"],
        ),
        (
            {
                "x": np.zeros((4, 3)),
                "y": np.zeros(4, int),
                "x_test": np.zeros((2, 3)),
                "y_test": np.zeros(2, int),
            },
            ["every label is 0", "at least 2 classes"],
        ),
        (
            {
                "x": np.zeros((4, 3)),
                "y": np.array([0, 1, 10**7, 1]),
                "x_test": np.zeros((2, 3)),
                "y_test": np.array([0, 1]),
            },
            ["label 10000000", "10000001 outputs for 6 labelled examples", "map the labels"],
        ),
        (
            {
                "x": np.zeros((4, 3)) + 1j,
                "y": np.array([0, 1, 0, 1]),
                "x_test": np.zeros((2, 3)),
                "y_test": np.array([0, 1]),
            },
            ["train x", "real numbers", "complex128"],
        ),
    ],
)
def test_bad_npz_files_name_the_problem(tmp_path, arrays, words):
    path = _write(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError) as info:
        load(path)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ("mnist", ["unknown data 'mnist'", "mnist1d", "digits"]),
        (Path("nope"), ["'nope' is not a path to an .npz file"]),
        (
            Path("digits"),
            ["'digits' is not a path to an .npz file", "named by strings", "'digits'"],
        ),
        ("/no/such/file.npz", ["no such file"]),
    ],
)
def test_bad_data_names(data, words):
    with pytest.raises(ValueError) as info:
        load(data)
    for word in words:
        assert word in str(info.value)


def test_not_an_npz(tmp_path):
    path = tmp_path / "text.npz"
    path.write_text("hello")
    with pytest.raises(ValueError, match=r"not an \.npz archive; write one with np\.savez"):
        load(path)
    np.save(tmp_path / "one.npy", np.zeros(3))  # an .npy renamed: np.load gives an array
    (tmp_path / "one.npy").rename(tmp_path / "one.npz")
    with pytest.raises(ValueError, match=r"not an \.npz archive"):
        load(tmp_path / "one.npz")
    with pytest.raises(ValueError, match="val_fraction"):
        load("digits", val_fraction=1.0)


def _n_params(module):
    return sum(x.size for x in jax.tree_util.tree_leaves(nnx.state(module, nnx.Param)))


def test_reference_model_sizes():
    # MLP 40-100-100-10 and the paper's 1-D CNN (25 channels; 5 x 25 features before the head)
    assert (
        _n_params(build("mlp", (40,), 10, seed=0))
        == 40 * 100 + 100 + 100 * 100 + 100 + 100 * 10 + 10
    )
    conv = 1 * 25 * 5 + 25 + 25 * 25 * 3 + 25 + 25 * 25 * 3 + 25
    assert _n_params(build("cnn", (40,), 10, seed=0)) == conv + 125 * 10 + 10


def test_models_are_sized_from_the_data():
    x = jnp.zeros((4, 64))
    assert build("mlp", (64,), 7, seed=1)(x).shape == (4, 7)
    assert build("cnn", (64,), 7, seed=1)(x).shape == (4, 7)
    assert build("cnn", (8, 2), 3, seed=1)(jnp.zeros((4, 8, 2))).shape == (4, 3)
    assert isinstance(
        build(lambda shape, n, rngs: MLP(shape, n, rngs, hidden=8), (5,), 2, seed=0), MLP
    )
    # Different seeds, different initial weights.
    a, b = build("cnn", (40,), 10, seed=0), build("cnn", (40,), 10, seed=1)
    assert not np.allclose(a.head.kernel[...], b.head.kernel[...])


@pytest.mark.parametrize("shape", [(40,), (41,), (64,), (8, 2), (3,)])
def test_cnn_forward_equals_nnx_conv(shape):
    # The CNN computes its convolutions as patches @ kernel (fast under vmap); the
    # values are those of the nnx.Conv layers whose parameters it holds.
    model = build("cnn", shape, 10, seed=0)
    x = jax.random.normal(jax.random.key(1), (5, *shape))
    h = x if x.ndim == 3 else x[..., None]
    for conv in model.convs:
        h = jax.nn.relu(conv(h))
    expected = model.head(h.reshape(5, -1))
    np.testing.assert_allclose(model(x), expected, rtol=1e-5, atol=2e-6)


def test_bad_models():
    with pytest.raises(ValueError, match="unknown model 'resnet'"):
        build("resnet", (40,), 10, seed=0)
    with pytest.raises(ValueError, match="too short"):
        CNN((2,), 10, nnx.Rngs(0))
    # Outputs that do not fit the classes are refused by the objective, in fit.
    narrow = jax.ShapeDtypeStruct((5, 3), jnp.float32)
    labels = jax.ShapeDtypeStruct((5,), jnp.int32)
    with pytest.raises(ValueError, match=r"outputs have shape \(3,\) .* logits of shape \(10,\)"):
        Objective.resolve(None, None, classification=True).check(narrow, labels, 10)
    with pytest.raises(ValueError, match=r"not an nnx\.Module"):
        build(lambda shape, n, rngs: None, (40,), 10, seed=0)
    # what JAX or optax would refuse deep inside the trace, in the model's terms
    with pytest.raises(ValueError, match=r"nnx\.Param of dtype int32: .* floating point"):
        build(lambda shape, n, rngs: _Plain(jnp.ones((40, n), jnp.int32)), (40,), 10, seed=0)
    with pytest.raises(ValueError, match=r"no nnx\.Param: there is nothing to train"):
        build(lambda shape, n, rngs: nnx.Sequential(lambda x: x[:, :n]), (40,), 10, seed=0)
    with pytest.raises(ValueError, match=r"floating outputs \[batch, \.\.\.\].*complex64\[2, 10\]"):
        build(lambda shape, n, rngs: _Plain(jnp.ones((40, n)), jnp.complex64), (40,), 10, seed=0)


class _Plain(nnx.Module):
    def __init__(self, w, out=None):
        self.w, self.out = nnx.Param(w), out

    def __call__(self, x):
        return (x.astype(self.w.dtype) @ self.w[...]).astype(self.out or self.w.dtype)


class _Normalized(nnx.Module):
    def __init__(self, shape, n_classes, rngs):
        self.linear = nnx.Linear(shape[0], n_classes, rngs=rngs)
        self.norm = nnx.BatchNorm(n_classes, rngs=rngs)
        self.drop = nnx.Dropout(0.5, rngs=rngs)

    def __call__(self, x):
        return self.drop(self.norm(self.linear(x)))


def test_models_with_state_besides_parameters_carry_it_keys_as_key_data():
    network, params, state = initial_states(_Normalized, (40,), 10, [0, 1])
    assert network.has_state and sum(network.key_leaves) == 1
    leaves = jax.tree_util.tree_leaves(state)
    assert all(isinstance(x, jax.Array) and x.shape[0] == 2 for x in leaves)
    assert not any(jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key) for x in leaves)
    one = jax.tree_util.tree_map(lambda x: x[0], (params, state))
    x = jax.random.normal(jax.random.key(0), (4, 40))
    train_a, new_state = network.apply(*one, x, train=True)
    train_b, _ = network.apply(one[0], new_state, x, train=True)
    assert not np.array_equal(train_a, train_b)  # dropout drew new keys
    eval_a, kept = network.apply(*one, x, train=False)
    np.testing.assert_array_equal(eval_a, network.apply(*one, x, train=False)[0])
    assert kept is one[1]


@pytest.mark.parametrize("model", ["mlp", "cnn", lambda shape, n, rngs: MLP(shape, n, rngs, 8)])
def test_initial_states_are_the_built_weights_bit_for_bit(model):
    hits = _compiled_init.cache_info().hits
    for _ in range(2):  # the second time, a built-in model's compiled init is reused
        network, states, _ = initial_states(model, (40,), 10, [3, 0])
        for i, seed in enumerate([3, 0]):
            module = build(model, (40,), 10, seed=seed)
            module.eval()
            built = nnx.split(module, nnx.Param, ...)
            assert built[0] == network.eval_graph
            for got, want in zip(jax.tree.leaves(states), jax.tree.leaves(built[1]), strict=True):
                np.testing.assert_array_equal(got[i], want)
    if isinstance(model, str):
        assert _compiled_init.cache_info().hits > hits


def test_labels_that_skip_classes_are_warned_about(tmp_path):
    arrays = {"x": np.zeros((3, 2)), "x_test": np.zeros((1, 2))}
    path = _write(tmp_path / "skips.npz", **arrays, y=np.array([1, 2, 3]), y_test=np.array([3]))
    with pytest.warns(UserWarning, match=r"4 outputs, but 1 of the classes 0 .. 3 never appear"):
        assert load(path, val_fraction=0).n_classes == 4
    bools = _write(tmp_path / "bools.npz", **arrays, y=np.array([True, False, True]), y_test=[1])
    assert sorted(load(bools, val_fraction=0).y_train.tolist()) == [0, 1, 1]


def test_test_labels_missing_from_training_are_warned_about(tmp_path):
    x = np.zeros((4, 2))
    path = _write(tmp_path / "unseen.npz", x=x, y=[0, 1, 0, 1], x_test=x, y_test=[0, 2, 2, 1])
    with pytest.warns(UserWarning, match=r"test labels 2 never appear.* 2 of the 4 test"):
        assert load(path, val_fraction=0).n_classes == 3


def test_unused_npz_arrays_are_warned_about(tmp_path):
    x, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    path = _write(tmp_path / "val.npz", x=x, y=y, x_test=x, y_test=y, x_val=x, y_val=y)
    with pytest.warns(UserWarning, match=r"arrays x_val, y_val are not used") as caught:
        load(path, val_fraction=0)
    assert len(caught) == 1


def test_data_warnings_point_at_the_callers_line(tmp_path):
    x = np.zeros((4, 2))
    path = _write(tmp_path / "skips.npz", x=x, y=[0, 2, 0, 2], x_test=x, y_test=[0, 2, 2, 0])
    # fit loads the data, then checks the rest
    with (
        pytest.warns(UserWarning, match="never appear") as caught,
        pytest.raises(ValueError, match="schedules must be a batch"),
    ):
        fit("cosine", data=path, steps=1, val_fraction=0)
    assert [Path(w.filename).name for w in caught] == [Path(__file__).name]


def test_a_dataset_built_directly_is_checked_and_cast():
    x, y = np.ones((4, 3)), np.array([0, 1, 1, 0])
    ds = Dataset("mine", x, y, x[:0], y[:0], x, y, n_classes=2)
    assert ds.x_train.dtype == np.float32 and ds.y_test.dtype == np.int32
    with pytest.raises(ValueError, match=r"mine: test y has label 1, but n_classes is 1"):
        Dataset("mine", x, y * 0, x[:0], y[:0], x, y, n_classes=1)
    with pytest.raises(ValueError, match=r"mine: train x has NaN or infinite values"):
        Dataset("mine", x * np.nan, y, x[:0], y[:0], x, y, n_classes=2)
    with pytest.raises(ValueError, match=r"mine: val examples have shape \(2,\)"):
        Dataset("mine", x, y, x[:, :2], y, x, y, n_classes=2)


@pytest.mark.parametrize("fraction", ["0.1", True, float("nan"), 1.0, -0.1])
def test_bad_val_fractions(fraction):
    with pytest.raises(ValueError, match=r"val_fraction must be in \[0, 1\)"):
        load("digits", fraction)


def test_a_validation_split_too_small_to_hold_an_example_is_refused():
    # Ranked on validation, it read as "every configuration diverged".
    with pytest.raises(
        ValueError, match=r"digits: val_fraction=0.0003 of \d+ training examples holds no example"
    ):
        load("digits", 0.0003)
    assert len(load("digits", 0.0).y_val) == 0  # no validation at all: asked for
