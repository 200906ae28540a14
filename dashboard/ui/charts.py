"""Plotly figures, all built on plotly.graph_objects: the power map, the fishbone, the
key-action heatmap and simple bars, lines, dots and matrices. Presentation only: every number
comes from the warehouse.

Plotly renders a few HTML tags in its text (<b>, <br>, <a href>), so every text drawn from
the data (names, categories, legend entries, hover texts, titles given to the helpers) goes
through fmt.chart_text here; callers pass data values as they are."""

from __future__ import annotations

import datetime as dt
import math

import plotly.graph_objects as go
import polars as pl

from rapport.serving.queries import DECISION_ROLES, EVALUATION_GROUPS

from .fmt import ATTITUDE_LABELS, COLUMN_KINDS, ROLE_LABELS, chart_text, code_label, label

ATTITUDE_COLOURS = {-1: "#c62828", 0: "#9e9e9e", 1: "#9ccc65", 2: "#43a047", 3: "#1b5e20"}
TIER_COLOURS = {"S": "#1b5e20", "A": "#43a047", "B": "#fbc02d", "C": "#9e9e9e"}
BAND_COLOURS = {"strong": "#2e7d32", "developing": "#f9a825", "weak": "#c62828"}
# Health and its three parts: four hues that no band uses (red / amber / green mean the
# bands), health drawn darkest and thickest on top. The same colours on the table's bars.
PART_COLOURS = {"Health": "#212121", "Key": "#1e88e5", "General": "#8e24aa", "Org": "#00897b"}
MARKET_COLOURS = {"mature": "#1565c0", "new": "#43a047", "saline_alkali": "#fb8c00"}
STATUS_COLOURS = {"pass": "#43a047", "warn": "#fbc02d", "fail": "#c62828", "error": "#6a1b9a",
                  "not_applicable": "#9e9e9e"}
# Build outcomes (meta.build_history.status and the build records): published green,
# refused red, anything else grey.
BUILD_COLOURS = {"passed": "#43a047", "rolled_back": "#81c784", "running": "#9e9e9e"}
REFUSED_COLOUR = "#c62828"
# tier change of an account against the quarter before (fct_account_tiers.tier_change)
CHANGE_COLOURS = {"up": "#2e7d32", "down": "#c62828", "same": "#9e9e9e", "new": "#1e88e5"}
NO_ROLE = "-"


# Attitude on the org chart's boxes: a diverging scale from opposes (red) to coach (dark
# green), with a dark or white text that stays readable on each fill. Not assessed: white
# with a dashed border; a role nobody holds: an amber dashed slot.
BOX_FILLS = {-1: "#c62828", 0: "#e0e0e0", 1: "#c5e1a5", 2: "#66bb6a", 3: "#1b5e20"}
BOX_TEXT = {-1: "white", 0: "#212121", 1: "#212121", 2: "#212121", 3: "white"}
NOT_ASSESSED_FILL, NOT_ASSESSED_LINE = "#ffffff", "#616161"
SLOT_FILL, SLOT_LINE = "#fff8e1", "#ef6c00"
COACH_MARK = "★"
LINE_COLOUR = "#757575"
ORG_ROW_PX = 88  # pixels per row of boxes
BOX_W, BOX_H = 0.9, 0.72  # a box, in columns and rows


def _short(value: object, limit: int) -> str:
    """A data value cut to `limit` characters (an ellipsis marks the cut), then made safe
    for Plotly text."""
    text = "" if value is None else str(value)
    return chart_text(text if len(text) <= limit else text[:limit - 1] + "…")


def _bool(row: dict, column: str) -> bool:
    return bool(row.get(column))


def _legend_square(fig: go.Figure, name: str, fill: str, line: str, *,
                   symbol: str = "square") -> None:
    """A legend entry only (no point drawn)."""
    fig.add_trace(go.Scatter(
        x=[None], y=[None], mode="markers", name=name, hoverinfo="skip",
        marker={"symbol": symbol, "size": 14, "color": fill,
                "line": {"color": line, "width": 2}}))


