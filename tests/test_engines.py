"""The two engines are one model.

The vectorised engine (``engine="vector"``) and the per-agent Mesa engine (``engine="agent"``)
must give the same state after every step (discrete fields exactly, floats within 1e-9) and the
same user-facing results. Configurations are small but tuned so that rare events (entries,
exits, promotions, sponsorship, every kind of currency movement) happen and are compared.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import spheres
from conftest import used_graph_settings, weekly_config
from spheres.config import MechanismsConfig, SpheresConfig, validate
from spheres.model import agents
from spheres.model import draws as dr
from spheres.model.currency import KINDS, REASONS
from spheres.model.model import MarketModel
from spheres.model.network import KINDS as NETWORK_KINDS
from spheres.model.sellers import TARGETING
from spheres.model.state import AD, INFLUENCER_SRC, PEER
from spheres.model.strategies import STRATEGIES
from spheres.verify import compare, first_difference, snapshot

MECHANISMS = [f.name for f in dataclasses.fields(MechanismsConfig)]

# Sellers enter often, start poor and pay a high fixed cost (entries and exits); audiences grow
# fast and a few followers make an influencer (promotions); half the buyers have a need each step
# (purchases, advice, thank-yous, rewards, perks, cash-outs); sponsors re-sign every 3 steps and
# do not disclose it, and followers often find out; more influencers than sponsors can hire, so
# targeting matters; free trials are cheap enough for poor sellers.
BASE: dict[str, Any] = {
    "n_buyers": 120,
    "steps": 25,
    "seed": 1,
    "network.mean_degree": 6,
    "network.influencer_share": 0.1,
    "network.followers_per_influencer": 10,
    "market.need_rate": 0.5,
    "market.p_word_of_mouth": 0.3,
    "market.initial_awareness": 0.1,
    "market.post_rate": 0.8,
    "market.ad_rate": 0.1,
    "market.audience_growth": 0.1,
    "market.promote_at": 4,
    "sellers.entry_rate": 0.3,
    "sellers.initial_cash_per_buyer": 40,
    "sellers.fixed_cost_per_buyer": 20,
    "sellers.sense_delay": 3,
    "sellers.sponsor_fee": 300,
    "sellers.sponsor_k": 2,
    "sellers.campaign_period": 3,
    "sellers.trial_cost": 20,
    "sellers.seed_k": 5,
    "market.p_exposure": 0.2,
    "currency.cashout_threshold": 20,
    "currency.perk_threshold": 5,
    "output.progress": False,
    "output.dashboard": False,
}


def write_edgelist(path: Path, n: int, seed: int = 0) -> str:
    """An edge-list file on ``n`` nodes: a ring with chords on nodes ``0..n-2`` and node ``n-1``
    mentioned only in a self-loop (dropped), so that one buyer has no neighbour."""
    rng = np.random.default_rng(seed)
    m = n - 1
    lines = ["# ring with random chords"]
    lines += [f"{i} {(i + 1) % m}" for i in range(m)]
    lines += [f"{a} {b}" for a, b in rng.integers(0, m, size=(2 * n, 2))]
    lines.append(f"{n - 1} {n - 1}")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def config(tmp_path: Path | None = None, **overrides: Any) -> SpheresConfig:
    """``BASE`` with dotted ``overrides``; ``sellers.mix`` replaces the mix, and an edge list is
    written to ``tmp_path`` when the network kind is ``edgelist``."""
    flat = used_graph_settings({**BASE, **overrides})
    mix = flat.pop("sellers.mix", None)
    if flat.get("network.kind") == "edgelist":
        assert tmp_path is not None
        flat["network.path"] = write_edgelist(tmp_path / "edges.txt", flat["n_buyers"])
    return weekly_config({"sellers": {"mix": dict(mix)}} if mix else None, **flat)


def vector_counts(cfg: SpheresConfig) -> dict[str, int]:
    """How often each event happens in a vectorised run of ``cfg``."""
    model = MarketModel(validate(dataclasses.replace(cfg, engine="vector")))
    b, m = model.buyers_state, model.sellers_state
    sponsored_posts = 0
    for _ in range(cfg.steps):
        live = (b.sponsor_of >= 0) & m.alive[np.maximum(b.sponsor_of, 0)]
        posts = b.posts.copy()
        model.step()
        sponsored_posts += int((b.posts - posts)[live].sum())
    counts = dict(model.events)
    counts.update(zip(KINDS, (int(v) for v in model.ledger.totals), strict=True))
    counts.update(dict.fromkeys(REASONS, 0))
    for *_, reason, amount in model.ledger.flow_rows():
        counts[reason] += amount
    counts["trials"] = int(sum(row["trials"] for row in model.metric_rows))
    counts["exposures"] = int(sum(row["exposures"] for row in model.metric_rows))
    counts["purchases"] = int(b.purchases.sum())
    counts["posts"] = int(b.posts.sum())
    counts["peer_intros"] = int((b.intro_kind == PEER).sum())
    counts["influencer_intros"] = int((b.intro_kind == INFLUENCER_SRC).sum())
    counts["seller_intros"] = int((b.intro_kind == AD).sum())
    counts["sponsored_posts"] = sponsored_posts
    return counts


def expected_events(cfg: SpheresConfig, rich: bool = False) -> dict[str, bool | None]:
    """Which events a run of ``cfg`` must show (True), must not show (False), or may show (None).

    Initial sellers' strategies must act; entrants' strategy may act. Events that need a seller
    to stay solvent for a while (follower shares, co-creation rewards, being found out) are
    demanded only of ``rich`` configs.
    """
    mech = cfg.mechanisms
    start = {name for name, count in cfg.sellers.mix.items() if count > 0}
    maybe = start | ({cfg.sellers.entry_strategy} if mech.entry else set())

    def lever(must: bool, can: bool) -> bool | None:
        return True if must else (False if not can else None)

    def levers(*names: str) -> tuple[bool, bool]:
        from spheres.model.strategies import STRATEGIES

        def has(pool: set[str]) -> bool:
            return any(cfg.sellers.marketing.get(p, STRATEGIES[p].marketing) in names
                       for p in pool)
        return has(start), has(maybe)

    hires = mech.sponsorship
    posts = mech.influencers
    grow = mech.audience_growth
    earn = mech.advice_reward
    sponsors, may_sponsor = levers("sponsor")
    cocreates, may_cocreate = levers("cocreate")
    ads, may_ad = levers("advertise")
    seeds, may_seed = levers("seed")
    hidden = not cfg.sellers.disclose_sponsorship and mech.exposure
    return {
        "purchases": True,
        "peer_intros": True,
        "entries": mech.entry,
        "exits": mech.exit,
        "promotions": lever(earn and grow, grow),
        "posts": mech.influencers,
        "influencer_intros": mech.influencers,
        "advice": earn,
        "thank_you": lever(mech.thank_you and earn, mech.thank_you),
        "perk": lever(mech.perks and earn, mech.perks),
        "cashout": lever(mech.cashout and earn, mech.cashout),
        "decay": lever(mech.decay and earn, mech.decay),
        "sponsorship": lever(hires and sponsors, hires and may_sponsor),
        "follower_share": lever(rich and posts and hires and mech.follower_share and sponsors,
                                posts and hires and mech.follower_share and may_sponsor),
        "cocreation": lever(rich and mech.cocreation and cocreates,
                            mech.cocreation and may_cocreate),
        "sponsored_posts": lever(posts and hires and sponsors, posts and hires and may_sponsor),
        "exposures": lever(rich and posts and hires and hidden and sponsors,
                           posts and hires and hidden and may_sponsor),
        "seller_intros": lever((mech.advertising and ads) or (mech.seeding and seeds),
                               (mech.advertising and may_ad) or (mech.seeding and may_seed)),
        "trials": lever(mech.seeding and seeds, mech.seeding and may_seed),
    }


def assert_engines_equal(cfg: SpheresConfig, rich: bool = False,
                         may: tuple[str, ...] = ()) -> None:
    """Both engines agree at every step, and the events the config is meant to produce occur
    (events named in ``may`` need not)."""
    diff = first_difference(cfg)
    assert diff is None, str(diff)
    counts = vector_counts(cfg)
    wrong = {event: counts[event] for event, flag in expected_events(cfg, rich).items()
             if flag is not None and (counts[event] > 0) != flag and event not in may}
    assert not wrong, f"events not as intended: {wrong} (all counts: {counts})"


# Without initial influencers sponsors wait for audiences to grow; at some seeds (1 and 3 among
# others) every sponsor has left before a renewal finds a buyer with an audience, so no
# sponsorship would be compared. Seed 4 sponsors.
OFF_CASE: dict[str, dict[str, Any]] = {"influencers": {"seed": 4}}

EQUALITY_CASES = [
    *[pytest.param({"network.kind": kind}, id=f"network-{kind}") for kind in NETWORK_KINDS],
    *[pytest.param({"sellers.mix": {name: 4}, "sellers.entry_strategy": name}, id=f"only-{name}")
      for name in STRATEGIES],
    pytest.param({}, id="mixed"),
    *[pytest.param({f"mechanisms.{name}": False, **OFF_CASE.get(name, {})}, id=f"no-{name}")
      for name in MECHANISMS],
    *[pytest.param({"sellers.mix": {"sponsor": 3, "seed": 2}, "sellers.targeting": how,
                    "sellers.entry_strategy": "sponsor"}, id=f"targeting-{how}")
      for how in TARGETING],
    pytest.param({"seed": 3, "n_buyers": 60, "steps": 40}, id="seed-3-small-long"),
    pytest.param({"seed": 3, "n_buyers": 250, "steps": 15, "network.kind": "sbm"},
                 id="seed-3-large-short"),
    pytest.param({"seed": 4, "network.kind": "watts_strogatz"}, id="seed-4"),
    pytest.param({"market.dims": 1}, id="dims-1"),
    pytest.param({"market.dims": 5, "market.taste_spread": 0.2}, id="dims-5"),
    pytest.param({"market.contacts": 1}, id="contacts-1"),
    pytest.param({"market.contacts": 8, "currency.thank_you": 3}, id="contacts-8"),
    pytest.param({"network.influencer_selection": "random"}, id="influencers-random"),
    pytest.param({"market.p_word_of_mouth": 1.0, "market.initial_awareness": 0.0},
                 id="all-word-of-mouth"),
    pytest.param({"sellers.sense_delay": 0, "sellers.campaign_period": 1}, id="no-delay"),
    pytest.param({"sellers.disclose_sponsorship": True}, id="disclosed"),
    pytest.param({"sellers.sensing": {"broadcast": "conversations", "listen": "lagging_sales",
                                      "sponsor": "customers", "cocreate": "never"}},
                 id="sensing-set"),
    pytest.param({"sellers.marketing": {"listen": "seed", "inert": "advertise",
                                        "cocreate": "sponsor"}}, id="marketing-set"),
    pytest.param({"sellers.mix": {"lagging": 2, "listen": 2, "seed": 2, "broadcast": 2},
                  "sellers.targeting": "random"}, id="lagging-listen-seed"),
    pytest.param({"market.drift_spread": 0.0, "market.peer_pull": 1.0}, id="pull-all-the-way"),
    pytest.param({"network.kind": "erdos_renyi", "network.mean_degree": 1.0},
                 id="sparse-with-isolated-buyers"),
    pytest.param({"market.max_known": 2}, id="memory-2"),
    pytest.param({"market.max_known": 1, "market.p_word_of_mouth": 0.5,
                  "sellers.mix": {"sponsor": 2, "seed": 2, "broadcast": 2, "listen": 2}},
                 id="memory-1-every-source"),
    pytest.param({"market.max_known": 3, "mechanisms.entry": True, "sellers.entry_rate": 0.3,
                  "sellers.max_entrants": 6, "steps": 30}, id="memory-3-entry"),
]


@pytest.mark.parametrize("overrides", EQUALITY_CASES)
def test_engines_equal(overrides: dict[str, Any], tmp_path: Path) -> None:
    """Vector and agent engines agree on every state array after every step."""
    assert_engines_equal(config(tmp_path, **overrides))


RICH = {"sellers.initial_cash_per_buyer": 2000, "sellers.fixed_cost_per_buyer": 5,
        "market.p_exposure": 0.3, "mechanisms.exit": False}


@pytest.mark.parametrize("overrides", [
    pytest.param({"sellers.mix": {"sponsor": 2, "cocreate": 2, "seed": 2, "broadcast": 2}},
                 id="every-lever"),
    pytest.param({"sellers.mix": {"sponsor": 3, "cocreate": 1}, "seed": 7, "steps": 30},
                 id="sponsors"),
])
def test_engines_equal_rich_sellers(overrides: dict[str, Any]) -> None:
    """Sellers that stay solvent: sponsored influencers share with followers who buy, followers
    find out undisclosed sponsorship, co-creating sellers reward feedback; engines agree."""
    assert_engines_equal(config(**RICH, **overrides), rich=True)


def test_edgelist_has_an_isolated_buyer(tmp_path: Path) -> None:
    """The edge-list case includes a buyer without neighbours (contacts drawn as -1)."""
    cfg = config(tmp_path, **{"network.kind": "edgelist"})
    model = MarketModel(cfg)
    assert model.degree[-1] == 0 and (model.degree[:-1] > 0).all()


def test_sparse_case_has_isolated_buyers() -> None:
    """The sparse Erdős–Rényi case includes buyers without neighbours."""
    model = MarketModel(config(**{"network.kind": "erdos_renyi", "network.mean_degree": 1.0}))
    assert (model.degree == 0).sum() > 0


# --------------------------------------------------------------------------- broader sweep

SWEEP = {"n_buyers": 250, "steps": 40}


@pytest.mark.slow
@pytest.mark.parametrize("seed", [10, 11])
@pytest.mark.parametrize("kind", NETWORK_KINDS)
@pytest.mark.parametrize("strategy", [*STRATEGIES, "mixed"])
def test_engines_equal_sweep(strategy: str, kind: str, seed: int, tmp_path: Path) -> None:
    """Every strategy alone (and the mix) on every network kind, larger and longer runs. Four
    sellers of one strategy may all stay solvent, so exits are not demanded there."""
    overrides: dict[str, Any] = {**SWEEP, "seed": seed, "network.kind": kind}
    if strategy != "mixed":
        overrides.update({"sellers.mix": {strategy: 4}, "sellers.entry_strategy": strategy})
    assert_engines_equal(config(tmp_path, **overrides),
                         may=("exits",) if strategy != "mixed" else ())


@pytest.mark.slow
@pytest.mark.parametrize("seed", [22, 23])
@pytest.mark.parametrize("name", MECHANISMS)
def test_engines_equal_mechanism_off_sweep(name: str, seed: int) -> None:
    """Each mechanism switched off, larger runs and more seeds."""
    assert_engines_equal(config(**SWEEP, seed=seed, **{f"mechanisms.{name}": False}))


@pytest.mark.slow
@pytest.mark.parametrize("how", TARGETING)
def test_engines_equal_targeting_sweep(how: str) -> None:
    """Sponsorship under every targeting rule, disclosed, with frequent re-signing."""
    assert_engines_equal(config(**SWEEP, seed=30, **{
        "sellers.mix": {"sponsor": 4, "cocreate": 2, "broadcast": 2, "seed": 2},
        "sellers.targeting": how, "sellers.campaign_period": 2,
        "sellers.entry_strategy": "sponsor"}))


@pytest.mark.slow
def test_engines_equal_long_run() -> None:
    """A long run of the default mix, where many sellers exit and enter."""
    assert_engines_equal(config(n_buyers=200, steps=120, seed=40))


# --------------------------------------------------------------------------- the comparator


def test_need_perturbation_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    """An agent engine in which the last buyer always has a need is caught at the first step
    where the draw gave that buyer none, in ``buyers.need``, at that buyer's row."""
    cfg = config(**{"mechanisms.peer_pull": False})
    last = cfg.n_buyers - 1
    draws: list[np.ndarray] = []

    def feel_need(self: agents.Buyer, drawn: np.ndarray) -> None:
        if not draws or draws[-1] is not drawn:
            draws.append(drawn)
        self.model.buyers_state.need[self.row] = drawn[self.row] or self.row == last

    monkeypatch.setattr(agents.Buyer, "feel_need", feel_need)
    diff = first_difference(cfg)
    assert diff is not None
    step = next(i for i, drawn in enumerate(draws, start=1) if not drawn[last])
    assert (diff.step, diff.field) == (step, "buyers.need")
    assert diff.detail.startswith(f"first at index ({last},): ")
    assert f"step {step}, field buyers.need" in str(diff)


