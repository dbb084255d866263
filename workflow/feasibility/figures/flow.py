"""The participant-flow (CONSORT 2010) diagram of the boxes a study file declares.

Counts come from :func:`feasibility.analysis.flow.consort_flow` (the study file's
``flow.consort``), which has already checked that the parts of every box add up to it,
record by record; the figure's declaration (``figures.<id>``, kind ``flow``) says only how
they are shown. The diagram follows CONSORT 2010 (Schulz et al. 2010, the flow diagram; for
a single arm, the extension to randomised pilot and feasibility trials, Eldridge et al.
2016, adapted):

* Boxes counted over everyone (the enrolment stage) form one column, from the first box
  through the last-declared part of each box. A box's other parts are side boxes to the
  right of the column, in the gap below it; their own parts are the bullets inside them
  and the parts' reasons the lines under those (``reasons``, in the order declared or by
  frequency; ``group_reasons`` shows "<group>: <detail>" reasons as groups with details).
  The paper's Figure 1 is such a column: screened, expressed interest, recruited,
  continued to placement matching, placed, completed the placement.
* Boxes counted per arm stand in one column per arm, side by side, one box per stage
  (allocation, follow-up, analysis) under a stage heading: "Allocated to <arm>" with
  those who received the allocated intervention and those who did not (with reasons);
  lost to follow-up and discontinued intervention; analysed and excluded from analysis.
* An optional row of follow-up boxes gives, per time point, the forms returned of those
  expected (``flow.follow_up``).

Every box's count is the sum of what flows out of it (:meth:`Diagram.outflows`), checked
when the diagram is built. The layout is computed from measured text: every box is sized
to its wrapped text; side boxes stack in their own column and may run alongside the main
boxes, their arrows leaving the main column between the two boxes they explain, so the
diagram is as short as its side boxes allow and no two boxes can overlap whatever the
counts, the reasons or their number. It is drawn at the printed width (A4 text width,
``figures.common``), every text at 7.5 pt.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle
from matplotlib.text import Text

from feasibility.figures.common import (
    SMALL_FONT_SIZE,
    TEXT_WIDTH_IN,
    figure_style,
    font,
    format_n,
    new_figure,
    wrap_to_width,
)
from feasibility.figures.spec import FlowFigure

NOT_RECORDED = "Not recorded"


# ----------------------------------------------------------------------------- the diagram
@dataclass(frozen=True)
class Item:
    """A counted line: a box shown inside another (``box``), a reason, or a group of reasons;
    ``children`` are what it splits into (they add up to it)."""

    label: str
    n: int
    children: tuple[Item, ...] = ()
    box: str | None = None
    reason: str | None = None  # the flow frame's reason ("" for a box's own count)


@dataclass(frozen=True)
class ChainBox:
    """A box of the main column: its label and count, and notes (boxes shown as lines)."""

    box: str
    label: str
    n: int
    notes: tuple[Item, ...] = ()


@dataclass(frozen=True)
class SideBox:
    """A side box of the main column: its title and count, and the items it splits into."""

    box: str
    label: str
    n: int
    items: tuple[Item, ...] = ()


@dataclass(frozen=True)
class ArmBox:
    """One arm's box of one stage: its top-level items (bold), each with its bullets."""

    stage: str
    arm: str
    arm_label: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class FollowUpBox:
    timepoint: str
    label: str  # "6 weeks"
    returned: int
    expected: int


