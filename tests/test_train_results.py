"""Result's plots (built from arrays, no training) and the TensorBoard callback."""

from __future__ import annotations

import numpy as np
import pytest

import jaxsched
from jaxsched.train import Result
from jaxsched.train._io import pyplot


def _result(schedules, steps=(100, 200, 300), seeds=1, metrics=None):
    configs = schedules.to_dicts()
    n, e = len(configs), len(steps)
    rng = np.random.default_rng(0)
    metrics = metrics or {
        "train_loss": rng.uniform(0.1, 1.0, (seeds, n, e)),
        "val_acc": rng.uniform(0.5, 0.9, (seeds, n, e)),
    }
    return Result(
        metrics=metrics,
        steps=np.asarray(steps),
        lr=np.zeros((n, e)),
        diverged=np.full((seeds, n), -1),
        configs=configs,
        seeds=list(range(seeds)),
        goals={"train_loss": "min", "val_acc": "max"},
    )


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    pyplot().close("all")


def _legend(fig):
    return [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def test_plot_lr_draws_a_short_warmup_at_every_step():
    # Evaluated every 100 steps, a 90-step warmup would vanish from the evaluation points.
    schedules = jaxsched.grid(
        lambda peak: jaxsched.warmup(jaxsched.cosine(peak, decay_steps=300), warmup_steps=90),
        peak=[0.1, 0.3],
    )
    result = _result(schedules)
    fig = result.plot_lr()
    lines = fig.axes[0].get_lines()
    assert len(lines) == 2
    for line, schedule in zip(lines, schedules, strict=True):
        x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        np.testing.assert_array_equal(x, np.arange(301))
        np.testing.assert_allclose(y, np.asarray(schedule(np.arange(301))), rtol=1e-6)
        assert y[45] == pytest.approx(y[90] / 2, rel=1e-5)  # halfway up the warmup
    assert _legend(fig)[0].startswith("warmup(schedule=cosine(init_value=0.1, decay_steps=300)")


def test_plot_lr_spreads_at_most_20000_steps_over_a_long_run():
    result = _result(
        jaxsched.grid(jaxsched.cosine, init_value=[0.1], decay_steps=10**6), steps=(10**6,)
    )
    (line,) = result.plot_lr().axes[0].get_lines()
    x = np.asarray(line.get_xdata())
    assert len(x) == 20_000 and x[0] == 0 and x[-1] == 10**6


def test_legends_name_hyperparameters_and_shorten_long_ones():
    schedules = jaxsched.grid(jaxsched.cosine, init_value=[0.01, 0.1], decay_steps=900)
    result = _result(schedules)
    for fig in (result.plot_lr(), result.plot_curves("val_acc", configs=[0, 1])):
        assert _legend(fig) == [
            "cosine(init_value=0.01, decay_steps=900)",
            "cosine(init_value=0.1, decay_steps=900)",
        ]
    long = jaxsched.grid(
        lambda v: jaxsched.join(
            [jaxsched.constant(v), jaxsched.cosine(v, 100), jaxsched.constant(v / 10)],
            boundaries=[100, 200],
        ),
        v=[0.1],
    )
    (text,) = _legend(_result(long).plot_lr())
    assert text.startswith("join(schedules=[constant(value=0.1)") and text.endswith("…")
    assert len(text) <= 60


def test_plot_curves_uses_a_log_axis_for_a_loss_spanning_decades_only():
    steps = (100, 200, 300)
    loss = np.array([[[2.0, 0.05, 0.001], [2.3, 0.2, 0.01]]])
    acc = np.array([[[0.2, 0.6, 0.9], [0.1, 0.5, 0.8]]])
    result = _result(
        jaxsched.grid(jaxsched.constant, value=[0.1, 0.3]),
        steps,
        metrics={"train_loss": loss, "val_acc": acc},
    )
    assert result.plot_curves("train_loss").axes[0].get_yscale() == "log"
    assert result.plot_curves("val_acc").axes[0].get_yscale() == "linear"
    flat = dict(result.metrics, train_loss=loss.clip(0.5))  # less than two decades
    flat_result = _result(jaxsched.grid(jaxsched.constant, value=[0.1, 0.3]), steps, metrics=flat)
    assert flat_result.plot_curves("train_loss").axes[0].get_yscale() == "linear"


def test_titles_count_and_subsets_are_honoured():
    schedules = jaxsched.grid(jaxsched.constant, value=list(np.linspace(0.01, 0.3, 30)))
    acc = np.linspace(0.1, 0.9, 30)[None, :, None].repeat(3, axis=2)
    result = _result(schedules, metrics={"val_acc": acc})

    fig = result.plot_lr(configs=[3, 7, 11, 20, 29])
    assert fig.axes[0].get_title() == "learning rate: 5 of 30 configurations"
    assert len(fig.axes[0].get_lines()) == 5
    assert _legend(fig)[1] == "constant(value=0.08)"
    assert result.plot_lr().axes[0].get_title() == "learning rate: 20 of 30 configurations"

    fig = result.plot_curves("val_acc", configs=[2, 5])
    assert fig.axes[0].get_title() == "val_acc: 2 of 30 configurations"
    np.testing.assert_allclose(fig.axes[0].get_lines()[1].get_ydata(), acc[0, 5])

    fig = result.plot_curves("val_acc")  # the 10 best, best first
    assert fig.axes[0].get_title().startswith("val_acc: 10 of 30 configurations")
    firsts = [line.get_ydata()[0] for line in fig.axes[0].get_lines()]
    np.testing.assert_allclose(firsts, acc[0, 29:19:-1, 0])
    with pytest.raises(ValueError, match="no configuration 30"):
        result.plot_lr(configs=[30])


# ------------------------------------------------------------------ TensorBoard
def _events(folder):
    """Every Event in a run folder's event files, read from the TFRecord framing
    (length, its crc, data, its crc) with tensorboardX's protos."""
    import struct

    from tensorboardX.proto.event_pb2 import Event

    events = []
    for path in sorted(folder.glob("events.out.tfevents.*")):
        data, at = path.read_bytes(), 0
        while at < len(data):
            (length,) = struct.unpack("<Q", data[at : at + 8])
            events.append(Event.FromString(data[at + 12 : at + 12 + length]))
            at += 12 + length + 4
    return events


def test_tensorboard_writes_each_runs_scalars_and_hyperparameters(tmp_path):
    from jaxsched.train import TensorBoard, fit

    batch = jaxsched.grid(jaxsched.cosine, init_value=[0.05, 1e4], decay_steps=20)
    board = TensorBoard(tmp_path / "tb")
    calls = []

    class Recorder:
        def start(self, **info):
            calls.append("start")

        def __call__(self, step, metrics):
            calls.append(step)

        def end(self):
            calls.append("end")

    result = fit(
        batch, data="digits", steps=20, eval_every=10, progress=False, callbacks=[board, Recorder()]
    )
    assert calls == ["start", 10, 20, "end"]
    assert board._writers == {}  # closed when fit ended
    runs = sorted(p.name for p in (tmp_path / "tb").iterdir())
    assert runs == ["config-000_seed-0", "config-001_seed-0"]
    for c, run in enumerate(runs):
        events = _events(tmp_path / "tb" / run)
        scalars = {
            (v.tag, e.step): v.simple_value
            for e in events
            for v in e.summary.value
            if v.HasField("simple_value")
        }
        expected = {
            (name, int(step)): float(values[0, c, k])
            for name, values in result.metrics.items()
            for k, step in enumerate(result.steps)
            if np.isfinite(values[0, c, k])
        }
        assert set(scalars) == set(expected)
        for key, value in expected.items():
            assert scalars[key] == pytest.approx(value, rel=1e-6)
        tags = {v.tag for e in events for v in e.summary.value}
        assert "_hparams_/session_start_info" in tags and "config/text_summary" in tags
        (start,) = [
            v for e in events for v in e.summary.value if v.tag == "_hparams_/session_start_info"
        ]
        from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData

        hp = HParamsPluginData.FromString(start.metadata.plugin_data.content)
        params = hp.session_start_info.hparams
        assert params["kind"].string_value == "cosine"
        assert params["init_value"].number_value == pytest.approx([0.05, 1e4][c])
        assert params["config"].number_value == c
    # The rate of 1e4 diverges: its NaN are left out, the stable run has every point.
    assert result.diverged[0, 1] >= 0 and result.diverged[0, 0] == -1
    assert len(_events(tmp_path / "tb" / runs[0])) > len(_events(tmp_path / "tb" / runs[1]))


def test_tensorboard_outside_fit_says_how_to_use_it(tmp_path):
    from jaxsched.train.callbacks import TensorBoard

    with pytest.raises(ValueError, match=r"fit\(callbacks="):
        TensorBoard(tmp_path)(10, {"val_acc": np.zeros((1, 1))})
