"""Study Q7 (trust): how trust evolves, and what hidden sponsorship and spam-like ads do to it.

Trust in peers, influencers and sellers.

From the store's ``steps`` (``trust_peers``, ``trust_influencers``, ``trust_sellers`` and
``exposures`` over time) and ``runs`` (``trust_final_<source>``, ``credibility_final``): trust by
source over time per scenario and its change from step 1 to the end, final trust with
intervals, exposures of undisclosed sponsored posts, and the effect of disclosure and of the
sellers' preset (against ``all_listen``, sellers that make no claims).
"""

from __future__ import annotations

from spheres.analysis.estimate import per_scenario
from spheres.analysis.figures import TRUST_COLORS, time_figure
from spheres.analysis.store import Store
from spheres.studies.base import Findings, Study, Verdict, key_effects, runs_column
from spheres.studies.figures import measures_figure
from spheres.studies.readings import at_scenario, fmt, interval, read_difference

SOURCES = ("peers", "influencers", "sellers")
PRESET, DISCLOSE = "sellers", "sellers.disclose_sponsorship"
QUIET, SPONSOR = "all_listen", "all_sponsor"  # sellers that make no claims; that sponsor posts
MEASURES = [  # column, label, digits
    *[(f"trust_final_{s}", f"trust in {s} at the end", 3) for s in SOURCES],
    ("exposures", "undisclosed sponsored posts found out (follower reads)", 0),
    ("credibility_final", "influencers' mean credibility at the end", 3),
]


def analyse(store: Store) -> Findings:
    """Trust over time and at the end per scenario; disclosure and preset effects."""
    found = Findings()
    # Per run: exposures over the run, and each source's trust at the last step minus step 1.
    changes = ", ".join(f"arg_max(trust_{s}, step) - arg_min(trust_{s}, step) AS change_{s}"
                        for s in SOURCES)
    runs = store.tag(store.df(f"SELECT job, sum(exposures) AS exposures, {changes} FROM steps "
                              "GROUP BY job")
                     .merge(store.runs[["job", *[c for c, _, _ in MEASURES if c != "exposures"]]],
                            on="job"))
    levels = {column: per_scenario(runs, column) for column, _, _ in MEASURES}
    for scenario in store.scenarios:
        for column, label, digits in MEASURES:
            found.number(label, scenario, levels[column][scenario], digits)
        for source in SOURCES:
            change = per_scenario(runs, f"change_{source}")[scenario]
            found.number(f"change in trust in {source}, step 1 to the end", scenario, change, 3)
            found.readings.append(read_difference(at_scenario(store, scenario),
                                                  f"trust in {source}", "the last step",
                                                  "step 1", change, 3))
        found.readings.append(f"{at_scenario(store, scenario)}: trust at the end: " + "; ".join(
            f"{s} {fmt(levels[f'trust_final_{s}'][scenario].value, 3)} "
            f"({interval(levels[f'trust_final_{s}'][scenario], 3)})" for s in SOURCES)
            + f"; {fmt(levels['exposures'][scenario].value, 0)} sponsored posts found out per "
            "run.")
    # Disclosure matters only where sellers sponsor posts.
    sponsored = runs[runs[PRESET] == SPONSOR] if PRESET in store.keys else runs
    for column in ("trust_final_influencers", "exposures", "credibility_final"):
        label, digits = next((lab, d) for c, lab, d in MEASURES if c == column)
        for where, high, low, diff in key_effects(store, sponsored, column, DISCLOSE):
            found.number(f"{label}: {high} − {low}", where.removeprefix("With "), diff, digits)
            found.readings.append(read_difference(where, label, high, low, diff, digits))
    for source in SOURCES:
        column = f"trust_final_{source}"
        for where, preset, base, diff in key_effects(store, runs, column, PRESET, base=QUIET):
            found.number(f"trust in {source} at the end: {preset} − {base}",
                         where.removeprefix("With "), diff, 3)
            found.readings.append(read_difference(where, f"trust in {source} at the end", preset,
                                                  base, diff, 3))

    steps = store.per_run("SELECT job, step, " + ", ".join(f"trust_{s}" for s in SOURCES)
                          + " FROM steps")
    long = steps.melt(id_vars=["job", "step", "scenario"],
                      value_vars=[f"trust_{s}" for s in SOURCES], var_name="line",
                      value_name="value").assign(line=lambda f: f["line"].str.removeprefix(
                          "trust_"))
    found.figure("q7_trust_time.png", time_figure(
        [(s, long[long["scenario"] == s]) for s in store.scenarios], "mean trust",
        "Trust by source over time (mean over seeds; band: 95% interval of the mean)",
        colors=TRUST_COLORS, cols=2 if len(store.scenarios) % 2 == 0 else 3),
        "Buyers' mean trust in peers, influencers and sellers over time, per scenario")
    found.figure("q7_final.png", measures_figure(
        store, levels, MEASURES,
        "Trust, exposures and credibility at the end (mean over seeds, 95% interval)"),
        "Final trust in each source, undisclosed sponsored posts found out, and influencers' "
        "credibility, per scenario")
    return found


VERDICT = Verdict(
    "sponsorship kept hidden leaves less trust in influencers than sponsorship disclosed",
    runs_column("trust_final_influencers"),
    ("market.p_exposure", "market.exposure_penalty", "sellers.sponsor_overclaim",
     "sellers.disclosure_discount", "market.trust_rate", "market.credibility_loss"),
    arms=("sellers.disclose_sponsorship=true", "sellers.disclose_sponsorship=false"),
    fixed=("sellers=all_sponsor",),
    measure="final trust in influencers, disclosed minus hidden")

STUDY = Study("q7_trust", "Study Q7: trust", analyse, VERDICT)
