"""Figure 1: CONSORT 2010 flow diagram for a single-arm pilot and feasibility study.

Counts follow R ``consort``'s participant-level model (the ``Participants`` flow
columns): at each stage a participant either continues or leaves with a reason.
Stages and groups as in the paper's Fig. 1 and Results: "We screened 117 people ...
We received expressions of interest from 33 eligible people ... We recruited 31
participants. ... Two people were found to be ineligible post-recruitment ... Two were
unable to be placed due to language/learning difficulties. Three withdrew after
baseline" (one box, the three withdrawals together, whether they left before work
preparation or on its first day), then those not placed (offered a placement but
disengaged, no suitable placement, died), "Fifteen ... attended a supported work
placement ... All but four ... completed the full six weeks". Work preparation,
attended by 27, is a line of the recruitment box: the paper's groups cut across it.
CONSORT 2010 extension to randomised pilot and feasibility trials (Eldridge et al.
2016) adapted to a single arm. Follow-up is of everyone recruited; those who dropped
out (``fu_status_* == "not expected"``) leave the denominator, as in the paper's
response rates "excluding dropouts".

Every box's count is the sum of what flows out of it (:meth:`Flow.outflows`); the
counts are checked when the flow is built.

The diagram is laid out from measured text: every box is sized to its wrapped text,
side boxes sit right of the main column inside the vertical gap they explain, so no
two boxes can overlap whatever the counts, the reasons or their number.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import FancyArrowPatch, Rectangle
from matplotlib.text import Text

from feasibility.crf import fields_by_name
from feasibility.figures.common import (
    FOLLOW_UP_TIMEPOINTS, SMALL_FONT_SIZE, TEXT_WIDTH_IN, TIMEPOINT_LABELS, figure_style, font, format_n,
    new_figure, save_figure, wrap_to_width,
)

TITLE = "CONSORT flow diagram of participants through the study"
NOT_RECORDED = "Reason not recorded"

# Status changes that end participation which the paper groups straight after baseline
# (Results: ineligible post-recruitment, unable to be placed, withdrew), in its order;
# ``dropout_reason`` reads "<status change>: <reason>".
AFTER_BASELINE = ("Found ineligible after recruitment", "Could not be placed", "Withdrew")
AFTER_BASELINE_TITLE = "Excluded or withdrew after baseline"
CONTINUED = "Continued to placement matching"


# ----------------------------------------------------------------------------- counts
@dataclass(frozen=True)
class Reason:
    """One counted reason in a side box, optionally broken down further."""

    label: str
    n: int
    detail: tuple[Reason, ...] = ()


@dataclass(frozen=True)
class MainBox:
    label: str
    n: int
    notes: tuple[str, ...] = ()      # lines under the count that are not flow boxes


@dataclass(frozen=True)
class SideBox:
    title: str
    n: int
    reasons: tuple[Reason, ...] = ()


@dataclass(frozen=True)
class FollowUpBox:
    timepoint: str          # week6, week14, month6
    returned: int
    expected: int

    @property
    def label(self) -> str:
        return TIMEPOINT_LABELS[self.timepoint]


@dataclass(frozen=True)
class Flow:
    """The diagram's content: ``side[i]`` holds those who left between ``main[i]`` and ``main[i + 1]``."""

    main: tuple[MainBox, ...]
    side: tuple[SideBox, ...]
    follow_up: tuple[FollowUpBox, ...] = field(default=())

    def __post_init__(self) -> None:
        if len(self.side) != len(self.main) - 1:
            raise ValueError("a CONSORT flow needs one side box between each pair of main boxes")
        for before, left, after in zip(self.main, self.side, self.main[1:]):
            if after.n != before.n - left.n:
                raise ValueError(
                    f"{before.label} ({format_n(before.n)}) minus {left.title} "
                    f"({format_n(left.n)}) is {before.n - left.n}, but {after.label} has "
                    f"{format_n(after.n)}")
            _check_reasons_add_up(left.title, left.n, left.reasons)
        for box in self.follow_up:
            if not 0 <= box.returned <= box.expected:
                raise ValueError(f"follow-up at {box.label}: {box.returned} returned of "
                                 f"{box.expected} expected")

    def outflows(self) -> list[tuple[object, tuple]]:
        """Every box with the boxes its people flow into (main box -> side box and the next
        main box; side box -> its reasons; reason -> its breakdown)."""
        out: list[tuple[object, tuple]] = []
        for before, left, after in zip(self.main, self.side, self.main[1:]):
            out.append((before, (left, after)))
            if left.reasons:
                out.append((left, left.reasons))
            stack = list(left.reasons)
            while stack:
                reason = stack.pop()
                if reason.detail:
                    out.append((reason, reason.detail))
                    stack += reason.detail
        return out