@dataclass(frozen=True)
class Diagram:
    """What the figure shows: ``sides[i]`` hold those who left between ``chain[i]`` and
    ``chain[i + 1]``; ``stages`` the per-arm rows, one box per arm."""

    chain: tuple[ChainBox, ...]
    sides: tuple[tuple[SideBox, ...], ...]
    arms: tuple[tuple[str, str], ...] = ()
    stages: tuple[tuple[str, tuple[ArmBox, ...]], ...] = ()
    stage_labels: dict[str, str] = field(default_factory=dict)
    follow_up: tuple[FollowUpBox, ...] = ()
    follow_up_heading: str = ""
    follow_up_label: str = ""
    splits: tuple[tuple[str, str, str, tuple[str, ...]], ...] = ()  # (parent, arm, stage, parts)

    def __post_init__(self) -> None:
        if self.chain and len(self.sides) != len(self.chain) - 1:
            raise ValueError("a flow column needs one gap of side boxes between each pair of boxes")
        for before, left, after in zip(self.chain, self.sides, self.chain[1:]):
            out = sum(s.n for s in left) + after.n
            if out != before.n:
                raise ValueError(
                    f"{before.label} ({format_n(before.n)}) is not the sum of what "
                    f"flows out of it: " + " + ".join(f"{b.label} ({format_n(b.n)})" for b in (*left, after))
                )
        for box, children in self.outflows():
            total = sum(c.n for c in children)
            if total != box.n:
                raise ValueError(f"{box.label} ({format_n(box.n)}): what it splits into adds up to {total:,}")
        for box in self.follow_up:
            if not 0 <= box.returned <= box.expected:
                raise ValueError(
                    f"follow-up at {box.label}: {box.returned} returned of {box.expected} expected"
                )

    def outflows(self) -> list[tuple[object, tuple]]:
        """Every box or item with what it splits into: a main box into its side boxes and the
        next main box; a box or item into its items; the last main box into the arms'
        first boxes; an arm's box into the parts counted in a later stage."""
        out: list[tuple[object, tuple]] = []
        for before, left, after in zip(self.chain, self.sides, self.chain[1:]):
            out.append((before, (*left, after)))

        def walk(owner, items):
            if items:
                out.append((owner, items))
            for item in items:
                walk(item, item.children)

        for left in self.sides:
            for side in left:
                walk(side, side.items)
        by_box: dict[tuple[str, str], Item] = {}
        for _, boxes in self.stages:
            for arm_box in boxes:
                for item in arm_box.items:
                    walk(item, item.children)
                    by_box[(item.box, arm_box.arm)] = item
        in_chain = {c.box: c for c in self.chain}
        for parent, arm, _stage, parts in self.splits:
            whole = by_box.get((parent, arm)) if arm else in_chain.get(parent)
            children = tuple(
                by_box[(p, a)]
                for p in parts
                for a in ([arm] if arm else [c for c, _ in self.arms])
                if (p, a) in by_box
            )
            if whole is not None and children:
                out.append((whole, children))
        return out


def _sorted(items: list[Item], order: str) -> list[Item]:
    if order == "frequency":
        return sorted(items, key=lambda it: (-it.n, it.label))
    return items


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _reasons(rows: pd.DataFrame, order: str, separator: str | None) -> tuple[Item, ...]:
    """A box's reasons (frame rows with a reason), as items; grouped at ``separator``."""
    items = [Item(str(r.reason), int(r.n), reason=str(r.reason)) for r in rows.itertuples() if int(r.n)]
    if not separator:
        return tuple(_sorted(items, order))
    groups: dict[str, list[Item]] = {}
    for it in items:
        head, sep, detail = it.label.partition(separator)
        groups.setdefault(head, [])
        if sep:
            groups[head].append(Item(_capitalised(detail), it.n, reason=it.reason))
        else:
            groups[head].append(Item("", it.n, reason=it.reason))
    out = []
    for head, details in groups.items():
        total = sum(d.n for d in details)
        if all(d.label == "" for d in details):
            out.append(Item(head, total, reason=details[0].reason if len(details) == 1 else None))
            continue
        named = [d if d.label else Item(NOT_RECORDED, d.n, reason=d.reason) for d in details]
        out.append(Item(head, total, tuple(_sorted(named, order))))
    return tuple(_sorted(out, order))