def org_chart_figure(pm: pl.DataFrame, chart, gap_labels: dict[str, str] | None = None
                     ) -> go.Figure:
    """The power map as an organisation chart. `pm`: the map's rows (power_map query: names
    already masked for viewers without personal data); `chart`: its ui.orgchart.Layout;
    `gap_labels`: role -> the empty slot's title ("No approver yet").

    A box per contact: name, title, role; fill = attitude (BOX_FILLS; not assessed white
    with a dashed border); border weight = influence (the role's weight); a star = coach;
    a note above a box that has no line (manager not on the map, loop broken). Lines are the
    reporting lines (manager above); a framed team is a manager's reports wrapped in a grid.
    Empty amber slots on top: roles nobody holds."""
    rows = {r["contact_id"]: r for r in pm.iter_rows(named=True)}
    gap_labels = gap_labels or {}
    fig = go.Figure()
    # shapes and annotations collected as dicts and set once (one call per box was slow:
    # 200 boxes took seconds)
    shapes: list[dict] = []
    notes: list[dict] = []
    half_w, half_h = BOX_W / 2, BOX_H / 2
    line_x: list[float | None] = []
    line_y: list[float | None] = []

    def connect(x0: float, y0: float, x1: float, y1: float) -> None:
        mid = (y0 + half_h + y1) / 2  # the bus between the manager's row and the reports'
        line_x.extend([x0, x0, x1, x1, None])
        line_y.extend([y0 + half_h, mid, mid, y1, None])

    for team in chart.teams:
        shapes.append({"type": "rect", "x0": team.x0 + 0.03, "x1": team.x1 - 0.03,
                       "y0": team.y0 - half_h - 0.08, "y1": team.y1 + half_h + 0.08,
                       "layer": "below", "fillcolor": "#f5f5f5",
                       "line": {"color": "#bdbdbd", "width": 1, "dash": "dot"}})
        boss = chart.boxes[team.parent]
        connect(boss.x, boss.y, (team.x0 + team.x1) / 2, team.y0 - half_h - 0.08)
    for manager, report in chart.edges:
        a, b = chart.boxes[manager], chart.boxes[report]
        connect(a.x, a.y, b.x, b.y - half_h)
    if line_x:
        fig.add_trace(go.Scatter(x=line_x, y=line_y, mode="lines", hoverinfo="skip",
                                 showlegend=False, line={"color": LINE_COLOUR, "width": 1.2}))

    # the text fits the box: fewer characters and a smaller font when many boxes stand
    # side by side (about 840 pixels across at 1280 with the sidebar open)
    width = max(chart.width, 6.0)
    limit = max(9, min(22, int(112 / width)))
    size = 11 if width <= 7 else 10 if width <= 10 else 9
    text_x, text_y, texts, colours, hovers = [], [], [], [], []
    for box in chart.boxes.values():
        r = rows[box.id]
        attitude = r.get("current_attitude")
        assessed = attitude is not None
        weight = r.get("influence_weight")
        shapes.append({
            "type": "rect", "x0": box.x - half_w, "x1": box.x + half_w,
            "y0": box.y - half_h, "y1": box.y + half_h, "layer": "below",
            "fillcolor": BOX_FILLS.get(attitude, NOT_ASSESSED_FILL) if assessed
            else NOT_ASSESSED_FILL,
            "line": {"color": "#212121" if assessed else NOT_ASSESSED_LINE,
                     "width": 1 + 3 * (weight or 0), "dash": "solid" if assessed else "dash"}})
        role = ROLE_LABELS.get(r.get("decision_role"), "no role")
        # 'S decision supporter' in a narrow box: 'S supporter'
        role_text = role if len(role) <= limit else f"{role.split()[0]} {role.split()[-1]}"
        stance = ATTITUDE_LABELS.get(attitude, "not assessed") if assessed else "not assessed"
        texts.append(f"<b>{_short(r.get('contact_name') or 'unnamed', limit)}</b><br>"
                     f"{_short(r.get('title'), limit)}<br>{_short(role_text, limit)}")
        colours.append(BOX_TEXT.get(attitude, "#212121") if assessed else "#212121")
        text_x.append(box.x)
        text_y.append(box.y)
        hovers.append(
            f"<b>{chart_text(r.get('contact_name') or 'unnamed')}</b><br>"
            f"{chart_text(r.get('title'))}<br>Role: {chart_text(role)}"
            f"<br>Attitude: {chart_text(stance)}"
            f"<br>Influence: {(weight or 0):.1f} · intimacy: {(r.get('intimacy') or 0):.2f}"
            + (f"<br>{chart_text(box.note)}" if box.note else ""))
        if _bool(r, "is_coach"):
            notes.append({"x": box.x + half_w - 0.02, "y": box.y - half_h + 0.02,
                          "text": COACH_MARK, "showarrow": False, "xanchor": "right",
                          "yanchor": "top", "font": {"size": 15, "color": "#f9a825"}})
        if box.note:
            notes.append({"x": box.x - half_w, "y": box.y - half_h,
                          "text": f"⚠ {_short(box.note, 40)}", "showarrow": False,
                          "xanchor": "left", "yanchor": "bottom",
                          "font": {"size": 9, "color": "#e65100"}})
    for slot in chart.slots:
        shapes.append({"type": "rect", "x0": slot.x - half_w, "x1": slot.x + half_w,
                       "y0": slot.y - half_h, "y1": slot.y + half_h, "layer": "below",
                       "fillcolor": SLOT_FILL,
                       "line": {"color": SLOT_LINE, "width": 1.5, "dash": "dash"}})
        title = gap_labels.get(slot.role) or f"No {ROLE_LABELS.get(slot.role, slot.role)} yet"
        text_x.append(slot.x)
        text_y.append(slot.y)
        texts.append(f"<b>{_short(title, limit)}</b><br>"
                     f"{_short(ROLE_LABELS.get(slot.role), limit)}<br><i>nobody holds it</i>")
        colours.append("#e65100")
        hovers.append(f"{chart_text(title)}: nobody on the map holds this role "
                      "(see the next moves below the chart)")
    fig.add_trace(go.Scatter(
        x=text_x, y=text_y, mode="text", text=texts, hovertext=hovers, hoverinfo="text",
        textfont={"size": size, "color": colours}, showlegend=False))
    for attitude, fill in BOX_FILLS.items():  # legend only
        _legend_square(fig, ATTITUDE_LABELS[attitude], fill, "#212121")
    _legend_square(fig, "not assessed (dashed)", NOT_ASSESSED_FILL, NOT_ASSESSED_LINE)
    _legend_square(fig, "role nobody holds (amber, dashed)", SLOT_FILL, SLOT_LINE)
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=f"{COACH_MARK} coach",
                             hoverinfo="skip", marker={"symbol": "star", "size": 14,
                                                       "color": "#f9a825"}))
    # a small map keeps the boxes of a 6-column page and sits in the middle
    span = max(width, 6.0)
    left = (chart.width - span) / 2 if chart.width < span else 0.0
    fig.update_xaxes(visible=False, range=[left - 0.05, left + span + 0.05], fixedrange=True)
    fig.update_yaxes(visible=False, range=[chart.bottom + 0.6, chart.top - 0.6],
                     fixedrange=True)
    fig.update_layout(  # no title: the legend takes the top (the page's caption explains)
        shapes=shapes, annotations=notes,
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0,
                "font": {"size": 11}},
        plot_bgcolor="white", dragmode=False)
    return fig