def _check_reasons_add_up(title: str, n: int, reasons: tuple[Reason, ...]) -> None:
    if reasons and sum(r.n for r in reasons) != n:
        raise ValueError(f"reasons in '{title}' add up to {sum(r.n for r in reasons)}, not {n}")
    for reason in reasons:
        _check_reasons_add_up(reason.label, reason.n, reason.detail)


def _coded_reasons(codes: pd.Series, field_name: str) -> tuple[Reason, ...]:
    """Count CRF-coded reasons in the CRF's choice order; a missing code is 'not recorded'."""
    choices = fields_by_name()[field_name].choices
    counts = [(label, int((codes == code).sum())) for code, label in choices]
    counts.append((NOT_RECORDED, int(codes.isna().sum())))
    unknown = set(codes.dropna()) - {float(code) for code, _ in choices}
    if unknown:
        raise ValueError(f"{field_name} has codes outside the CRF: {sorted(unknown)}")
    return tuple(Reason(label, n) for label, n in counts if n)


def _text_reasons(reasons: pd.Series) -> tuple[Reason, ...]:
    """Count free-text reasons, most frequent first (ties alphabetical, for a stable order)."""
    counts = reasons.fillna(NOT_RECORDED).value_counts()
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple(Reason(str(label), int(n)) for label, n in ordered)


def screening_exclusions(screening: pd.DataFrame) -> tuple[SideBox, SideBox]:
    """Everyone screened but not enrolled, by the screening log's funnel: those excluded
    before expressing interest (not eligible, by ``scr_inelig_reason``; eligible but did
    not express interest), and those who expressed interest but were not recruited (by
    ``scr_not_enrolled_reason``)."""
    not_enrolled = screening[screening["scr_enrolled"] != 1]
    ineligible = not_enrolled[not_enrolled["scr_eligible"] == 0]
    eligible = not_enrolled[not_enrolled["scr_eligible"] == 1]
    not_interested = eligible[eligible["scr_interested"] != 1]
    interested = eligible[eligible["scr_interested"] == 1]
    groups = (
        Reason("Not eligible", len(ineligible),
               _coded_reasons(ineligible["scr_inelig_reason"], "scr_inelig_reason")),
        Reason("Eligible but did not express interest", len(not_interested)),
    )
    excluded = SideBox("Excluded", len(ineligible) + len(not_interested),
                       tuple(g for g in groups if g.n))
    not_recruited = SideBox("Not recruited", len(interested), _coded_reasons(
        interested["scr_not_enrolled_reason"], "scr_not_enrolled_reason"))
    return excluded, not_recruited


def _status_type(dropout_reason: pd.Series) -> pd.Series:
    """The status change of a ``dropout_reason`` ("Withdrew: multiple dental operations")."""
    text = dropout_reason.astype(object)
    return text.map(lambda t: t.split(": ", 1)[0] if isinstance(t, str) else None)


def _grouped_reasons(reasons: pd.Series) -> tuple[Reason, ...]:
    """Reasons "<status change>: <reason>" grouped by status change, each with its reasons;
    a reason without a status change stands alone. Most frequent first, ties alphabetical."""
    text = reasons.astype(object).where(reasons.notna(), NOT_RECORDED).astype(str)
    kind = text.map(lambda t: t.split(": ", 1)[0])
    detail = text.map(lambda t: t.split(": ", 1)[1] if ": " in t else "")
    groups = []
    for label, n in sorted(kind.value_counts().items(), key=lambda item: (-item[1], item[0])):
        inner = detail[kind == label]
        sub = () if (inner == "").all() else tuple(
            Reason(r.label[:1].upper() + r.label[1:], r.n) for r in _text_reasons(inner))
        groups.append(Reason(str(label), int(n), sub))
    return tuple(groups)


def _odd(ids: pd.Series, mask: pd.Series) -> list[str]:
    return sorted(ids[mask].astype(str))