@pytest.mark.parametrize(("eps", "atol", "steps", "caught"), [
    pytest.param(1e-6, 1e-9, 25, True, id="1e-6-caught"),
    pytest.param(1e-12, 1e-9, 25, False, id="1e-12-tolerated"),
    pytest.param(1e-6, 1e-4, 2, False, id="1e-6-tolerated-at-atol-1e-4"),
])
def test_drift_perturbation(monkeypatch: pytest.MonkeyPatch, eps: float, atol: float,
                            steps: int, caught: bool) -> None:
    """Adding ``eps`` to every buyer's drift in the agent engine is reported at step 1 in
    ``buyers.expect`` (every entry differs) when above ``atol``, and tolerated below it."""
    drift = agents.Buyer.drift

    def shifted(self: agents.Buyer) -> None:
        drift(self)
        self.model.buyers_state.expect[self.row] += eps

    monkeypatch.setattr(agents.Buyer, "drift", shifted)
    cfg = config(steps=steps)
    diff = first_difference(cfg, atol=atol)
    if not caught:
        assert diff is None, str(diff)
        return
    assert diff is not None
    assert (diff.step, diff.field) == (1, "buyers.expect")
    assert diff.detail.startswith("first at index (0, 0): ")
    assert diff.detail.endswith(f"({cfg.n_buyers * cfg.market.dims} differ)")