def org_chart_height(chart) -> int:
    """The figure's height in pixels for a layout: ORG_ROW_PX per row, plus title and legend."""
    return int(max(chart.rows, 2) * ORG_ROW_PX + 60)


# the scatter: attitude rows, not assessed in a row of its own below "opposes"
NOT_ASSESSED_Y = -2


def _stack(df: pl.DataFrame, by: list[str]) -> tuple[pl.Series, pl.Series]:
    """Offsets (x, y) that stack the points sharing a cell one above the other within the
    attitude's band (names sit to the right of each marker); more than 4 in a cell: two
    columns."""
    placed = df.select(
        pl.int_range(pl.len()).over(by).alias("rank"), pl.len().over(by).alias("size"))
    xs, ys = [], []
    for k, n in zip(placed["rank"].to_list(), placed["size"].to_list(), strict=True):
        cols = 1 if n <= 4 else 2
        per_col = math.ceil(n / cols)
        col, row = divmod(k, per_col)
        step = min(0.3, 0.84 / max(per_col - 1, 1))
        xs.append(-0.3 if cols == 1 else (-0.42 + 0.5 * col))
        ys.append(((per_col - 1) / 2 - row) * step)
    return pl.Series(xs), pl.Series(ys)


def _letter_colour(value: float, colour_by: str) -> str:
    """Dark letters on pale markers, white on dark ones."""
    if colour_by == "recency":
        return "white" if value < 30 or value > 150 else "#212121"
    return "white" if value > 0.6 else "#212121"