def consort_counts(screening: pd.DataFrame, participants: pd.DataFrame) -> Flow:
    """Count every box of Figure 1 from the screening log and the ``Participants`` dataset.

    Raises ``ValueError`` naming the record_ids when the stages do not add up (e.g. someone
    placed who withdrew after baseline, or not placed without a reason).
    """
    excluded, not_recruited = screening_exclusions(screening)
    interested = len(screening) - excluded.n
    ids = participants["record_id"]
    attended_wp = int(participants["attended_work_preparation"].fillna(False).astype(bool).sum())
    main = [MainBox("Assessed for eligibility", len(screening)),
            MainBox("Eligible and expressed interest", interested),
            MainBox("Recruited and baseline assessed", len(participants),
                    (f"Attended work preparation, {format_n(attended_wp)}",))]
    side = [excluded, not_recruited]

    dropout = participants["dropout"].fillna(False).astype(bool)
    status = _status_type(participants["dropout_reason"].where(dropout))
    after_baseline = dropout & status.isin(AFTER_BASELINE)
    placed = participants["placed"].fillna(False).astype(bool)
    if (placed & after_baseline).any():
        raise ValueError(f"placed, yet excluded or withdrew after baseline: record_id "
                         f"{_odd(ids, placed & after_baseline)}: check placed and dropout_reason")
    groups = _grouped_reasons(participants.loc[after_baseline, "dropout_reason"])
    order = {label: i for i, label in enumerate(AFTER_BASELINE)}
    side.append(SideBox(AFTER_BASELINE_TITLE, int(after_baseline.sum()),
                        tuple(sorted(groups, key=lambda g: order.get(g.label, len(order))))))
    main.append(MainBox(CONTINUED, int((~after_baseline).sum())))

    not_placed = ~after_baseline & ~placed
    why = participants["dropout_reason"].where(dropout, participants["not_placed_reason"])
    unexplained = not_placed & why.isna()
    if unexplained.any():
        raise ValueError(f"not placed, with no reason (dropout_reason or not_placed_reason): "
                         f"record_id {_odd(ids, unexplained)}")
    side.append(SideBox("Not placed", int(not_placed.sum()), _grouped_reasons(why[not_placed])))
    main.append(MainBox("Matched and attended a placement", int(placed.sum())))

    completed = placed & participants["completed_placement"].fillna(False).astype(bool)
    left = placed & ~completed
    unexplained = left & participants["not_completed_reason"].isna()
    if unexplained.any():
        raise ValueError(f"'Completed the six-week placement' is not 'Matched and attended a "
                         f"placement' minus 'Did not complete the placement' for record_id "
                         f"{_odd(ids, unexplained)}: check completed_placement and "
                         "not_completed_reason")
    side.append(SideBox("Did not complete the placement", int(left.sum()),
                        _text_reasons(participants.loc[left, "not_completed_reason"])))
    main.append(MainBox("Completed the six-week placement", int(completed.sum())))
    enrolled = int((screening["scr_enrolled"] == 1).sum())
    if enrolled != len(participants):
        raise ValueError(f"Recruited and baseline assessed: the screening log enrols {enrolled}, "
                         f"but there are {len(participants)} participants")
    follow_up = tuple(
        FollowUpBox(tp, int((participants[f"fu_status_{tp}"] == "returned").sum()),
                    int((participants[f"fu_status_{tp}"] != "not expected").sum()))
        for tp in FOLLOW_UP_TIMEPOINTS)
    return Flow(tuple(main), tuple(side), follow_up)


# ----------------------------------------------------------------------------- words
def _reason_words(reason: Reason) -> str:
    words = f"{reason.label}, {format_n(reason.n)}"
    if reason.detail:
        words += " (" + "; ".join(_reason_words(r) for r in reason.detail) + ")"
    return words


def follow_up_text(box: FollowUpBox) -> str:
    return f"at {box.label}, {box.returned:,} of {box.expected:,} expected returned and analysed"


def consort_alt_text(flow: Flow) -> str:
    """Every box of the diagram in words, top to bottom."""
    sentences = [f"CONSORT flow diagram. {flow.main[0].label}: {format_n(flow.main[0].n)}."]
    for left, after in zip(flow.side, flow.main[1:]):
        leaving = f"{left.title}: {format_n(left.n)}"
        if left.reasons:
            leaving += " (" + "; ".join(_reason_words(r) for r in left.reasons) + ")"
        notes = "".join(f" {note}." for note in after.notes)
        sentences += [leaving + ".", f"{after.label}: {format_n(after.n)}.{notes}"]
    if flow.follow_up:
        sentences.append(FOLLOW_UP_HEADING + ": " + "; ".join(
            follow_up_text(box) for box in flow.follow_up) + ".")
    return " ".join(sentences)


