"""`fit` with reduce-on-plateau controllers: a factor x patience sweep in one program, each
run's rate set by its controller from its own validation loss."""

import numpy as np
import pytest

import jaxsched as js
from jaxsched.compat import torch as lr_scheduler
from jaxsched.train import fit

RUN = {"data": "digits", "steps": 60, "eval_every": 10, "batch_size": 32, "progress": False}


@pytest.fixture(scope="module")
def sweep():
    factor, patience = np.meshgrid([0.1, 0.5], [0.0, 1.0, 100.0], indexing="ij")
    controllers = lr_scheduler.ReduceLROnPlateau(
        0.3, factor=factor.ravel(), patience=patience.ravel(), threshold=0.05
    )
    # Blocks of one run: the same program as a lone constant rate's (compared below).
    return controllers, fit(controllers, seeds=2, block_size=1, **RUN)


def test_each_runs_rate_follows_its_controller_on_its_own_validation_loss(sweep):
    controllers, result = sweep
    lr, val = result.metrics["lr"], result.metrics["val_loss"]
    assert lr.shape == val.shape == (2, 6, 6)
    state = controllers.init()
    state = type(state)(*(np.broadcast_to(x, (2, 6)) for x in state))
    for k in range(6):
        np.testing.assert_allclose(lr[..., k], state.lr, rtol=1e-6)  # the chunk's rate
        state = controllers.update(state, val[..., k])
    assert (lr[..., 0] == np.float32(0.3)).all()
    # Configurations: factor (0.1, 0.5) x patience (0, 1, 100), patience varying fastest.
    assert (lr[:, [2, 5], -1] == np.float32(0.3)).all()  # patience 100: never reduced
    assert (lr[:, [0, 3], -1] < 0.3).all()  # patience 0 with a 5% threshold: reduced
    assert result.configs[0]["kind"] == "plateau" and result.configs[0]["monitor"] == "val_loss"
    np.testing.assert_array_equal(result.lr, lr[0])


def test_a_controller_that_never_reduces_trains_as_its_constant_rate(sweep):
    _, result = sweep
    constant = fit(js.stack([js.constant(0.3)]), seeds=2, block_size=1, **RUN)
    for name in ("train_loss", "val_loss", "test_acc"):
        np.testing.assert_array_equal(result.metrics[name][:, 5], constant.metrics[name][:, 0])


def test_plateau_states_resume_from_a_checkpoint(tmp_path):
    controllers = js.plateau(0.3, factor=np.array([0.2, 0.5]), patience=0, threshold=0.05)
    whole = fit(controllers, **RUN)
    stop_at = []

    def stop(step, metrics):
        if step == 30:
            stop_at.append(step)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(controllers, checkpoint_dir=tmp_path, callbacks=[stop], **RUN)
    resumed = fit(controllers, checkpoint_dir=tmp_path, **RUN)
    assert stop_at == [30]
    for name, values in whole.metrics.items():
        np.testing.assert_array_equal(resumed.metrics[name], values, err_msg=name)


def test_bad_plateau_batches_and_monitors_are_refused():
    with pytest.raises(ValueError, match=r"monitor 'val_mae' is not measured: use one of"):
        fit(js.plateau(np.array([0.1, 0.3])), monitor="val_mae", **RUN)
    with pytest.raises(ValueError, match=r"one axis of configurations .* batch shape \(\)"):
        fit(js.plateau(0.1), **RUN)