def power_map_figure(pm: pl.DataFrame, colour_by: str) -> go.Figure:
    """Contacts by decision role (x) and attitude (y; never assessed in a row of its own);
    size = influence; colour = intimacy (0-1) or recency (days since the last touch); the
    role letter on the marker, the name beside it, a star for a coach; columns of roles
    nobody holds are shaded amber."""
    roles = [*DECISION_ROLES, NO_ROLE]
    data = pm.with_columns(
        pl.col("decision_role").fill_null(NO_ROLE).alias("role"),
        pl.col("current_attitude").fill_null(NOT_ASSESSED_Y).alias("attitude"),
        pl.col("current_attitude").is_null().alias("not_assessed"),
        pl.col("influence_weight").fill_null(0.2).alias("influence"),
    )
    data = data.with_columns(
        pl.col("role").replace_strict({r: i for i, r in enumerate(roles)},
                                      return_dtype=pl.Float64).alias("x_base"),
    )
    dx, dy = _stack(data, ["role", "attitude"])
    data = data.with_columns((pl.col("x_base") + dx).alias("x"),
                             (pl.col("attitude").cast(pl.Float64) + dy).alias("y"))
    if colour_by == "recency":
        colour = data["days_since_last_touch"].fill_null(999).clip(0, 365).to_list()
        colour_bar = {"title": "Days since<br>last touch", "x": 1.0, "len": 0.6}
        scale, cmin, cmax = "RdYlGn_r", 0, 180
    else:
        colour = data["intimacy"].fill_null(0).to_list()
        colour_bar = {"title": "Intimacy", "x": 1.0, "len": 0.6}
        scale, cmin, cmax = "Blues", 0, 1
    coach = (data["is_coach"].fill_null(False).to_list() if "is_coach" in data.columns
             else [False] * data.height)
    hover = [
        f"<b>{chart_text(r['contact_name'] or 'unnamed')}</b><br>{chart_text(r['title'])}"
        f"<br>Role: {ROLE_LABELS.get(r['decision_role'], 'none')}"
        f"<br>Attitude: {'not assessed' if r['not_assessed'] else ATTITUDE_LABELS.get(r['attitude'])}"
        f"<br>Influence: {r['influence']:.1f} · intimacy: {(r['intimacy'] or 0):.2f}"
        f"<br>Last touch: {r['last_touch_date'] or 'never'}"
        + (f" ({r['days_since_last_touch']} days)" if r["days_since_last_touch"] is not None
           else "")
        for r in data.iter_rows(named=True)
    ]
    fig = go.Figure()
    present = set(data["role"].to_list())
    for i, role in enumerate(DECISION_ROLES):  # roles nobody holds
        if role not in present:
            fig.add_vrect(x0=i - 0.45, x1=i + 0.45, fillcolor=SLOT_FILL, layer="below",
                          line={"color": SLOT_LINE, "dash": "dash", "width": 1})
            fig.add_annotation(x=i, y=1, text="nobody<br>holds it", showarrow=False,
                               font={"size": 10, "color": "#e65100"})
    fig.add_trace(go.Scatter(
        x=data["x"].to_list(), y=data["y"].to_list(), mode="markers+text",
        text=[chart_text(r or NO_ROLE) for r in data["decision_role"].to_list()],
        textposition="middle center",
        textfont={"size": 10, "color": [_letter_colour(v, colour_by) for v in colour]},
        hovertext=hover, hoverinfo="text", showlegend=False,
        marker={
            "size": [11 + 10 * w for w in data["influence"].to_list()],
            "color": colour, "colorscale": scale, "cmin": cmin, "cmax": cmax,
            "colorbar": colour_bar, "showscale": True,
            "line": {"width": 1, "color": "#424242"},
        },
    ))
    fig.add_trace(go.Scatter(  # the names beside the markers
        x=[x + 0.14 for x in data["x"].to_list()], y=data["y"].to_list(), mode="text",
        text=[(f"{COACH_MARK} " if c else "") + _short(n or "unnamed", 14)
              for n, c in zip(data["contact_name"].to_list(), coach, strict=True)],
        textposition="middle right", textfont={"size": 10, "color": "#212121"},
        hoverinfo="skip", showlegend=False))
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=f"{COACH_MARK} coach",
                             hoverinfo="skip", marker={"symbol": "star", "size": 12,
                                                       "color": "#f9a825"}))
    _legend_square(fig, "not assessed (bottom row)", "#f5f5f5", NOT_ASSESSED_LINE,
                   symbol="circle")
    _legend_square(fig, "role nobody holds", SLOT_FILL, SLOT_LINE)
    fig.update_xaxes(
        tickvals=list(range(len(roles))),
        ticktext=[ROLE_LABELS.get(r, "no role") for r in roles],
        range=[-0.6, len(roles) - 0.4], title="Decision role",
    )
    fig.update_yaxes(
        tickvals=[NOT_ASSESSED_Y, *ATTITUDE_LABELS],
        ticktext=["not assessed", *ATTITUDE_LABELS.values()],
        range=[NOT_ASSESSED_Y - 0.6, 3.6], title="Attitude toward us", zeroline=False,
    )
    fig.add_hrect(y0=NOT_ASSESSED_Y - 0.5, y1=NOT_ASSESSED_Y + 0.5, fillcolor="#f5f5f5",
                  line_width=0, layer="below")
    fig.add_hrect(y0=-1.5, y1=-0.5, fillcolor="#ffebee", line_width=0, layer="below")
    fig.add_hrect(y0=2.5, y1=3.5, fillcolor="#e8f5e9", line_width=0, layer="below")
    fig.update_layout(title="Power map: role against attitude (size = influence)",
                      legend={"orientation": "h", "y": -0.18, "x": 0})
    return fig