# ----------------------------------------------------------------------------- layout
# All lengths in inches; the diagram is as wide as the printed text (figures/common.py)
# and its type prints at TEXT_SIZE, so that it fits a page without being scaled down.
TEXT_SIZE = SMALL_FONT_SIZE  # points
PAD = 0.06                 # text to box edge
MAIN_TEXT_WIDTH = 2.2
SIDE_GAP = 0.3             # main column to side boxes
MARGIN = 0.06
# side boxes take the rest of the printed text width
SIDE_TEXT_WIDTH = TEXT_WIDTH_IN - 2 * MARGIN - (MAIN_TEXT_WIDTH + 2 * PAD) - SIDE_GAP - 2 * PAD
FOLLOW_UP_TEXT_WIDTH = 1.55
ROW_GAP = 0.15             # between follow-up boxes
V_GAP = 0.08               # vertical space around side boxes and arrows
INDENT = 0.16              # per reason level
BULLET = 0.13              # bullet to reason text
ITEM_GAP = 0.015           # between reasons
LINE_SPACING = 1.10        # baseline to baseline, in font sizes
FOLLOW_UP_HEADING = "Follow-up of everyone recruited (those who dropped out are not expected)"


@dataclass
class _Line:
    text: str
    indent: float = 0.0
    bullet: str = ""
    bold: bool = False


@dataclass
class _Box:
    """A box's text artists, measured, and (once laid out) its position."""

    gid: str
    texts: list[tuple[Text, float, float]]    # artist, x from text edge, baseline below text top
    text_width: float
    text_height: float
    centred: bool
    fill: str = "white"
    x: float = 0.0           # left, inches
    top: float = 0.0         # top, inches down from the figure's top edge
    width: float = 0.0
    height: float = 0.0

    def __post_init__(self) -> None:
        self.width = self.text_width + 2 * PAD
        self.height = self.text_height + 2 * PAD

    @property
    def centre_x(self) -> float:
        return self.x + self.width / 2


def _baseline_text(fig: Figure, text: str, gid: str, prop: FontProperties,
                   ha: str) -> tuple[Text, float, float, float]:
    """One line of text on its baseline, with its measured width, ascent and descent (inches)."""
    artist = fig.text(0, 0, text, fontproperties=prop, va="baseline", ha=ha, parse_math=False,
                      transform=fig.dpi_scale_trans, gid=gid)
    extent = artist.get_window_extent(fig.canvas.get_renderer())
    return artist, extent.width / fig.dpi, extent.y1 / fig.dpi, -extent.y0 / fig.dpi


def _text_box(fig: Figure, gid: str, lines: list[_Line], wrap_width: float,
              centred: bool = False, fill: str = "white") -> _Box:
    """Wrap and measure a box's lines: one artist per printed line, so bullets sit on the
    baseline of their reason's first line and every line's extent is known."""
    texts: list[tuple[Text, float, float]] = []
    ha = "center" if centred else "left"
    pitch = LINE_SPACING * TEXT_SIZE / 72
    width = 0.0
    baseline = None          # of the previous printed line, inches below the text top
    descent = 0.0
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
                    fig, line.bullet, f"{gid}-b{i}", font(TEXT_SIZE), "left")
                placed.append((bullet, line.indent))
                ascent, below = max(ascent, b_ascent), max(below, b_below)
            if baseline is None:
                baseline = ascent
            else:
                gap = ITEM_GAP if k == 0 else 0.0
                baseline += max(pitch, descent + ascent) + gap
            texts += [(a, dx, baseline) for a, dx in placed]
            width = max(width, x + w)
            descent = below
    return _Box(gid, texts, width, (baseline or 0.0) + descent, centred, fill)


def _main_lines(box: MainBox) -> list[_Line]:
    return [_Line(box.label), _Line(format_n(box.n))] + [_Line(note) for note in box.notes]