def diagram(flow, figure: FlowFigure, analysis=None) -> Diagram:
    """The diagram of a :class:`~feasibility.analysis.flow.ConsortFlow` as ``figure`` declares it.

    ``analysis`` gives the follow-up row's counts (``flow.follow_up``) when the figure
    declares one."""
    frame = flow.frame
    boxes = {b.id: b for b in flow.boxes}
    noted = {n for notes in figure.notes.values() for n in notes}
    for owner, notes in figure.notes.items():
        for n in (owner, *notes):
            if n not in boxes:
                raise ValueError(
                    f"figures.{figure.id}.notes: {n!r} is not a box of flow.consort ({', '.join(boxes)})"
                )
    for name in figure.boxes:
        if name not in boxes:
            raise ValueError(
                f"figures.{figure.id}.boxes: {name!r} is not a box of flow.consort ({', '.join(boxes)})"
            )
    rows = {key: part for key, part in frame.groupby(["box", "arm"], sort=False)}

    def count(box: str, arm: str = "") -> int:
        part = rows[(box, arm)]
        return int(part.loc[part["reason"] == "", "n"].iloc[0])

    def label(box: str, arm: str = "") -> str:
        return str(rows[(box, arm)]["label"].iloc[0])

    def parts(box: str, stage: str | None = None) -> list[str]:
        return [
            b.id
            for b in flow.boxes
            if b.part_of == box and b.id not in noted and (stage is None or b.stage == stage)
        ]

    def item(box: str, arm: str = "") -> Item:
        style = figure.style(box)
        part = rows[(box, arm)]
        own = parts(box, boxes[box].stage)
        children = tuple(item(p, arm) for p in own)
        children += _reasons(part[part["reason"] != ""], style.reason_order, style.group_reasons)
        return Item(label(box, arm), count(box, arm), children, box=box, reason="")

    # the column of boxes counted over everyone, from the first box through the last part
    overall = [b for b in flow.boxes if not b.per_arm and b.id not in noted]
    chain: list[ChainBox] = []
    sides: list[tuple[SideBox, ...]] = []
    in_column: set[str] = set()
    current = overall[0].id if overall else None
    if current is not None and boxes[current].part_of:
        raise ValueError(f"flow.consort: the first box {current!r} is part of another box")
    while current is not None:
        notes = tuple(Item(label(n), count(n), box=n, reason="") for n in figure.notes.get(current, ()))
        chain.append(ChainBox(current, label(current), count(current), notes))
        in_column.add(current)
        following = [p for p in parts(current) if not boxes[p].per_arm]
        if not following:
            break
        side = []
        for p in following[:-1]:
            it = item(p)
            side.append(SideBox(p, it.label, it.n, it.children))
            in_column |= _box_ids(it)
        sides.append(tuple(side))
        current = following[-1]
    stray = [b.id for b in overall if b.id not in in_column]
    if stray:
        raise ValueError(
            f"figures.{figure.id}: box(es) {', '.join(map(repr, stray))} of "
            "flow.consort are neither in the diagram's column (part of a box "
            "there) nor a note (figures.<id>.notes)"
        )

    # one column per arm: a box per stage and arm
    arms = tuple((str(c), str(t)) for c, t in flow.arms)
    stage_names = []
    for b in flow.boxes:
        if b.per_arm and b.id not in noted and b.stage not in stage_names:
            stage_names.append(b.stage)
    stages = []
    splits = []
    for stage in stage_names:
        top = [
            b
            for b in flow.boxes
            if b.per_arm
            and b.stage == stage
            and b.id not in noted
            and (b.part_of is None or boxes[b.part_of].stage != stage)
        ]
        per_arm = tuple(
            ArmBox(stage, code, text, tuple(item(b.id, code) for b in top)) for code, text in arms
        )
        stages.append((stage, per_arm))
        for parent in dict.fromkeys(b.part_of for b in top if b.part_of):
            members = tuple(b.id for b in top if b.part_of == parent)
            if boxes[parent].per_arm:
                splits += [(parent, code, stage, members) for code, _ in arms]
            else:
                splits.append((parent, "", stage, members))

    follow = ()
    if figure.follow_up is not None:
        follow = follow_up_boxes(analysis, figure)
    return Diagram(
        tuple(chain),
        tuple(sides),
        arms,
        tuple(stages),
        dict(figure.stages),
        follow,
        figure.follow_up.heading if figure.follow_up else "",
        figure.follow_up.label if figure.follow_up else "",
        tuple(splits),
    )


def _box_ids(item: Item) -> set[str]:
    out = {item.box} if item.box else set()
    for c in item.children:
        out |= _box_ids(c)
    return out