def fishbone_figure(pm: pl.DataFrame) -> go.Figure:
    """The fishbone: one bone per evaluation group; nearer the spine = more influence."""
    bones = {  # group -> (x where the bone meets the spine, +1 above / -1 below)
        "commercial": (3.0, 1), "technical": (3.0, -1),
        "selection_decision": (7.0, 1), "final_decision": (7.0, -1),
    }
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 10], y=[0, 0], mode="lines", hoverinfo="skip",
                             line={"color": "#424242", "width": 4}, showlegend=False))
    fig.add_annotation(x=10.2, y=0, text="<b>Decision</b>", showarrow=False, xanchor="left")
    for group in EVALUATION_GROUPS:
        x0, side = bones[group]
        fig.add_trace(go.Scatter(x=[x0, x0 - 2.1], y=[0, 4.2 * side], mode="lines",
                                 hoverinfo="skip", line={"color": "#9e9e9e", "width": 2},
                                 showlegend=False))
        fig.add_annotation(x=x0 - 2.1, y=4.5 * side, text=f"<b>{label(group)}</b>",
                           showarrow=False)
        members = pm.filter(pl.col("evaluation_group") == group).sort(
            "influence_weight", "contact_name", descending=[True, False], nulls_last=True)
        for rank, r in enumerate(members.iter_rows(named=True)):
            influence = r["influence_weight"] or 0.2
            d = 0.45 + 0.5 * rank  # the most influential nearest the spine
            attitude = r["current_attitude"]
            fig.add_trace(go.Scatter(
                x=[x0 - 0.5 * d], y=[d * side], mode="markers+text",
                text=[chart_text(f"{r['decision_role'] or NO_ROLE} {r['contact_name'] or ''}")],
                textposition="middle right", showlegend=False,
                marker={"size": 10 + 14 * influence,
                        "color": ATTITUDE_COLOURS.get(attitude, "#bdbdbd"),
                        "line": {"width": 1, "color": "#424242"}},
                hovertext=(f"{chart_text(r['contact_name'])}<br>{chart_text(r['title'])}<br>"
                           f"{ROLE_LABELS.get(r['decision_role'], 'no role')} (influence "
                           f"{influence:.1f})<br>Attitude: "
                           f"{ATTITUDE_LABELS.get(attitude, 'not assessed')}"),
                hoverinfo="text",
            ))
    for attitude, colour in ATTITUDE_COLOURS.items():  # legend only
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=ATTITUDE_LABELS[attitude],
                                 marker={"size": 10, "color": colour}))
    fig.update_xaxes(visible=False, range=[-0.5, 11.5])
    fig.update_yaxes(visible=False, range=[-4.9, 4.9])
    fig.update_layout(title="Fishbone by evaluation group (nearer the spine = more influence)",
                      legend={"orientation": "h", "y": -0.05})
    return fig