def _reason_lines(reasons: tuple[Reason, ...], level: int = 0) -> list[_Line]:
    lines = []
    for reason in reasons:
        lines.append(_Line(f"{reason.label} ({format_n(reason.n)})", indent=level * INDENT,
                           bullet="\u2022" if level == 0 else "\u2013"))
        lines += _reason_lines(reason.detail, level + 1)
    return lines


def _side_lines(box: SideBox) -> list[_Line]:
    return [_Line(f"{box.title} ({format_n(box.n)})", bold=True)] + _reason_lines(box.reasons)


def _follow_up_lines(box: FollowUpBox) -> list[_Line]:
    return [_Line(box.label, bold=True), _Line("Returned and analysed"),
            _Line(f"{format_n(box.returned)} of {box.expected:,} expected")]


def draw_consort(flow: Flow) -> Figure:
    """Draw Figure 1; the figure is as large as its measured content needs."""
    with figure_style():
        fig = new_figure(1, 1)
        main = [_text_box(fig, f"main{i}", _main_lines(b), MAIN_TEXT_WIDTH, centred=True)
                for i, b in enumerate(flow.main)]
        side = [_text_box(fig, f"side{i}", _side_lines(b), SIDE_TEXT_WIDTH)
                for i, b in enumerate(flow.side)]
        follow = [_text_box(fig, f"followup{i}", _follow_up_lines(b), FOLLOW_UP_TEXT_WIDTH,
                            centred=True) for i, b in enumerate(flow.follow_up)]

        main_width = max(b.width for b in main)
        for b in main:
            b.width = main_width
        spine_x = MARGIN + main_width / 2
        side_x = MARGIN + main_width + SIDE_GAP
        y = MARGIN
        for i, box in enumerate(main):
            box.x, box.top = MARGIN, y
            y += box.height + V_GAP
            if i < len(side):
                side[i].x, side[i].top = side_x, y
                y += side[i].height + V_GAP
        width = max([side_x + b.width for b in side] + [MARGIN + main_width])

        heading = None
        if follow:
            row_width = _lay_out_row(follow, width - MARGIN)
            heading = _text_box(fig, "followup-heading", [_Line(FOLLOW_UP_HEADING, bold=True)],
                                row_width - 2 * PAD, centred=True, fill="#e8e8e8")
            heading.width = row_width
            heading.x, heading.top = MARGIN, y
            y += heading.height + V_GAP / 2
            for b in follow:
                b.top = y
            y += follow[0].height
            width = max(width, MARGIN + row_width)

        fig_width, fig_height = width + MARGIN, y + MARGIN
        fig.set_size_inches(fig_width, fig_height)
        boxes = main + side + follow + ([heading] if heading else [])
        for box in boxes:
            _place(fig, box, fig_height)
        for upper, left, lower in zip(main, side, main[1:]):
            _arrow(fig, (spine_x, upper.top + upper.height), (spine_x, lower.top), fig_height)
            mid = left.top + left.height / 2
            _arrow(fig, (spine_x, mid), (left.x, mid), fig_height)
    return fig


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
    fig.add_artist(Rectangle((box.x, bottom), box.width, box.height, transform=fig.dpi_scale_trans,
                             facecolor=box.fill, edgecolor="black", linewidth=0.8, gid=box.gid))
    # text block centred vertically (follow-up boxes share the tallest one's height)
    text_top = fig_height - box.top - (box.height - box.text_height) / 2
    for artist, dx, baseline in box.texts:
        x = box.centre_x if artist.get_ha() == "center" else box.x + PAD + dx
        artist.set_position((x, text_top - baseline))


def _arrow(fig: Figure, start: tuple[float, float], end: tuple[float, float],
           fig_height: float) -> None:
    fig.add_artist(FancyArrowPatch(
        (start[0], fig_height - start[1]), (end[0], fig_height - end[1]),
        transform=fig.dpi_scale_trans, arrowstyle="-|>", mutation_scale=9, shrinkA=0,
        shrinkB=0, linewidth=0.8, color="black"))


# ----------------------------------------------------------------------------- output
def make_consort(screening: pd.DataFrame, participants: pd.DataFrame,
                 svg_path: str | os.PathLike, png_path: str | os.PathLike) -> Flow:
    """Count, draw and save Figure 1 (SVG, PNG and ``<stem>.alt.txt``); returns the counts."""
    flow = consort_counts(screening, participants)
    save_figure(draw_consort(flow), svg_path, png_path, consort_alt_text(flow), TITLE)
    return flow
