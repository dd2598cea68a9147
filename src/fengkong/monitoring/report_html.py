"""The model report as one self-contained HTML page: tables and inline SVG charts, no script, no CDN.

Charts per model: ROC curve, KS curve (cumulative bad and good shares by score), calibration curve
(reliability diagram), score distributions of goods and bads; then the score and feature PSI bars, the early
indicators, the fairness tables and the model cards. Every chart is drawn here from numbers (at most
``report_chart_points_max`` points a line: curves are thinned evenly, never smoothed), so the page opens
offline and can be archived with the run. Text is escaped by Jinja2's autoescape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from jinja2 import Environment, select_autoescape
from markupsafe import Markup, escape

from fengkong import bounds
from fengkong.monitoring.calibration import CalibrationReport
from fengkong.monitoring.fairness import AttributeFairness
from fengkong.monitoring.indicators import Indicator
from fengkong.monitoring.psi import PSI_SHIFT, PSI_WATCH, Stability

WIDTH: Final = 360
HEIGHT: Final = 260
MARGIN: Final = 40
COLOURS: Final = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#7f7f7f")


@dataclass(frozen=True, slots=True)
class Line:
    name: str
    x: Sequence[float]
    y: Sequence[float]
    dashed: bool = False


def _thin(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> tuple[list[float], list[float]]:
    limit = bounds.report_chart_points_max
    if x.size > limit:
        keep = np.unique(np.linspace(0, x.size - 1, limit).round().astype(np.int64))
        x, y = x[keep], y[keep]
    return x.tolist(), y.tolist()


def roc_points(y: npt.ArrayLike, score: npt.ArrayLike) -> tuple[list[float], list[float]]:
    """(false positive rate, true positive rate) at every distinct threshold, from (0, 0) to (1, 1)."""
    labels = np.asarray(y, dtype=np.float64)
    values = np.asarray(score, dtype=np.float64)
    order = np.argsort(-values, kind="mergesort")
    sorted_values, sorted_labels = values[order], labels[order]
    last = np.r_[sorted_values[1:] != sorted_values[:-1], True]
    tp = np.cumsum(sorted_labels)[last]
    fp = np.cumsum(1.0 - sorted_labels)[last]
    tpr = np.r_[0.0, tp / max(labels.sum(), 1.0)]
    fpr = np.r_[0.0, fp / max((1.0 - labels).sum(), 1.0)]
    return _thin(fpr, tpr)


def ks_points(y: npt.ArrayLike, score: npt.ArrayLike) -> tuple[list[float], list[float], list[float]]:
    """(share of applicants, cumulative bad share, cumulative good share), safest first."""
    labels = np.asarray(y, dtype=np.float64)
    order = np.argsort(np.asarray(score, dtype=np.float64), kind="mergesort")
    sorted_labels = labels[order]
    share = np.arange(1, labels.size + 1) / labels.size
    bad = np.cumsum(sorted_labels) / max(labels.sum(), 1.0)
    good = np.cumsum(1.0 - sorted_labels) / max((1.0 - labels).sum(), 1.0)
    x, b = _thin(share, bad)
    _, g = _thin(share, good)
    return x, b, g


def _scale(value: float, low: float, high: float, size: int, flip: bool) -> float:
    span = high - low if high > low else 1.0
    position = (value - low) / span * (size - 2 * MARGIN)
    return MARGIN + (size - 2 * MARGIN - position if flip else position)


def line_chart(
    title: str,
    lines: Sequence[Line],
    *,
    x_label: str,
    y_label: str,
    x_range: tuple[float, float] = (0.0, 1.0),
    y_range: tuple[float, float] = (0.0, 1.0),
) -> Markup:
    """An SVG line chart with axes, ticks at the range ends and a legend."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<rect x="{MARGIN}" y="{MARGIN}" width="{WIDTH - 2 * MARGIN}" height="{HEIGHT - 2 * MARGIN}" '
        'fill="none" stroke="#999"/>',
        f'<text x="{WIDTH / 2}" y="16" text-anchor="middle" font-size="12">{escape(title)}</text>',
        f'<text x="{WIDTH / 2}" y="{HEIGHT - 6}" text-anchor="middle" font-size="10">'
        f"{escape(x_label)}</text>",
        f'<text x="10" y="{HEIGHT / 2}" font-size="10" transform="rotate(-90 10 {HEIGHT / 2})" '
        f'text-anchor="middle">{escape(y_label)}</text>',
    ]
    for value, anchor in ((x_range[0], "start"), (x_range[1], "end")):
        x = _scale(value, *x_range, WIDTH, False)
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - MARGIN + 12}" font-size="9" '
            f'text-anchor="{anchor}">{value:g}</text>'
        )
    for value in y_range:
        y = _scale(value, *y_range, HEIGHT, True)
        parts.append(
            f'<text x="{MARGIN - 3}" y="{y + 3:.1f}" font-size="9" text-anchor="end">{value:g}</text>'
        )
    for index, line in enumerate(lines):
        colour = COLOURS[index % len(COLOURS)]
        xs = np.asarray(line.x, dtype=np.float64)
        ys = np.asarray(line.y, dtype=np.float64)
        thin_x, thin_y = _thin(xs, ys)
        points = " ".join(
            f"{_scale(x, *x_range, WIDTH, False):.1f},{_scale(y, *y_range, HEIGHT, True):.1f}"
            for x, y in zip(thin_x, thin_y, strict=True)
        )
        dash = ' stroke-dasharray="4 3"' if line.dashed else ""
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5"{dash} points="{points}"/>')
        parts.append(
            f'<text x="{MARGIN + 6}" y="{MARGIN + 14 + 12 * index}" font-size="10" fill="{colour}">'
            f"{escape(line.name)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    reference_lines: Sequence[tuple[str, float]] = (),
) -> Markup:
    """Grouped vertical bars, one group per label, one colour per series; optional horizontal references."""
    values = [float(v) for bars in series.values() for v in bars] + [v for _, v in reference_lines] + [0.0]
    top = max(values) * 1.1 or 1.0
    groups = max(len(labels), 1)
    group_width = (WIDTH - 2 * MARGIN) / groups
    bar_width = group_width * 0.8 / max(len(series), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<text x="{WIDTH / 2}" y="16" text-anchor="middle" font-size="12">{escape(title)}</text>',
        f'<line x1="{MARGIN}" y1="{HEIGHT - MARGIN}" x2="{WIDTH - MARGIN}" '
        f'y2="{HEIGHT - MARGIN}" stroke="#999"/>',
        f'<text x="{MARGIN - 3}" y="{MARGIN + 3}" font-size="9" text-anchor="end">{top:.3g}</text>',
    ]
    for s_index, (name, bars) in enumerate(series.items()):
        colour = COLOURS[s_index % len(COLOURS)]
        for g_index, value in enumerate(bars):
            height = float(value) / top * (HEIGHT - 2 * MARGIN)
            x = MARGIN + g_index * group_width + group_width * 0.1 + s_index * bar_width
            parts.append(
                f'<rect x="{x:.1f}" y="{HEIGHT - MARGIN - height:.1f}" width="{bar_width:.1f}" '
                f'height="{height:.1f}" fill="{colour}"><title>{escape(name)} {value:.4g}</title></rect>'
            )
        parts.append(
            f'<text x="{WIDTH - MARGIN}" y="{MARGIN + 12 * s_index}" font-size="10" fill="{colour}" '
            f'text-anchor="end">{escape(name)}</text>'
        )
    for name, value in reference_lines:
        y = HEIGHT - MARGIN - value / top * (HEIGHT - 2 * MARGIN)
        parts.append(
            f'<line x1="{MARGIN}" y1="{y:.1f}" x2="{WIDTH - MARGIN}" y2="{y:.1f}" stroke="#555" '
            f'stroke-dasharray="4 3"/><text x="{MARGIN + 2}" y="{y - 2:.1f}" font-size="9">'
            f"{escape(name)}</text>"
        )
    if len(labels) <= 12:
        for g_index, label in enumerate(labels):
            x = MARGIN + (g_index + 0.5) * group_width
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - MARGIN + 12}" font-size="8" text-anchor="middle">'
                f"{escape(label[:14])}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def score_distribution(y: npt.ArrayLike, pd_bad: npt.ArrayLike, bins: int = 20) -> Markup:
    """Histogram of the PD (as shares of goods and of bads) on common bins."""
    labels = np.asarray(y, dtype=np.float64)
    values = np.asarray(pd_bad, dtype=np.float64)
    edges = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)))
    index = np.clip(np.searchsorted(edges[1:-1], values, side="right"), 0, max(edges.size - 2, 0))
    slots = max(edges.size - 1, 1)
    goods = np.bincount(index[labels == 0], minlength=slots) / max((labels == 0).sum(), 1)
    bads = np.bincount(index[labels == 1], minlength=slots) / max((labels == 1).sum(), 1)
    names = [f"{edges[i]:.3f}" for i in range(slots)]
    return bar_chart(
        "PD distribution (share per bin)", names, {"goods": goods.tolist(), "bads": bads.tolist()}
    )