def key_action_heatmap(cells: pl.DataFrame, action_names: dict[int, str], *,
                       short_names: dict[int, str] | None = None,
                       row_labels: dict[str, str] | None = None,
                       dimension2: dict[str, float | None] | None = None) -> go.Figure:
    """Reps (rows) x the nine key actions (columns), 0-100%.

    Columns are labelled with `short_names` (the action's full name when none is given),
    the full name on hover. A cell that is not scored is grey, says "not scored" and gives
    the reason on hover; a scored one gives numerator / denominator. Rows are keyed by
    rep_id when the cells have it (rep_name otherwise), in the order of `row_labels` (key ->
    the label shown; the order of the cells without it). With `dimension2` (key -> 0-100) a
    last column shows each rep's dimension 2, the mean of the actions scored."""
    key = "rep_id" if "rep_id" in cells.columns else "rep_name"
    reps = list(row_labels) if row_labels else cells[key].unique(maintain_order=True).to_list()
    labels = row_labels or {r: str(r) for r in reps}
    names = (dict(cells.select("rep_id", "rep_name").unique(subset="rep_id", keep="first")
                  .iter_rows()) if key == "rep_id" else {})
    actions = sorted(action_names)
    short = short_names or {}

    def column(n: int) -> str:
        """'8 Complaints<br>closed': the number and the short name, wrapped at about 12
        characters a line (a column is narrow)."""
        lines = [str(n)]
        for word in (short.get(n) or action_names[n]).split():
            if len(lines[-1]) + 1 + len(word) > 12 and lines[-1] != str(n):
                lines.append(word)
            else:
                lines[-1] += " " + word
        return "<br>".join(chart_text(line) for line in lines)

    xs = [column(n) for n in actions]
    lookup = {(r[key], r["action_no"]): r for r in cells.iter_rows(named=True)}
    z, text, hover, grey, grey_hover = [], [], [], [], []
    for rep in reps:
        z_row, t_row, h_row, g_row, gh_row = [], [], [], [], []
        who = chart_text(names.get(rep, labels.get(rep, rep)))
        for n in actions:
            r = lookup.get((rep, n))
            score = None if r is None or r["score"] is None else 100 * r["score"]
            head = f"{who}<br>{n}. {chart_text(action_names[n])}"
            z_row.append(math.nan if score is None else score)
            t_row.append("" if score is None else f"{score:.0f}%")
            h_row.append("" if score is None else
                         f"{head}<br>{r['numerator']:g} / {r['denominator']:g} = {score:.0f}%")
            g_row.append(math.nan if score is not None else 0)
            gh_row.append("" if score is not None else f"{head}<br>not scored: " + (
                "no cell for this rep" if r is None
                else chart_text(r["not_scored_reason"] or "no denominator")))
        if dimension2 is not None:
            d2 = dimension2.get(rep)
            z_row.append(math.nan if d2 is None else d2)
            t_row.append("" if d2 is None else f"{d2:.0f}")
            h_row.append("" if d2 is None else
                         f"{who}<br>dimension 2 = 100 x mean of the actions scored = {d2:.1f}")
            g_row.append(math.nan if d2 is not None else 0)
            gh_row.append("" if d2 is not None else
                          f"{who}<br>dimension 2 not scored: no action could be scored")
        z.append(z_row)
        text.append(t_row)
        hover.append(h_row)
        grey.append(g_row)
        grey_hover.append(gh_row)
    if dimension2 is not None:
        xs.append("Dim 2<br>(mean)")
    ys = [chart_text(labels.get(r, r)) for r in reps]
    fig = go.Figure()
    fig.add_trace(go.Heatmap(  # not scored: grey, under the scores
        z=grey, x=xs, y=ys, zmin=0, zmax=1, colorscale=[[0, "#e6e6e6"], [1, "#e6e6e6"]],
        showscale=False, text=[["not<br>scored" if not math.isnan(v) else "" for v in row]
                               for row in grey],
        texttemplate="%{text}", textfont={"color": "#757575", "size": 10},
        hovertext=grey_hover, hoverinfo="text", hoverongaps=False, xgap=2, ygap=2,
    ))
    fig.add_trace(go.Heatmap(
        z=z, x=xs, y=ys, zmin=0, zmax=100, colorscale="RdYlGn", text=text,
        texttemplate="%{text}", hovertext=hover, hoverinfo="text", hoverongaps=False,
        colorbar={"title": "Score %", "thickness": 12}, xgap=2, ygap=2,
    ))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", tickfont={"size": 10}, tickangle=0)
    if dimension2 is not None:  # a gap between the actions and their mean
        fig.add_vline(x=len(actions) - 0.5, line_width=6, line_color="white")
    fig.update_layout(title="Nine key actions, 0-100% (grey = not scored; hover for the "
                            "numerator / denominator or the reason)")
    return fig


# -- Simple charts on plotly.graph_objects ------------------------------------------------
# plotly.express costs 50-300 ms per figure (and over a second for its first one); these
# helpers build the same bar / line / dot charts from graph_objects in a few milliseconds.

_PALETTE = ["#1565c0", "#90caf9", "#e53935", "#ffab91", "#2e7d32", "#a5d6a7", "#6a1b9a",
            "#fbc02d", "#00838f", "#8d6e63"]


def _groups(df: pl.DataFrame, color: str | None,
            order: list | None) -> list[tuple[object, pl.DataFrame]]:
    if color is None:
        return [(None, df)]
    present = df[color].unique(maintain_order=True).to_list()
    keys = [k for k in (order or []) if k in present] + [k for k in present
                                                          if k not in (order or [])]
    return [(k, df.filter(pl.col(color) == k) if k is not None
             else df.filter(pl.col(color).is_null())) for k in keys]


def _colour(key: object, i: int, colours: dict | None) -> str:
    return (colours or {}).get(key, _PALETTE[i % len(_PALETTE)])


