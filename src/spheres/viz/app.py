"""The classroom page: a Mesa ``SolaraViz`` app showing one market as it runs.

Served by ``spheres viz`` (``solara run spheres/viz/app.py --production``); each browser session
gets a market of its own. The sidebar holds
Mesa's Reset / Play / Step controls, one slider per setting of
:data:`spheres.viz.classroom.SLIDERS` (a moved slider takes effect at Reset) and the seed field;
the main area shows the headline numbers and the network view, and the live plots.
"""

from __future__ import annotations

from html import escape

import solara
from mesa.visualization import SolaraViz

from spheres.model.model import MarketModel
from spheres.viz.classroom import SLIDERS, ClassroomModel, default_value, model_params
from spheres.viz.panels import (
    flow_kind_legend,
    headline,
    network_png,
    plots_png,
    seller_legend,
    strategy_legend,
)

TITLE = "spheres: a market of talking buyers"


def _dot(color: str, label: str, muted: bool = False) -> str:
    style = "color:#8c8c8c;text-decoration:line-through" if muted else ""
    return (f'<span style="white-space:nowrap;margin-right:10px;{style}">'
            f'<span style="color:{color};font-size:16px">&#9679;</span> {escape(label)}</span>')


def market_view(model: MarketModel) -> None:
    """The headline numbers, the network view and its legend."""
    title, *lines = headline(model)
    refused = getattr(model, "refused", None)
    parts = []
    if refused:
        parts.append(f'<p style="color:#b00020"><b>Refused:</b> {escape(refused)}. '
                     "Showing the classroom defaults instead.</p>")
    parts.append(f"<b>{escape(title)}</b>")
    built = " · ".join(f'<span title="{escape(s.meaning)}">'
                       f"{escape(s.setting)}={default_value(s.setting, model.config)}</span>"
                       for s in SLIDERS)  # hover over a setting to read what it does
    parts.append(f'<div style="color:#666;font-size:11px">built with {built}</div>')
    parts.append("<ul style='margin:2px 0 4px 0'>"
                 + "".join(f"<li>{escape(line)}</li>" for line in lines) + "</ul>")
    with solara.Column(style={"padding": "4px 10px", "font-size": "13px"}, gap="4px"):
        solara.HTML(tag="div", unsafe_innerHTML="".join(parts))
        solara.Image(solara.use_memo(lambda: network_png(model), [model, model.steps]))
        legend = [_dot(color, label, not alive) for label, color, alive in seller_legend(model)]
        legend.append(_dot("#ffffff; -webkit-text-stroke:1.5px black", "influencer (larger)"))
        solara.HTML(tag="div", unsafe_innerHTML="<b>buyers coloured by the seller they "
                    "prefer</b><br>" + " ".join(legend))


def plots_view(model: MarketModel) -> None:
    """The live plots and the strategies' colours."""
    with solara.Column(style={"padding": "4px 10px", "font-size": "13px"}, gap="4px"):
        legend = " ".join(_dot(color, name) for name, color in strategy_legend(model))
        kinds = " ".join(_dot(color, kind) for kind, color in flow_kind_legend())
        solara.HTML(tag="div", unsafe_innerHTML=f"<b>strategies</b> {legend}<br>"
                    f"<b>currency lines by kind</b> {kinds}")
        solara.Image(solara.use_memo(lambda: plots_png(model), [model, model.steps]))


@solara.component
def Page() -> None:
    """The page: Mesa's SolaraViz over a market of this browser session's own."""
    model = solara.use_memo(ClassroomModel, [])
    SolaraViz(model, components=[(market_view, 0), (plots_view, 0)], model_params=model_params(),
              name=TITLE)