def follow_up_boxes(analysis, figure: FlowFigure) -> tuple[FollowUpBox, ...]:
    """Per follow-up time point: forms returned, of those expected (everyone with a
    follow-up status but 'not expected': those who had dropped out)."""
    if analysis is None:
        raise ValueError(f"figures.{figure.id}.follow_up: the follow-up row needs the analysis")
    follow = (analysis.spec.raw.get("flow") or {}).get("follow_up") or {}
    tps = figure.follow_up.timepoints or tuple(follow.get("timepoints") or ())
    if not tps:
        raise ValueError(f"figures.{figure.id}.follow_up: no time points (flow.follow_up is not declared)")
    status = analysis.variable("follow_up_status")
    out = []
    for tp in tps:
        if tp not in (status.by_timepoint or {}):
            raise ValueError(
                f"figures.{figure.id}.follow_up.timepoints: {tp!r} is not a time "
                f"point of flow.follow_up ({', '.join(status.by_timepoint or {})})"
            )
        values = status.by_timepoint[tp].astype(object)
        returned = int((values == "returned").sum())
        expected = int(values.isin(["returned", "not returned"]).sum())
        out.append(FollowUpBox(tp, analysis.timepoints.label(tp), returned, expected))
    return tuple(out)


def diagram_frame(flow, d: Diagram) -> pd.DataFrame:
    """The counts drawn, as a tidy table (the flow's frame, then the follow-up row)."""
    frame = flow.frame.copy()
    frame.insert(0, "what", "box")
    rows = [
        {
            "what": "follow_up",
            "stage": "follow_up",
            "box": f"follow_up[{b.timepoint}]",
            "label": b.label,
            "arm": "",
            "arm_label": "",
            "reason": "returned",
            "n": b.returned,
            "part_of": "",
        }
        for b in d.follow_up
    ]
    rows += [
        {
            "what": "follow_up",
            "stage": "follow_up",
            "box": f"follow_up[{b.timepoint}]",
            "label": b.label,
            "arm": "",
            "arm_label": "",
            "reason": "expected",
            "n": b.expected,
            "part_of": "",
        }
        for b in d.follow_up
    ]
    return pd.concat([frame, pd.DataFrame(rows, columns=frame.columns)], ignore_index=True)


# ----------------------------------------------------------------------------- words
def _item_words(item: Item) -> str:
    words = f"{item.label}, {format_n(item.n)}"
    if item.children:
        words += " (" + "; ".join(_item_words(c) for c in item.children) + ")"
    return words


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def follow_up_text(d: Diagram, box: FollowUpBox) -> str:
    return f"at {box.label}, {box.returned:,} of {box.expected:,} expected {_lower_first(d.follow_up_label)}"


def alt_text(d: Diagram) -> str:
    """Every box of the diagram in words, top to bottom."""
    sentences = ["CONSORT flow diagram."]
    if d.chain:
        first = d.chain[0]
        sentences.append(
            f"{first.label}: {format_n(first.n)}."
            + "".join(f" {n.label}, {format_n(n.n)}." for n in first.notes)
        )
    for left, after in zip(d.sides, d.chain[1:]):
        for side in left:
            leaving = f"{side.label}: {format_n(side.n)}"
            if side.items:
                leaving += " (" + "; ".join(_item_words(r) for r in side.items) + ")"
            sentences.append(leaving + ".")
        notes = "".join(f" {n.label}, {format_n(n.n)}." for n in after.notes)
        sentences.append(f"{after.label}: {format_n(after.n)}.{notes}")
    for stage, boxes in d.stages:
        per_arm = [f"{b.arm_label}: " + "; ".join(_item_words(i) for i in b.items) for b in boxes]
        sentences.append(f"{d.stage_labels.get(stage, stage)}, by arm. " + ". ".join(per_arm) + ".")
    if d.follow_up:
        sentences.append(
            d.follow_up_heading + ": " + "; ".join(follow_up_text(d, box) for box in d.follow_up) + "."
        )
    return " ".join(sentences)