def _layout(fig: go.Figure, title: str, x_title: str, y_title: str,
            legend_title: str | None) -> go.Figure:
    fig.update_layout(title=chart_text(title), xaxis_title=chart_text(x_title),
                      yaxis_title=chart_text(y_title),
                      legend_title_text=None if legend_title is None
                      else chart_text(legend_title))
    return fig


def _texts(values: list) -> list:
    """Text values of a category axis or marks escaped for Plotly; numbers, dates and
    missing values as they are."""
    return [chart_text(v) if isinstance(v, str) else v for v in values]


def bars(df: pl.DataFrame, x: str, y: str, *, color: str | None = None,
         order: list | None = None, colours: dict | None = None, text: bool = False,
         horizontal: bool = False, barmode: str = "stack", title: str = "",
         x_title: str = "", y_title: str = "", legend_title: str | None = None,
         x_order: list | None = None, kinds: dict[str, str] | None = None,
         text_format: str = "{:,.0f}", min_text: float | None = None) -> go.Figure:
    """Bars of y by x, one trace per value of `color` (stacked or grouped).

    Codes are drawn as their labels (fmt.code_label): the categories of `x` and the legend
    entries of `color` when the column is one of fmt.COLUMN_KINDS, or named in `kinds`
    (column -> kind); `order`, `x_order` and `colours` stay keyed by the codes.

    With text, each bar's value is written inside it (`text_format`); where a bar is one
    value only (no `color`, or `color` is `x`) a value too long for its bar goes above it
    instead of being hidden (the 15 accounts of tier S at demo scale). In a stack every
    segment is labelled, a small one in smaller type rather than not at all; with
    `min_text`, values below it are left unlabelled (a 1% share has no room for '1.0%':
    hover and the table give it)."""
    fig = go.Figure()
    one_per_bar = color is None or color == x
    x_kind, c_kind = _kind(x, kinds), _kind(color, kinds)
    for i, (key, part) in enumerate(_groups(df, color, order)):
        xs = _texts(_labelled(part[x].to_list(), x_kind))
        values = part[y].to_list()
        fig.add_trace(go.Bar(
            x=values if horizontal else xs, y=xs if horizontal else values,
            orientation="h" if horizontal else "v",
            name=chart_text(_labelled([key], c_kind)[0] if key is not None else y_title),
            marker_color=_colour(key, i, colours),
            text=[("" if min_text is not None and v < min_text else text_format.format(v))
                  if isinstance(v, int | float) else v for v in values] if text else None,
            textposition=("auto" if one_per_bar else "inside") if text else None,
            insidetextanchor="middle", textangle=0, cliponaxis=False,
        ))
    # one bar per x: overlay, because a stack lays every value inside its bar
    fig.update_layout(barmode="overlay" if one_per_bar else barmode,
                      showlegend=color is not None,
                      uniformtext=None if one_per_bar else {"minsize": 8, "mode": "show"})
    if x_order is None and df.schema[x] == pl.String:
        x_order = df[x].unique(maintain_order=True).to_list()  # as the rows come
    if x_order:
        axis = fig.update_yaxes if horizontal else fig.update_xaxes
        axis(categoryorder="array", categoryarray=_texts(_labelled(list(x_order), x_kind)))
    return _layout(fig, title, x_title, y_title, legend_title)


def legend_below(fig: go.Figure) -> go.Figure:
    """The legend in one row under the chart, in trace order (S, A, B, C): a narrow chart
    keeps its full width for the bars."""
    fig.update_layout(legend={"orientation": "h", "x": 0, "y": -0.22, "yanchor": "top",
                              "traceorder": "normal"})
    return fig


def _kind(column: str | None, kinds: dict[str, str] | None) -> str | None:
    if column is None:
        return None
    return (kinds or {}).get(column) or COLUMN_KINDS.get(column)


def _labelled(values: list, kind: str | None) -> list:
    """Codes of a kind as their labels (other values as they are)."""
    if kind is None:
        return values
    return [code_label(kind, v) if isinstance(v, str) else v for v in values]


def integer_axis(fig: go.Figure, values, *, axis: str = "y") -> go.Figure:
    """A count axis without half rows: whole-number ticks (one per unit up to ten)."""
    top = max([v for v in values if v is not None] or [0])
    update = fig.update_yaxes if axis == "y" else fig.update_xaxes
    update(tickformat=",d", rangemode="tozero", dtick=1 if top <= 10 else None)
    return fig