def test_ledger_perturbation_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    """An agent engine that burns one point more per buyer holding points is caught in
    ``buyers.currency`` at the first step in which points are minted or sold (after which a
    buyer holds points in the economy phase)."""
    spend = agents.Buyer.spend_currency

    def spend_more(self: agents.Buyer, burn: dr.DecayDraws) -> None:
        spend(self, burn)
        if self.model.buyers_state.currency[self.row] > 0:
            self.model.ledger.burn(np.array([self.row]), 1)

    monkeypatch.setattr(agents.Buyer, "spend_currency", spend_more)
    cfg = config()
    diff = first_difference(cfg)
    assert diff is not None and diff.field == "buyers.currency"
    model = MarketModel(cfg)
    arrive = [KINDS.index("mint"), KINDS.index("convert_in")]
    while model.ledger.totals[arrive].sum() == 0:
        model.step()
    assert diff.step == model.steps


def test_compare_fields() -> None:
    """``compare`` finds nothing in equal snapshots, tolerates float noise below ``atol``, and
    names the first differing field for a float, an integer, a ledger entry or a shape."""
    model = MarketModel(config(steps=3, **{"output.ledger_entries": True}))
    for _ in range(3):
        model.step()
    base = snapshot(model)
    assert base["ledger.entries"].shape[0] > 0
    copy = {name: value.copy() for name, value in base.items()}
    assert compare(base, copy) is None

    copy["buyers.belief"][3, 1] += 5e-10
    assert compare(base, copy) is None
    copy["buyers.belief"][3, 1] += 1e-9
    assert compare(base, copy)[0] == "buyers.belief"
    assert compare(base, copy, atol=1e-8) is None

    copy = {name: value.copy() for name, value in base.items()}
    copy["sellers.cash"][2] += 1
    name, detail = compare(base, copy)
    assert name == "sellers.cash" and detail.startswith("first at index (2,): ")

    copy = {name: value.copy() for name, value in base.items()}
    copy["ledger.entries"][-1, -1] += 1
    assert compare(base, copy)[0] == "ledger.entries"

    copy = {name: value.copy() for name, value in base.items()}
    copy["ledger.entries"] = copy["ledger.entries"][:-1]
    name, detail = compare(base, copy)
    assert name == "ledger.entries" and detail.startswith("shapes ")

    nan = {"x": np.array([np.nan, 1.0])}
    assert compare(nan, {"x": np.array([np.nan, 1.0])}) is None
    assert compare(nan, {"x": np.array([0.0, 1.0])})[0] == "x"