# ----------------------------------------------------------------------------- layout
# All lengths in inches; the diagram is at most as wide as the printed text
# (figures/common.py) and its type prints at TEXT_SIZE, so it fits without being scaled.
TEXT_SIZE = SMALL_FONT_SIZE  # points
PAD = 0.06  # text to box edge
MAIN_TEXT_WIDTH = 2.2  # the single column's boxes
SIDE_GAP = 0.3  # main column to side boxes
MARGIN = 0.06
SIDE_TEXT_WIDTH = TEXT_WIDTH_IN - 2 * MARGIN - (MAIN_TEXT_WIDTH + 2 * PAD) - SIDE_GAP - 2 * PAD
FOLLOW_UP_TEXT_WIDTH = 1.55
ROW_GAP = 0.15  # between follow-up boxes
V_GAP = 0.08  # between stacked side boxes, and around headings
ARROW_GAP = 0.1  # least run of an arrow or line between a box and a side arrow
INDENT = 0.16  # per reason level
BULLET = 0.13  # bullet to reason text
ITEM_GAP = 0.015  # between reasons
TOP_ITEM_GAP = 0.05  # more before each bold line of an arm's box but the first
LINE_SPACING = 1.10  # baseline to baseline, in font sizes
COLUMN_GAP = 0.2  # between the arms' columns
HEADING_FILL = "#e8e8e8"


@dataclass
class _Line:
    text: str
    indent: float = 0.0
    bullet: str = ""
    bold: bool = False
    space_before: float = 0.0


@dataclass
class _Box:
    """A box's text artists, measured, and (once laid out) its position."""

    gid: str
    texts: list[tuple[Text, float, float]]  # artist, x from text edge, baseline below text top
    text_width: float
    text_height: float
    centred: bool
    fill: str = "white"
    first_line: float = 0.0  # the middle of the first line, inches below the text top
    x: float = 0.0  # left, inches
    top: float = 0.0  # top, inches down from the figure's top edge
    width: float = 0.0
    height: float = 0.0
    valign: str = "center"
    rounded: bool = False

    def __post_init__(self) -> None:
        self.width = self.text_width + 2 * PAD
        self.height = self.text_height + 2 * PAD

    @property
    def centre_x(self) -> float:
        return self.x + self.width / 2

    @property
    def bottom(self) -> float:
        return self.top + self.height

    @property
    def anchor(self) -> float:
        """Where an arrow meets the box: the middle of its first line, below its top."""
        return PAD + self.first_line


def _baseline_text(
    fig: Figure, text: str, gid: str, prop: FontProperties, ha: str
) -> tuple[Text, float, float, float]:
    """One line of text on its baseline, with its measured width, ascent and descent (inches)."""
    artist = fig.text(
        0,
        0,
        text,
        fontproperties=prop,
        va="baseline",
        ha=ha,
        parse_math=False,
        transform=fig.dpi_scale_trans,
        gid=gid,
    )
    extent = artist.get_window_extent(fig.canvas.get_renderer())
    return artist, extent.width / fig.dpi, extent.y1 / fig.dpi, -extent.y0 / fig.dpi


def _text_box(
    fig: Figure, gid: str, lines: list[_Line], wrap_width: float, centred: bool = False, fill: str = "white"
) -> _Box:
    """Wrap and measure a box's lines: one artist per printed line, so bullets sit on the
    baseline of their reason's first line and every line's extent is known."""
    texts: list[tuple[Text, float, float]] = []
    ha = "center" if centred else "left"
    pitch = LINE_SPACING * TEXT_SIZE / 72
    width = 0.0
    baseline = None  # of the previous printed line, inches below the text top
    descent = 0.0
    first_line = 0.0
    for i, line in enumerate(lines):
        prop = font(TEXT_SIZE, weight="bold" if line.bold else "normal")
        x = line.indent + (BULLET if line.bullet else 0.0)
        wrapped = wrap_to_width(fig, line.text, wrap_width - x, prop).split("\n")
        for k, part in enumerate(wrapped):
            if not part.strip():
                continue
            artist, w, ascent, below = _baseline_text(fig, part, f"{gid}-t{i}.{k}", prop, ha)
            placed = [(artist, x)]
            if k == 0 and line.bullet:
                bullet, _, b_ascent, b_below = _baseline_text(
                    fig, line.bullet, f"{gid}-b{i}", font(TEXT_SIZE), "left"
                )
                placed.append((bullet, line.indent))
                ascent, below = max(ascent, b_ascent), max(below, b_below)
            if baseline is None:
                baseline = ascent
                first_line = ascent - 0.35 * TEXT_SIZE / 72
            else:
                gap = ITEM_GAP + line.space_before if k == 0 else 0.0
                baseline += max(pitch, descent + ascent) + gap
            texts += [(a, dx, baseline) for a, dx in placed]
            width = max(width, x + w)
            descent = below
    box = _Box(gid, texts, width, (baseline or 0.0) + descent, centred, fill)
    box.first_line = first_line
    return box