def lines(df: pl.DataFrame, x: str, y: str, *, color: str, order: list | None = None,
          colours: dict | None = None, title: str = "", x_title: str = "",
          y_title: str = "", legend_title: str | None = None,
          emphasis: str | None = None) -> go.Figure:
    """One line with markers per value of `color`; the `emphasis` line is thicker and drawn
    on top (health over its parts), the others thinner with small markers."""
    fig = go.Figure()
    groups = list(enumerate(_groups(df, color, order)))
    groups.sort(key=lambda item: item[1][0] == emphasis)  # the emphasised one last (on top)
    for i, (key, part) in groups:
        strong = emphasis is not None and key == emphasis
        fig.add_trace(go.Scatter(
            x=_texts(part[x].to_list()), y=part[y].to_list(), mode="lines+markers",
            name=chart_text(_labelled([key], _kind(color, None))[0]),
            line={"color": _colour(key, i, colours),
                  "width": 4 if strong else 2},
            marker={"size": 7 if strong else 4 if emphasis else 6},
            legendrank=1 if strong else 10 + i))
    return _layout(fig, title, x_title, y_title, legend_title)


WARM_UP_NOTE = ("Warm-up: a trailing window of these months reaches back before the first "
                "data, so their scores see less history than later months (the 24-month org "
                "window is the longest)")


def mark_warm_up(fig: go.Figure, frame: pl.DataFrame, x: str,
                 flag: str = "window_complete") -> go.Figure:
    """Shade the months whose windows are not complete (`flag` false) on a chart over `x`
    (dates), labelled "warm-up" with the reason on hover. A frame without the flag (an
    older warehouse) or with every window complete is left as it is."""
    if flag not in frame.columns or x not in frame.columns:
        return fig
    warm = frame.filter(pl.col(flag).not_())[x].drop_nulls()
    if warm.is_empty():
        return fig
    half = dt.timedelta(days=15)
    x0, x1 = warm.min() - half, warm.max() + half
    fig.add_vrect(x0=x0, x1=x1, fillcolor="#9e9e9e", opacity=0.18, layer="below",
                  line_width=0, annotation_text="warm-up", annotation_position="top left",
                  annotation_font={"size": 11, "color": "#555555"})
    # an invisible trace carries the reason on hover (shapes have no hover text)
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers",
                             hoverinfo="skip", showlegend=True, name="warm-up months",
                             marker={"symbol": "square", "size": 12, "color": "#9e9e9e",
                                     "opacity": 0.4}))
    return fig


def dots(df: pl.DataFrame, x: str, y: str, *, color: str | None = None,
         hover: list[str] = (), colours: dict | None = None, title: str = "",
         x_title: str = "", y_title: str = "", legend_title: str | None = None) -> go.Figure:
    """A scatter of y by x, one colour per value of `color`, hover showing `hover`."""
    fig = go.Figure()
    for i, (key, part) in enumerate(_groups(df, color, None)):
        texts = ["<br>".join(f"{chart_text(h)}: {chart_text(r[h])}" for h in hover)
                 for r in part.iter_rows(named=True)]
        fig.add_trace(go.Scatter(x=part[x].to_list(), y=part[y].to_list(), mode="markers",
                                 name=chart_text(_labelled([key], _kind(color, None))[0]),
                                 hovertext=texts, marker={
                                     "size": 11, "color": _colour(key, i, colours)}))
    return _layout(fig, title, x_title, y_title, legend_title)


def matrix(grid: list[list[float]], x: list[str], y: list[str], *, title: str = "",
           x_title: str = "", y_title: str = "", scale: str = "Blues",
           colour_title: str = "") -> go.Figure:
    """A heatmap with the value written in each cell (rows top to bottom as given)."""
    fig = go.Figure(go.Heatmap(z=grid, x=_texts(list(x)), y=_texts(list(y)),
                               colorscale=scale, texttemplate="%{z}",
                               colorbar={"title": chart_text(colour_title)}, xgap=2, ygap=2))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    return _layout(fig, title, x_title, y_title, None)


# A line of 50,000 accounts (bench scale) drawn point by point sent megabytes of JSON and
# 50,000 SVG markers to the browser: the Tiers page took 13 s to render. At chart width a
# few hundred points draw the same line.
MAX_LINE_POINTS = 1_000


def thin_line(frame: pl.DataFrame, max_points: int = MAX_LINE_POINTS) -> pl.DataFrame:
    """Every k-th row of a long, ordered line (first and last rows always kept), so that at
    most about `max_points` rows are drawn; short frames come back unchanged."""
    if frame.height <= max_points:
        return frame
    step = -(-frame.height // max_points)  # ceiling division
    last = frame.height - 1
    return (frame.with_row_index("_row")
            .filter((pl.col("_row") % step == 0) | (pl.col("_row") == last))
            .drop("_row"))