@dataclass(frozen=True, slots=True)
class ModelSection:
    """One model's test-set figures for the report."""

    name: str
    description: str
    y: npt.NDArray[np.float64]
    pd_bad: npt.NDArray[np.float64]
    figures: Mapping[str, Any]
    calibration: CalibrationReport

    def charts(self) -> list[Markup]:
        fpr, tpr = roc_points(self.y, self.pd_bad)
        share, bad, good = ks_points(self.y, self.pd_bad)
        top = max(max(self.calibration.predicted, default=0.0), max(self.calibration.observed, default=0.0))
        top = float(min(1.0, max(top * 1.1, 0.01)))
        return [
            line_chart(
                "ROC",
                [Line("model", fpr, tpr), Line("chance", [0.0, 1.0], [0.0, 1.0], dashed=True)],
                x_label="false positive rate",
                y_label="true positive rate",
            ),
            line_chart(
                "KS: cumulative shares, safest first",
                [Line("bads", share, bad), Line("goods", share, good)],
                x_label="share of applicants",
                y_label="cumulative share",
            ),
            line_chart(
                "Calibration",
                [
                    Line("observed", self.calibration.predicted, self.calibration.observed),
                    Line("perfect", [0.0, top], [0.0, top], dashed=True),
                ],
                x_label="mean predicted PD",
                y_label="observed bad rate",
                x_range=(0.0, top),
                y_range=(0.0, top),
            ),
            score_distribution(self.y, self.pd_bad),
        ]


