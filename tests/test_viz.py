"""The classroom page's parts without a browser: sliders named by settings, the model they build,
what the panels read from the model, and the ``spheres viz`` command's refusals."""

from __future__ import annotations

import socket
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.colors import to_hex

from spheres import MarketModel, make_config
from spheres.analysis.figures import CURRENCY_KIND_COLORS, PALETTE, strategy_color
from spheres.model.currency import CURRENCY_LABELS, KINDS, REASONS
from spheres.model.strategies import STRATEGIES
from spheres.viz import panels, serve
from spheres.viz.classroom import (
    CLASSROOM_BUYERS,
    SEED,
    SLIDERS,
    ClassroomModel,
    classroom_config,
    default_value,
    model_params,
)


def test_one_slider_per_setting_named_by_it() -> None:
    params = model_params()
    assert list(params) == [SEED, *(s.setting for s in SLIDERS)]
    config = classroom_config({})
    assert config.n_buyers == CLASSROOM_BUYERS
    for s in SLIDERS:
        p = params[s.setting]
        assert p["label"] == s.setting
        assert p["min"] <= p["value"] <= p["max"]
        assert p["value"] == default_value(s.setting, config)
        # Every position of the slider is a value the config accepts.
        for value in (p["min"], p["max"]):
            make_config(**{"n_buyers": 2000, s.setting: value})
    # The strategy mix has one slider per registered strategy.
    assert {s.setting for s in SLIDERS} >= {f"sellers.mix.{name}" for name in config.sellers.mix}


def test_classroom_model_is_the_market_model_of_those_settings() -> None:
    settings = {"market.ad_rate": 0.05, "sellers.mix.listen": 4, "n_buyers": 200, SEED: " 3 "}
    page_model = ClassroomModel(**settings, scenario=object())
    plain = MarketModel(make_config(**{**settings, SEED: 3}))
    assert page_model.refused is None
    assert page_model.cfg == plain.cfg
    for _ in range(15):
        page_model.step()
        plain.step()
    # Equal rows, NaN where both are NaN (measures with nothing to measure yet).
    np.testing.assert_equal(page_model.metric_rows, plain.metric_rows)
    assert page_model.metric_rows[-1]["step"] == 15


@pytest.mark.parametrize(("settings", "named"), [
    ({SEED: "abc"}, "seed"),
    ({SEED: "-1"}, "seed"),
    ({f"sellers.mix.{s.setting.rsplit('.', 1)[1]}": 0 for s in SLIDERS
      if s.setting.startswith("sellers.mix.")}, "sellers.mix"),
])
def test_refused_values_are_named_and_the_defaults_shown(settings: dict, named: str) -> None:
    model = ClassroomModel(**settings)
    assert model.refused is not None
    assert model.refused.startswith(named) and "not allowed" in model.refused
    assert model.cfg == classroom_config({})


def stepped(steps: int, **settings: object) -> ClassroomModel:
    model = ClassroomModel(**settings)
    for _ in range(steps):
        model.step()
    return model


def test_preferred_seller_is_a_known_seller_in_the_market() -> None:
    model = stepped(30)
    rows = np.arange(model.n_buyers)
    prefer = panels.preferred_sellers(model, rows)
    b, m = model.buyers_state, model.sellers_state
    knows = (b.aware & m.alive[: model.n_used]).any(axis=1)
    assert np.array_equal(prefer >= 0, knows)
    chosen = prefer >= 0
    assert b.aware[rows[chosen], prefer[chosen]].all()
    assert m.alive[prefer[chosen]].all()
    # No buyer prefers a seller that left; its colour is grey.
    model.sellers_state.alive[prefer[chosen][0]] = False
    gone = prefer[chosen][0]
    assert gone not in panels.preferred_sellers(model, rows)
    assert tuple(panels.seller_colors(model)[gone]) == panels.EXITED


def test_network_sample_is_fixed_and_bounded() -> None:
    model = stepped(2, n_buyers=800)
    sample = panels.network_sample(model)
    assert sample.rows.size == panels.SAMPLE_SIZE
    assert np.all(np.diff(sample.rows) > 0)
    assert sample.xy.shape == (sample.rows.size, 2)
    a, b = sample.rows[sample.edges[:, 0]], sample.rows[sample.edges[:, 1]]
    assert all(b_ in model.graph.neighbours(int(a_)) for a_, b_ in zip(a, b, strict=True))
    model.step()
    assert panels.network_sample(model) is sample  # computed once
    small = ClassroomModel(n_buyers=100)
    assert panels.network_sample(small).rows.size == 100


def test_history_and_headline_read_the_models_rows() -> None:
    model = stepped(12)
    h = panels.history(model)
    assert h.steps.tolist() == list(range(1, 13))
    assert h.sellers["alive"].shape == (12, model.n_slots)
    assert h.metrics["trust_sellers"][-1] == model.metric_rows[-1]["trust_sellers"]
    # The ledger's flows by reason add up to the step's totals by kind.
    rows = model.metric_rows
    for reason, column in (("advice", "currency_minted"), ("perk", "currency_perks"),
                           ("follower_share", "currency_follower_share")):
        assert h.flows[reason].tolist() == [r[column] for r in rows]
    by_kind = {"transfer": "currency_transferred", "convert_in": "currency_converted_in",
               "convert_out": "currency_converted_out", "burn": "currency_burned"}
    for kind, column in by_kind.items():
        reasons = [reason for reason, k in REASONS.items() if KINDS[k] == kind]
        assert sum(h.flows[r] for r in reasons).tolist() == [r[column] for r in rows]
    assert sum(h.flows[r].sum() for r in h.flows) > 0
    lines = panels.headline(model)
    assert lines[0] == "step 12"
    assert f"{model.metric_rows[-1]['purchases']} purchases" in " ".join(lines)