def _chain_lines(box: ChainBox) -> list[_Line]:
    return [_Line(box.label), _Line(format_n(box.n))] + [
        _Line(f"{n.label}, {format_n(n.n)}") for n in box.notes
    ]


def _item_lines(items: tuple[Item, ...], level: int = 0) -> list[_Line]:
    lines = []
    for item in items:
        lines.append(
            _Line(
                f"{item.label} ({format_n(item.n)})",
                indent=level * INDENT,
                bullet="\u2022" if level == 0 else "\u2013",
            )
        )
        lines += _item_lines(item.children, level + 1)
    return lines


def _side_lines(box: SideBox) -> list[_Line]:
    return [_Line(f"{box.label} ({format_n(box.n)})", bold=True)] + _item_lines(box.items)


def _arm_lines(box: ArmBox) -> list[_Line]:
    lines = []
    for i, item in enumerate(box.items):
        lines.append(
            _Line(f"{item.label} ({format_n(item.n)})", bold=True, space_before=TOP_ITEM_GAP if i else 0.0)
        )
        lines += _item_lines(item.children)
    return lines


def _follow_up_lines(d: Diagram, box: FollowUpBox) -> list[_Line]:
    return [
        _Line(box.label, bold=True),
        _Line(d.follow_up_label),
        _Line(f"{format_n(box.returned)} of {box.expected:,} expected"),
    ]


def arm_box_gid(stage: str, arm: str) -> str:
    return f"{stage}.{arm}"


def draw(d: Diagram) -> Figure:
    """Draw the diagram; the figure is as tall as its measured content needs."""
    with figure_style():
        fig = new_figure(1, 1)
        if d.arms and d.stages:
            _draw_with_arms(fig, d)
        else:
            _draw_column(fig, d)
    return fig


def _lay_out_column(
    main: list[_Box], sides: list[list[_Box]], x_main: float, x_side: float, top: float
) -> tuple[float, list[tuple[int, _Box]]]:
    """Main boxes down one column, side boxes stacked in a column to their right.

    Each side box's arrow leaves the main column between the two boxes it explains and meets
    the box at its first line; side boxes may run alongside the main boxes, so the column is
    as short as the side boxes allow. Returns the bottom and (gap, side box) pairs."""
    y = top
    side_bottom = -np.inf
    arrows = []
    for i, box in enumerate(main):
        box.x, box.top = x_main, y
        y = box.bottom
        if i < len(sides):
            lowest = y + ARROW_GAP
            for side in sides[i]:
                side.x = x_side
                side.top = max(side_bottom + V_GAP, lowest - side.anchor, top)
                side_bottom = side.bottom
                lowest = side.top + side.anchor + ARROW_GAP
                arrows.append((i, side))
            y = max(lowest, box.bottom + 2 * ARROW_GAP)
    return max(y, side_bottom), arrows