@dataclass(frozen=True, slots=True)
class ReportContent:
    title: str
    summary: Mapping[str, Any]
    models: Sequence[ModelSection]
    score_psi: Sequence[Stability] = ()
    feature_psi: Sequence[Stability] = ()
    indicators: Sequence[Indicator] = ()
    cohort_indicators: Mapping[str, Sequence[Indicator]] = field(default_factory=dict)
    fairness: Sequence[AttributeFairness] = ()
    cards: Mapping[str, str] = field(default_factory=dict)  # name -> card JSON
    notes: Sequence[str] = ()


_TEMPLATE: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ c.title }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}
th{background:#f3f3f3;text-align:left}.alert{color:#b00;font-weight:bold}.ok{color:#080}
.charts svg{margin:4px;border:1px solid #eee}pre{background:#f7f7f7;padding:8px;font-size:11px;overflow:auto}
</style></head><body>
<h1>{{ c.title }}</h1>
{% for note in c.notes %}<p>{{ note }}</p>{% endfor %}
<h2>Summary</h2>
<table>{% for key, value in c.summary.items() %}
<tr><th>{{ key }}</th><td>{{ fmt(value) }}</td></tr>{% endfor %}
</table>
{% for m in c.models %}
<h2>Model: {{ m.name }}</h2><p>{{ m.description }}</p>
<table><tr>{% for key in m.figures %}<th>{{ key }}</th>{% endfor %}</tr>
<tr>{% for value in m.figures.values() %}<td>{{ fmt(value) }}</td>{% endfor %}</tr></table>
<div class="charts">{% for chart in m.charts() %}{{ chart }}{% endfor %}</div>
{% endfor %}
{% if c.score_psi or c.feature_psi %}<h2>Stability (PSI)</h2>
<div class="charts">{{ psi_chart }}</div>
<table><tr><th>variable</th><th>PSI</th><th>level</th></tr>
{% for s in c.score_psi %}
<tr><td>{{ s.name }}</td><td>{{ fmt(s.psi) }}</td><td>{{ s.level }}</td></tr>{% endfor %}
{% for s in c.feature_psi %}
<tr><td>{{ s.name }}</td><td>{{ fmt(s.psi) }}</td><td>{{ s.level }}</td></tr>{% endfor %}
</table>{% endif %}
{% if c.indicators %}<h2>Early indicators</h2>
<table><tr><th>indicator</th><th>value</th><th>rows</th><th>threshold</th><th>status</th></tr>
{% for i in c.indicators %}<tr><td>{{ i.name }}</td><td>{{ fmt(i.value) }}</td><td>{{ i.rows }}</td>
<td>{{ i.threshold }}</td><td class="{{ 'alert' if i.status == 'alert' else 'ok' }}">{{ i.status }}</td></tr>
{% endfor %}</table>
{% if c.cohort_indicators %}<table><tr><th>cohort</th>
{% for i in c.cohort_indicators.values()|first %}<th>{{ i.name }}</th>{% endfor %}</tr>
{% for cohort, items in c.cohort_indicators.items() %}<tr><td>{{ cohort }}</td>
{% for i in items %}<td class="{{ 'alert' if i.status == 'alert' else '' }}">
{{ fmt(i.value) }} ({{ i.rows }})</td>
{% endfor %}</tr>{% endfor %}</table>{% endif %}{% endif %}
{% if c.fairness %}<h2>Fairness at equal risk band</h2>
{% for a in c.fairness %}<h3>{{ a.attribute }}</h3>
{% if not a.recorded %}<p>Not recorded in the data: no figure is reported.</p>{% else %}
<table><tr><th>group</th><th>applicants</th><th>approval ratio (band-weighted)</th><th>price gap</th>
<th>below four-fifths</th></tr>
{% for g in a.groups %}<tr><td>{{ g.group }}</td><td>{{ g.applicants }}</td>
<td>{{ fmt(g.approval_ratio) }}</td>
<td>{{ fmt(g.price_gap) }}</td>
<td class="{{ 'alert' if g.flagged else '' }}">{{ 'yes' if g.flagged else 'no' }}</td>
</tr>{% endfor %}</table>{% endif %}{% endfor %}{% endif %}
{% if c.cards %}<h2>Model cards</h2>{% for name, card in c.cards.items() %}<h3>{{ name }}</h3>
<pre>{{ card }}</pre>{% endfor %}{% endif %}
</body></html>
"""


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1_000 else f"{value:,.0f}"
    return str(value)


def render_report(content: ReportContent) -> str:
    """The HTML page of ``content``."""
    environment = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    template = environment.from_string(_TEMPLATE)
    stabilities = [*content.score_psi, *content.feature_psi[:10]]
    psi_chart = (
        bar_chart(
            "PSI: score and the most shifted features",
            [item.name.removeprefix("consumer_") for item in stabilities],
            {"PSI": [item.psi for item in stabilities]},
            reference_lines=[("watch", PSI_WATCH), ("shift", PSI_SHIFT)],
        )
        if stabilities
        else Markup("")
    )
    return template.render(c=content, fmt=_fmt, psi_chart=psi_chart)