def test_images_repaint_in_place_and_change_with_the_market() -> None:
    model = ClassroomModel()
    first = panels.plots_png(model), panels.network_png(model)
    for _ in range(20):
        model.step()
    second = panels.plots_png(model), panels.network_png(model)
    assert all(image.startswith(b"\x89PNG") for image in (*first, *second))
    assert first[0] != second[0] and first[1] != second[1]
    board = panels._BOARDS[model]["plots"]
    assert len(board.figure.axes) == 5
    sync = board.figure.axes[2]
    assert len(sync.lines) == int(model.sellers_state.exists.sum())  # one line per seller
    # Repainting the same step on the kept background gives the same image as drawing afresh.
    again = panels.plots_png(model)
    fresh = panels.Board(board.figure)
    assert again == fresh.png()


def test_legends_name_each_strategys_parts_and_each_currency_reason() -> None:
    # A preset's sensing changed by configuration shows in the legend.
    model = ClassroomModel(**{"sellers.mix.lagging": 1, "sellers.sensing.lagging": "customers"})
    labels = dict(panels.strategy_legend(model))
    assert "lagging (nothing + customers)" in labels
    assert "listen (nothing + conversations)" in labels
    assert len(labels) == len(model.cfg.sellers.mix)
    assert set(panels.FLOW_STYLES) == set(REASONS)
    # Reasons of the same kind share a colour and differ in line style.
    styles = {(s["color"], s["linestyle"]) for s in panels.FLOW_STYLES.values()}
    assert len(styles) == len(REASONS)
    assert len(panels.flow_kind_legend()) == len(KINDS)


def test_the_page_colours_strategies_and_currency_as_every_figure_does() -> None:
    model = stepped(3, **{"sellers.mix.seed": 1, "sellers.mix.sponsor": 2})
    legend = panels.strategy_legend(model)
    assert len(legend) == len(model.cfg.sellers.mix)
    for label, color in legend:
        assert color == strategy_color(label.split(" ")[0])
    # The first seller of each strategy is drawn in the strategy's own colour.
    m = model.sellers_state
    colors = panels.seller_colors(model)
    names = list(STRATEGIES)
    for code in np.unique(m.strategy[m.exists]):
        first = int(np.flatnonzero(m.exists & (m.strategy == code))[0])
        assert to_hex(colors[first]) == strategy_color(names[code])
    # The strategies keep the palette's colours of their places in the registry.
    assert [strategy_color(name) for name in STRATEGIES] == list(PALETTE[:len(STRATEGIES)])
    assert dict(panels.flow_kind_legend()) == {
        CURRENCY_LABELS[kind]: to_hex(color) for kind, color in CURRENCY_KIND_COLORS.items()}


@pytest.mark.parametrize(("value", "ceiling"), [
    (0, 1.0), (0.07, 0.1), (0.11, 0.2), (0.21, 0.25), (0.3, 0.5), (1.0, 1.0), (730, 1000),
])
def test_nice_ceiling(value: float, ceiling: float) -> None:
    assert panels.nice_ceiling(value) == pytest.approx(ceiling)


def spheres_viz(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spheres.cli", "viz", *args],
                          capture_output=True, text=True, timeout=60)


def test_viz_help() -> None:
    done = spheres_viz("--help")
    assert done.returncode == 0
    assert "--port" in done.stdout and "--host" in done.stdout


@pytest.mark.parametrize("port", ["0", "70000", "http"])
def test_viz_refuses_a_bad_port(port: str) -> None:
    done = spheres_viz("--port", port)
    assert done.returncode == 2
    assert "--port" in done.stderr and "Traceback" not in done.stderr


def test_viz_refuses_a_port_in_use() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        done = spheres_viz("--port", str(s.getsockname()[1]))
    assert done.returncode == 2
    assert done.stderr.startswith("error: --host 127.0.0.1 --port")
    assert len(done.stderr.strip().splitlines()) == 1


def test_viz_without_the_extra_says_how_to_install(monkeypatch, capsys) -> None:
    monkeypatch.setattr(serve, "NEEDED", ("solara", "no_such_package_for_spheres"))
    assert serve.missing_packages() == ["no_such_package_for_spheres"]
    assert serve.main(["--port", "8765"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == serve.INSTALL_HINT
    assert "spheres-abm[viz]" in err


def interrupted(style: str):  # type: ignore[no-untyped-def]
    """A stand-in for Solara's command line: Ctrl-C as click or rich-click reports it, or a
    failure of the server's own."""
    import click  # the viz extra's command-line library, installed with the test extra

    def cli(**_: object) -> None:
        if style == "failure":
            raise RuntimeError("the server failed")
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as err:
            if style == "click":  # click: raise Abort() from e
                raise click.exceptions.Abort() from err
            raise click.exceptions.Abort() from None  # rich-click

    return cli


@pytest.mark.parametrize("style", ["click", "rich-click", "failure"])
def test_viz_stops_cleanly_on_ctrl_c_and_only_then(style: str, monkeypatch, capsys) -> None:
    import solara.__main__

    monkeypatch.setattr(solara.__main__, "cli", interrupted(style))
    monkeypatch.setattr(serve, "_port_free", lambda host, port: None)
    monkeypatch.setenv("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")  # main sets it

    def leave(code: int) -> None:
        raise SystemExit(code)

    monkeypatch.setattr(serve.os, "_exit", leave)
    if style == "failure":
        with pytest.raises(RuntimeError, match="the server failed"):
            serve.main(["--port", "8765"])
        return
    with pytest.raises(SystemExit) as ended:
        serve.main(["--port", "8765"])
    assert ended.value.code == 0
    assert capsys.readouterr().err.strip().endswith("spheres viz: stopped")