def _draw_column(fig: Figure, d: Diagram) -> None:
    main = [_text_box(fig, c.box, _chain_lines(c), MAIN_TEXT_WIDTH, centred=True) for c in d.chain]
    sides = [[_text_box(fig, s.box, _side_lines(s), SIDE_TEXT_WIDTH) for s in gap] for gap in d.sides]
    follow = [
        _text_box(fig, f"followup{i}", _follow_up_lines(d, b), FOLLOW_UP_TEXT_WIDTH, centred=True)
        for i, b in enumerate(d.follow_up)
    ]
    main_width = max(b.width for b in main)
    for b in main:
        b.width = main_width
    spine_x = MARGIN + main_width / 2
    side_x = MARGIN + main_width + SIDE_GAP
    y, arrows = _lay_out_column(main, sides, MARGIN, side_x, MARGIN)
    width = max([side_x + b.width for gap in sides for b in gap] + [MARGIN + main_width])
    heading = None
    if follow:
        y += V_GAP
        row_width = _lay_out_row(follow, width - MARGIN)
        heading = _text_box(
            fig,
            "followup-heading",
            [_Line(d.follow_up_heading, bold=True)],
            row_width - 2 * PAD,
            centred=True,
            fill=HEADING_FILL,
        )
        heading.width = row_width
        heading.x, heading.top = MARGIN, y
        y += heading.height + V_GAP / 2
        for b in follow:
            b.top = y
        y += follow[0].height
        width = max(width, MARGIN + row_width)
    fig_width, fig_height = width + MARGIN, y + MARGIN
    fig.set_size_inches(fig_width, fig_height)
    for box in main + [b for gap in sides for b in gap] + follow + ([heading] if heading else []):
        _place(fig, box, fig_height)
    for upper, lower in zip(main, main[1:]):
        _arrow(fig, (spine_x, upper.bottom), (spine_x, lower.top), fig_height)
    for _, side in arrows:
        at = side.top + side.anchor
        _arrow(fig, (spine_x, at), (side.x, at), fig_height)


def _draw_with_arms(fig: Figure, d: Diagram) -> None:
    """The column of boxes counted over everyone, centred; then a row per stage with one box
    per arm, side by side, under the stage's heading."""
    width = TEXT_WIDTH_IN
    n_arms = len(d.arms)
    column = (width - 2 * MARGIN - (n_arms - 1) * COLUMN_GAP) / n_arms
    centres = [MARGIN + j * (column + COLUMN_GAP) + column / 2 for j in range(n_arms)]
    spine_x = width / 2
    main = [_text_box(fig, c.box, _chain_lines(c), MAIN_TEXT_WIDTH, centred=True) for c in d.chain]
    main_width = max([b.width for b in main] + [1.2])
    for b in main:
        b.width = main_width
    side_x = spine_x + main_width / 2 + SIDE_GAP
    side_text = width - MARGIN - side_x - 2 * PAD
    sides = [[_text_box(fig, s.box, _side_lines(s), side_text) for s in gap] for gap in d.sides]
    headings = {}

    def heading(stage: str) -> _Box:
        key = stage if stage not in headings else f"{stage}-arms"  # enrolment: column and arms
        box = _text_box(
            fig,
            f"stage-{key}",
            [_Line(d.stage_labels.get(stage, stage), bold=True)],
            2.0,
            centred=True,
            fill=HEADING_FILL,
        )
        box.width += 2 * INDENT
        box.rounded = True
        headings[key] = box
        return box

    y = MARGIN
    bottom, arrows = _lay_out_column(main, sides, spine_x - main_width / 2, side_x, y)
    if main:
        first = heading("enrolment")
        first.x = MARGIN
        first.top = main[0].top + (main[0].height - first.height) / 2
    rows = []
    for stage, boxes in d.stages:
        row = [_text_box(fig, arm_box_gid(stage, b.arm), _arm_lines(b), column - 2 * PAD) for b in boxes]
        for j, box in enumerate(row):
            box.width = column
            box.x = centres[j] - column / 2
            box.valign = "top"
        height = max(b.height for b in row)
        for box in row:
            box.height = height
        rows.append((stage, row))
    split_y = None
    for k, (stage, row) in enumerate(rows):
        if k == 0 and main:
            split_y = bottom + ARROW_GAP
            y = split_y
        else:
            y = rows[k - 1][1][0].bottom if k else bottom
        head = heading(stage)
        head.x = spine_x - head.width / 2
        head.top = y + V_GAP
        for box in row:
            box.top = head.bottom + V_GAP
        bottom = row[0].bottom
    fig_height = bottom + MARGIN
    fig.set_size_inches(width, fig_height)
    for box in (
        main
        + [b for gap in sides for b in gap]
        + list(headings.values())
        + [b for _, row in rows for b in row]
    ):
        _place(fig, box, fig_height)
    for upper, lower in zip(main, main[1:]):
        _arrow(fig, (spine_x, upper.bottom), (spine_x, lower.top), fig_height)
    for _, side in arrows:
        at = side.top + side.anchor
        _arrow(fig, (spine_x, at), (side.x, at), fig_height)
    if rows and split_y is not None:
        _line(fig, [(spine_x, main[-1].bottom), (spine_x, split_y)], fig_height)
        _line(fig, [(centres[0], split_y), (centres[-1], split_y)], fig_height)
        for j, box in enumerate(rows[0][1]):
            _arrow(fig, (centres[j], split_y), (centres[j], box.top), fig_height)
    for (_, upper), (_, lower) in zip(rows, rows[1:]):
        for j in range(n_arms):
            _arrow(fig, (centres[j], upper[j].bottom), (centres[j], lower[j].top), fig_height)