def test_agent_engine_visits_in_shuffled_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """The agent engine visits every buyer once per phase, in an order that is not row order and
    changes from step to step, so the equality above does not rest on the visiting order."""
    orders: list[list[int]] = []
    seen: list[np.ndarray] = []
    feel_need = agents.Buyer.feel_need

    def recording(self: agents.Buyer, u: np.ndarray) -> None:
        if not seen or seen[-1] is not u:
            seen.append(u)
            orders.append([])
        orders[-1].append(self.row)
        feel_need(self, u)

    monkeypatch.setattr(agents.Buyer, "feel_need", recording)
    cfg = config(steps=3, engine="agent")
    model = MarketModel(cfg)
    for _ in range(cfg.steps):
        model.step()
    assert len(orders) == cfg.steps
    rows = list(range(cfg.n_buyers))
    for order in orders:
        assert sorted(order) == rows and order != rows
    assert orders[0] != orders[1]


# --------------------------------------------------------------------------- user-facing results


def assert_same(a: Any, b: Any, path: str) -> None:
    """Nested dicts and lists equal: floats within 1e-9 (NaN equals NaN), the rest exactly."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), path
        for key in a:
            assert_same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list | tuple):
        assert type(a) is type(b) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float):
        assert isinstance(b, float), path
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=0, abs_tol=1e-9), (
            f"{path}: {a!r} != {b!r}")
    else:
        assert type(a) is type(b) and a == b, f"{path}: {a!r} != {b!r}"


def test_simulate_results_equal_across_engines() -> None:
    """``spheres.simulate`` gives the same tables and summary with either engine."""
    cfg = config(steps=30, seed=5, **{"output.ledger_entries": True})
    vec = spheres.simulate(dataclasses.replace(cfg, engine="vector"))
    agt = spheres.simulate(dataclasses.replace(cfg, engine="agent"))

    for table in ("metrics", "sellers", "flows", "agents"):
        left, right = getattr(vec, table), getattr(agt, table)
        assert len(left) > 0, table
        pd.testing.assert_frame_equal(left, right, check_exact=False, atol=1e-9, rtol=0,
                                      obj=table)
    columns = list(vec.ledger_entries.columns)
    pd.testing.assert_frame_equal(
        vec.ledger_entries.sort_values(columns, ignore_index=True),
        agt.ledger_entries.sort_values(columns, ignore_index=True), obj="ledger_entries")

    assert (vec.summary["engine"], agt.summary["engine"]) == ("vector", "agent")
    assert (vec.summary["config"]["engine"], agt.summary["config"]["engine"]) == ("vector",
                                                                                  "agent")
    assert dataclasses.replace(agt.config, engine="vector") == vec.config

    def comparable(summary: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in summary.items() if k not in ("engine", "wall_time_s")}
        out["config"] = {k: v for k, v in summary["config"].items() if k != "engine"}
        return out

    assert_same(comparable(vec.summary), comparable(agt.summary), "summary")
    s = vec.summary
    assert s["exits"] > 0 and s["entries"] > 0 and s["promotions"] > 0
    assert all(v > 0 for v in s["currency_by_kind"].values()), s["currency_by_kind"]
    assert s["ledger_identity_holds"] and s["money_identity_holds"]