def _lay_out_row(boxes: list[_Box], min_row_width: float) -> float:
    """Same size for every follow-up box, side by side, filling at least ``min_row_width``."""
    gaps = (len(boxes) - 1) * ROW_GAP
    width = max([b.width for b in boxes] + [(min_row_width - gaps) / len(boxes)])
    height = max(b.height for b in boxes)
    for i, b in enumerate(boxes):
        b.width, b.height = width, height
        b.x = MARGIN + i * (width + ROW_GAP)
    return len(boxes) * width + (len(boxes) - 1) * ROW_GAP


def _place(fig: Figure, box: _Box, fig_height: float) -> None:
    bottom = fig_height - box.top - box.height
    style = dict(
        transform=fig.dpi_scale_trans, facecolor=box.fill, edgecolor="black", linewidth=0.8, gid=box.gid
    )
    if box.rounded:
        fig.add_artist(
            FancyBboxPatch(
                (box.x, bottom), box.width, box.height, boxstyle="round,pad=0,rounding_size=0.06", **style
            )
        )
    else:
        fig.add_artist(Rectangle((box.x, bottom), box.width, box.height, **style))
    if box.valign == "top":
        text_top = fig_height - box.top - PAD
    else:  # text block centred vertically (boxes of a row share the tallest one's height)
        text_top = fig_height - box.top - (box.height - box.text_height) / 2
    for artist, dx, baseline in box.texts:
        x = box.centre_x if artist.get_ha() == "center" else box.x + PAD + dx
        artist.set_position((x, text_top - baseline))


def _arrow(fig: Figure, start: tuple[float, float], end: tuple[float, float], fig_height: float) -> None:
    fig.add_artist(
        FancyArrowPatch(
            (start[0], fig_height - start[1]),
            (end[0], fig_height - end[1]),
            transform=fig.dpi_scale_trans,
            arrowstyle="-|>",
            mutation_scale=9,
            shrinkA=0,
            shrinkB=0,
            linewidth=0.8,
            color="black",
        )
    )


def _line(fig: Figure, points: list[tuple[float, float]], fig_height: float) -> None:
    xs, ys = zip(*points)
    fig.add_artist(
        Line2D(
            xs,
            [fig_height - y for y in ys],
            transform=fig.dpi_scale_trans,
            linewidth=0.8,
            color="black",
            solid_capstyle="projecting",
        )
    )


# ----------------------------------------------------------------------------- output
def make(analysis, figure: FlowFigure, flow=None) -> tuple[Figure, str, pd.DataFrame]:
    """The figure, its alternative text and the counts it shows, from the analysis."""
    if flow is None:
        from feasibility.analysis.flow import consort_flow

        flow = consort_flow(analysis)
    d = diagram(flow, figure, analysis)
    return draw(d), alt_text(d), diagram_frame(flow, d)


__all__ = [
    "Item",
    "ChainBox",
    "SideBox",
    "ArmBox",
    "FollowUpBox",
    "Diagram",
    "diagram",
    "draw",
    "alt_text",
    "make",
    "diagram_frame",
    "follow_up_boxes",
]
