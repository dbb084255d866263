"""Figures by kind, from their declarations: counts worked out by hand on the hand-made
project of tests/figures_fixtures.py, the drawn boxes of the CONSORT diagrams against the
flow's counts, layout (no overlap, nothing outside its box or the figure, every text at
7 pt or more at its printed size), the saved files, the paper's three figures word for
word as main drew them (tests/regression/figures/), and the full trial's CONSORT 2010
diagram with two arms."""

from __future__ import annotations

import itertools
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib as mpl
import pandas as pd
import pytest
import yaml
from matplotlib.text import Text
from PIL import Image

import figures_fixtures as fx
from feasibility.figures import common, completeness, flow, recruitment
from feasibility.figures.build import caption, figure_paths, make_figure
from feasibility.figures.flow import ArmBox, ChainBox, Diagram, FollowUpBox, Item, SideBox
from feasibility.figures.spec import load_figures, schema

ROOT = Path(__file__).resolve().parents[1]
REGRESSION = ROOT / "tests" / "regression" / "figures"
sys.path.insert(0, str(REGRESSION))
from svg_text import svg_text  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"


# ----------------------------------------------------------------------------- helpers
def svg_groups(path) -> dict[str, str]:
    """Each ``<g id=...>`` holding a text, with its text (a figure's drawn words by gid)."""
    out = {}
    for g in ET.parse(path).getroot().iter(f"{SVG}g"):
        texts = [t for t in g if t.tag == f"{SVG}text"]
        if texts and g.get("id"):
            out[g.get("id")] = "".join("".join(t.itertext()) for t in texts)
    return out


LINE = re.compile(r"(?:^|\s|\()n = ([\d,]+)\)?$")


def drawn_boxes(path) -> dict[str, list[tuple[int, str, int | None]]]:
    """Drawn box gid -> its lines in order as (level, words, n): level 0 for a line without
    a bullet, 1 for "•", 2 for "–"; wrapped parts of a line joined."""
    groups = svg_groups(path)
    lines: dict[str, dict[int, dict]] = {}
    for gid, text in groups.items():
        m = re.fullmatch(r"(.+)-([tb])(\d+)(?:\.(\d+))?", gid)
        if not m:
            continue
        box, kind, i, k = m[1], m[2], int(m[3]), int(m[4] or 0)
        line = lines.setdefault(box, {}).setdefault(i, {"parts": {}, "bullet": ""})
        if kind == "b":
            line["bullet"] = text
        else:
            line["parts"][k] = text
    out = {}
    for box, by_index in lines.items():
        rows = []
        for i in sorted(by_index):
            words = " ".join(by_index[i]["parts"][k] for k in sorted(by_index[i]["parts"]))
            level = {"": 0, "\u2022": 1, "\u2013": 2}[by_index[i]["bullet"]]
            m = LINE.search(words)
            rows.append((level, words, int(m[1].replace(",", "")) if m else None))
        out[box] = rows
    return out


def assert_drawn_boxes_add_up(boxes: dict[str, list]) -> int:
    """Within every drawn box, each counted line is the sum of the lines under it (its
    bullets, their reasons); returns how many sums were checked."""
    checked = 0
    for box, rows in boxes.items():
        for i, (level, words, n) in enumerate(rows):
            children = []
            for lv, _, m in rows[i + 1 :]:
                if lv <= level:
                    break
                if lv == level + 1:
                    children.append(m)
            if children and n is not None:
                assert n == sum(children), (box, words, children)
                checked += 1
    return checked


def count_of(rows, label: str, level: int | None = None) -> int:
    """The n of the line of ``rows`` (at ``level``) that names ``label``."""
    found = [
        n
        for lv, words, n in rows
        if (level is None or lv == level)
        and any(words.startswith(label + sep) for sep in (" (n = ", ", n = ", " n = "))
    ]
    assert len(found) == 1, (label, rows)
    return found[0]


def chain_count(rows) -> int:
    """A main box's count: its ``n = ...`` line."""
    return next(n for _, words, n in rows if words.startswith("n = "))


def boxes_and_texts(fig):
    """Every drawn box (by gid) and the texts that belong to it (gid '<box>-...')."""
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    boxes = {
        r.get_gid(): r.get_window_extent(renderer)
        for r in fig.findobj(lambda a: isinstance(a, mpl.patches.Patch) and a.get_gid())
    }
    texts = [
        (t.get_gid(), t.get_window_extent(renderer), t.get_text()) for t in fig.findobj(Text) if t.get_gid()
    ]
    return boxes, texts


def assert_flow_layout_ok(fig, n_boxes: int):
    boxes, texts = boxes_and_texts(fig)
    assert len(boxes) == n_boxes, sorted(boxes)
    for (a, box_a), (b, box_b) in itertools.combinations(boxes.items(), 2):
        overlap_w = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
        overlap_h = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
        assert overlap_w <= 0 or overlap_h <= 0, f"boxes {a} and {b} overlap"
    figure = fig.bbox
    assert texts
    for gid, extent, text in texts:
        owner = gid.rsplit("-", 1)[0]
        box = boxes[owner]
        assert text.strip(), gid
        assert box.x0 < extent.x0 and extent.x1 < box.x1 and box.y0 < extent.y0 and extent.y1 < box.y1, (
            f"{gid} {text[:30]!r} leaves box {owner}"
        )
        assert (
            figure.x0 <= extent.x0
            and extent.x1 <= figure.x1
            and figure.y0 <= extent.y0
            and extent.y1 <= figure.y1
        ), f"{gid} leaves the figure"


def assert_texts_inside_figure(fig):
    fig.draw_without_rendering()  # run the constrained layout first
    renderer = fig.canvas.get_renderer()
    for text in fig.findobj(Text):
        if text.get_visible() and text.get_text().strip():
            extent = text.get_window_extent(renderer)
            assert fig.bbox.x0 - 1 <= extent.x0 and extent.x1 <= fig.bbox.x1 + 1, text.get_text()
            assert fig.bbox.y0 - 1 <= extent.y0 and extent.y1 <= fig.bbox.y1 + 1, text.get_text()


def assert_printed_size_ok(svg_path, max_height=common.MAX_FIGURE_HEIGHT_IN):
    """The SVG is at most the A4 text block (its width and height in points are its printed
    size) and every text in it is 7 pt or more."""
    root = ET.parse(svg_path).getroot()
    width = float(root.get("width").removesuffix("pt")) / 72
    height = float(root.get("height").removesuffix("pt")) / 72
    assert width <= common.TEXT_WIDTH_IN + 1e-6 and height <= max_height, (width, height)
    sizes = [float(m) for m in re.findall(r"font-size: ([\d.]+)px", Path(svg_path).read_text())]
    assert sizes and min(sizes) >= common.MIN_FONT_SIZE, sorted(set(sizes))


# ----------------------------------------------------------------------------- declarations
def test_the_schemas_defaults_are_the_loaders_defaults():
    defs = schema()["$defs"]
    cfg = {
        "figures": {
            "f": {"kind": "flow"},
            "r": {"kind": "recruitment", "date": "d"},
            "c": {"kind": "completeness"},
        }
    }
    figs = load_figures(cfg)
    for fid, kind in (("f", "flow"), ("r", "recruitment"), ("c", "completeness")):
        for key, prop in defs[kind]["properties"].items():
            if "default" in prop and key not in ("series",):
                got = getattr(figs[fid], key)
                if key == "stages":
                    got = {}  # the schema's {} means every stage keeps its default
                if isinstance(got, tuple):
                    got = list(got)
                assert got == prop["default"] or (
                    key == "y_label" and got == ("Cumulative number of participants")
                ), (kind, key, got)
    for key in ("label", "caption", "synthetic_note", "title"):
        assert defs["figure"]["properties"][key]["default"] is None
    assert figs["f"].label == "Figure 1" and figs["c"].label == "Figure 3"
    assert figs["c"].caption == "Completeness of follow-up by form and time point"
    assert figs["c"].title == figs["c"].caption


def test_every_key_of_the_schema_has_a_description():
    def walk(node, where):
        if isinstance(node, dict) and "if" in node:
            node = {k: v for k, v in node.items() if k != "if"}  # a condition, not keys
        if isinstance(node, dict):
            for key, prop in (node.get("properties") or {}).items():
                assert "description" in prop or "$ref" in prop, f"{where}.{key}"
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    walk(schema(), "schema")


@pytest.mark.parametrize(
    "figures, message",
    [
        ({"x": {"kind": "flow", "series": []}}, "'series' was unexpected"),
        ({"x": {"kind": "chart"}}, "'chart' is not one of"),
        ({"X": {"kind": "flow"}}, "does not match"),
        ({"x": {"kind": "recruitment"}}, "needs a date or series"),
        ({"x": {"kind": "recruitment", "date": "consent_date +"}}, "figures.x.date"),
        ({"x": {"kind": "completeness", "rows": [{"form": "a"}, {"form": "a"}]}}, "listed twice"),
    ],
)
def test_declarations_that_cannot_be_drawn_are_refused_by_name(figures, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        load_figures({"figures": figures})


def test_the_shipped_declarations_load():
    paper = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    assert list(load_figures(paper)) == ["consort", "timeline", "completeness"]
    trial = yaml.safe_load((ROOT / "config" / "studies" / "full-trial.yaml").read_text())
    figs = load_figures(trial)
    assert [f.kind for f in figs.values()] == [
        "flow",
        "recruitment",
        "completeness",
        "tipping_point",
        "forest",
    ]


# ----------------------------------------------------------------------------- flow: one column
@pytest.fixture
def single():
    cfg = fx.config()
    return cfg, fx.analysis(cfg)


def column(analysis, cfg, fid="flow"):
    from feasibility.analysis.flow import consort_flow

    return flow.diagram(consort_flow(analysis), fx.figure(cfg, fid), analysis)


def test_the_single_column_matches_the_hand_count(single):
    cfg, analysis = single
    d = column(analysis, cfg)
    # 12 screened; 4 excluded (3 not eligible: R09 too young, R10 and R12 working; R11
    # declined) -> 8 enrolled (7 attended a session: all but R07); 2 left (R07 moved away,
    # R08 withdrew consent) -> 6 continued; 2 did not complete (R05 illness, R06 found work)
    # -> 4 completed
    assert [(c.label, c.n) for c in d.chain] == [
        ("Assessed for eligibility", 12),
        ("Enrolled", 8),
        ("Continued", 6),
        ("Completed", 4),
    ]
    assert d.chain[1].notes == (Item("Attended a session", 7, box="attended", reason=""),)
    assert [[(s.label, s.n) for s in gap] for gap in d.sides] == [
        [("Excluded", 4)],
        [("Left the study", 2)],
        [("Did not complete", 2)],
    ]
    excluded = d.sides[0][0]
    assert [(i.label, i.n, [(c.label, c.n) for c in i.children]) for i in excluded.items] == [
        ("Not eligible", 3, [("Too young", 1), ("Working", 2)]),
        ("Declined", 1, []),
    ]
    # reasons in the dictionary's order (declared): Illness (code 1) before Found work
    assert [(i.label, i.n) for i in d.sides[2][0].items] == [("Illness", 1), ("Found work", 1)]
    # 6 weeks: R01 R02 R03 R05 of R01-R06; 6 months: R01 R02 R06 (R07, R08 left: not expected)
    assert [(b.label, b.returned, b.expected) for b in d.follow_up] == [("6 weeks", 4, 6), ("6 months", 3, 6)]
    for box, children in d.outflows():
        assert box.n == sum(c.n for c in children), box


def test_one_completion_moves_one_person_between_two_boxes(single):
    cfg, _ = single
    delivery = fx.forms()["delivery"]
    delivery.loc[delivery["record_id"] == "R05", ["del_completed", "del_reason"]] = [1, pd.NA]
    d = column(fx.analysis(cfg, {"delivery": delivery}), cfg)
    assert [c.n for c in d.chain] == [12, 8, 6, 5]  # only "completed" rises
    assert [(i.label, i.n) for i in d.sides[2][0].items] == [("Found work", 1)]
    assert [[s.n for s in gap] for gap in d.sides] == [[4], [2], [1]]


def test_reasons_by_frequency_and_in_groups(single):
    cfg, _ = single
    cfg["flow"]["consort"][1]["reasons"] = (
        "if_else(screening.scr_eligible == 0, concat('Not eligible: ', label(screening.scr_reason)),"
        " 'Declined')"
    )
    cfg["flow"]["consort"] = [
        b for b in cfg["flow"]["consort"] if b["id"] not in ("not_eligible", "declined")
    ]
    cfg["figures"]["flow"]["boxes"] = {"excluded": {"reason_order": "frequency", "group_reasons": ": "}}
    d = column(fx.analysis(cfg), cfg)
    excluded = d.sides[0][0]
    # groups most frequent first; within "Not eligible", Working (2) before Too young (1)
    assert [(i.label, i.n, [(c.label, c.n) for c in i.children]) for i in excluded.items] == [
        ("Not eligible", 3, [("Working", 2), ("Too young", 1)]),
        ("Declined", 1, []),
    ]


def test_a_box_neither_in_the_column_nor_a_note_is_an_error(single):
    cfg, _ = single
    cfg["figures"]["flow"]["notes"] = {}
    with pytest.raises(ValueError, match="'attended' of flow.consort are neither in the diagram"):
        column(fx.analysis(cfg), cfg)
    cfg["figures"]["flow"]["notes"] = {"enroled": ["attended"]}
    with pytest.raises(ValueError, match="'enroled' is not a box of flow.consort"):
        column(fx.analysis(cfg), cfg)


def test_the_diagram_checks_its_arithmetic():
    with pytest.raises(ValueError, match="not the sum of what flows out of it"):
        Diagram((ChainBox("a", "A", 10), ChainBox("b", "B", 7)), ((SideBox("s", "Left", 2),),))
    with pytest.raises(ValueError, match="adds up to 1"):
        Diagram(
            (ChainBox("a", "A", 10), ChainBox("b", "B", 7)), ((SideBox("s", "Left", 3, (Item("x", 1),)),),)
        )


def test_the_single_column_drawn(single, tmp_path):
    cfg, analysis = single
    fig, alt, table = flow.make(analysis, fx.figure(cfg, "flow"))
    # 4 main + 3 side + 2 follow-up + the follow-up heading
    assert_flow_layout_ok(fig, 10)
    common.save_figure(fig, tmp_path / "f.svg", tmp_path / "f.png", alt, "t")
    boxes = drawn_boxes(tmp_path / "f.svg")
    assert [chain_count(boxes[b]) for b in ("assessed", "enrolled", "continued", "completed")] == [
        12,
        8,
        6,
        4,
    ]
    assert "Attended a session, n = 7" in [w for _, w, _ in boxes["enrolled"]]
    assert boxes["excluded"] == [
        (0, "Excluded (n = 4)", 4),
        (1, "Not eligible (n = 3)", 3),
        (2, "Too young (n = 1)", 1),
        (2, "Working (n = 2)", 2),
        (1, "Declined (n = 1)", 1),
    ]
    assert assert_drawn_boxes_add_up(boxes) >= 3
    # each main box is the next one plus the side box between them, as drawn
    for upper, side, lower in (
        ("assessed", "excluded", "enrolled"),
        ("enrolled", "left", "continued"),
        ("continued", "not_completed", "completed"),
    ):
        assert chain_count(boxes[upper]) == boxes[side][0][2] + chain_count(boxes[lower])
    assert [w for _, w, _ in boxes["followup0"]] == ["6 weeks", "Returned", "n = 4 of 6 expected"]
    assert alt.startswith(
        "CONSORT flow diagram. Assessed for eligibility: n = 12. Excluded: n = 4 "
        "(Not eligible, n = 3 (Too young, n = 1; Working, n = 2); Declined, n = 1)."
    )
    assert "at 6 months, 3 of 6 expected returned." in alt
    assert set(table.loc[table["what"] == "follow_up", "n"]) == {4, 3, 6}


def test_side_boxes_run_alongside_the_column_so_the_diagram_is_short(single):
    cfg, analysis = single
    fig = flow.make(analysis, fx.figure(cfg, "flow"))[0]
    boxes, _ = boxes_and_texts(fig)
    # the first side box starts beside the first main box's gap, above the second main box
    assert boxes["excluded"].y1 > boxes["enrolled"].y1
    # every side arrow leaves the column between the two boxes it explains
    arrows = fig.findobj(mpl.patches.FancyArrowPatch)
    assert len(arrows) == 3 + 3
    for arrow in arrows:
        (x0, y0), (x1, y1) = arrow._posA_posB
        if y0 == y1:  # a side arrow: between two main boxes, at its side box's first line
            assert any(
                boxes[lo].y1 < y0 * fig.dpi < boxes[up].y0
                for up, lo in (
                    ("assessed", "enrolled"),
                    ("enrolled", "continued"),
                    ("continued", "completed"),
                )
            )


# ----------------------------------------------------------------------------- flow: arms
@pytest.fixture
def two_arms():
    cfg = fx.config(arms=True)
    return cfg, fx.analysis(cfg)


def test_the_arms_match_the_hand_count(two_arms):
    cfg, analysis = two_arms
    d = column(analysis, cfg)
    assert [(c.label, c.n) for c in d.chain] == [("Assessed for eligibility", 12), ("Randomised", 8)]
    assert d.arms == (("1", "Treatment"), ("2", "Control"))
    stages = {stage: {b.arm: b for b in boxes} for stage, boxes in d.stages}
    assert list(stages) == ["allocation", "follow_up", "analysis"]

    def tree(items):
        return [(i.label, i.n, tree(i.children)) for i in items]

    def words(box):
        return tree(box.items)

    # arm 1: R01 R03 R05 R07 (R07 did not attend: too far; moved away); arm 2: R02 R04 R06 R08
    assert words(stages["allocation"]["1"]) == [
        (
            "Allocated to Treatment",
            4,
            [
                ("Received allocated intervention", 3, []),
                ("Did not receive allocated intervention", 1, [("Too far", 1, [])]),
            ],
        )
    ]
    assert words(stages["allocation"]["2"]) == [
        (
            "Allocated to Control",
            4,
            [("Received allocated intervention", 4, []), ("Did not receive allocated intervention", 0, [])],
        )
    ]
    assert words(stages["follow_up"]["2"]) == [("Lost to follow-up", 1, [("Withdrew consent", 1, [])])]
    # analysed: a 6-month questionnaire: R01 in arm 1; R02 and R06 in arm 2
    assert words(stages["analysis"]["1"]) == [
        ("Analysed", 1, []),
        ("Excluded from analysis", 3, [("Moved away", 1, []), ("No 6-month questionnaire", 2, [])]),
    ]
    assert [(w[0], w[1]) for w in words(stages["analysis"]["2"])] == [
        ("Analysed", 2),
        ("Excluded from analysis", 2),
    ]
    sums = {
        (getattr(b, "box", None) or getattr(b, "label")): (b.n, [c.n for c in ch]) for b, ch in d.outflows()
    }
    assert sums["randomised"] == (8, [4, 4])


def test_the_arms_drawn_boxes_add_up_from_the_frame(two_arms, tmp_path):
    cfg, analysis = two_arms
    fig, alt, table = flow.make(analysis, fx.figure(cfg, "flow"))
    # 2 main + 1 side + 3 stages x 2 arms + 4 stage headings
    assert_flow_layout_ok(fig, 13)
    common.save_figure(fig, tmp_path / "f.svg", tmp_path / "f.png", alt, "t")
    assert_printed_size_ok(tmp_path / "f.svg")
    check_drawn_against_frame(drawn_boxes(tmp_path / "f.svg"), table)


def test_a_diagram_of_arms_only(two_arms):
    cfg, _ = two_arms
    cfg["flow"]["consort"] = [
        {"id": "eligible", "stage": "enrolment", "per_arm": True, "label": "Eligible", "count": "enrolled"},
        {k: v for k, v in fx.TWO_ARM_BOXES[3].items() if k != "part_of"},
        *fx.TWO_ARM_BOXES[7:],
    ]
    fig, alt, table = flow.make(fx.analysis(cfg), fx.figure(cfg, "flow"))
    # no column over everyone: a row per stage, with its heading, two arms each
    assert_flow_layout_ok(fig, 3 * 2 + 3)
    assert "Analysis, by arm. Treatment: Analysed, n = 1; Excluded from analysis, n = 3" in alt


def check_drawn_against_frame(boxes: dict, frame: pd.DataFrame) -> None:
    """Every count of the flow's frame is drawn in its box, and every drawn box is the sum
    of what flows out of it (the frame's part_of), read from the drawing."""
    frame = frame[frame["what"] == "box"]
    assert assert_drawn_boxes_add_up(boxes) > 0
    stage_of = dict(zip(frame["box"], frame["stage"]))
    parent_of = dict(zip(frame["box"], frame["part_of"]))

    def drawn(box: str, arm: str) -> int:
        label = frame.loc[(frame["box"] == box) & (frame["arm"] == arm), "label"].iloc[0]
        if arm:  # a line of its arm's box: a bullet when part of a box of the same stage
            level = int(stage_of.get(parent_of[box]) == stage_of[box])
            return count_of(boxes[f"{stage_of[box]}.{arm}"], label, level)
        if box in boxes and any(w.startswith("n = ") for _, w, _ in boxes[box]):
            return chain_count(boxes[box])  # a main box
        if box in boxes:
            return boxes[box][0][2]  # a side box's title
        return count_of([r for rows in boxes.values() for r in rows], label)

    own = frame[frame["reason"] == ""]
    for row in own.itertuples():
        assert drawn(row.box, row.arm) == row.n, (row.box, row.arm)
    arms = sorted(set(frame["arm"]) - {""})
    for (parent, stage), parts in own[own["part_of"] != ""].groupby(["part_of", "stage"]):
        for arm in arms if (own.loc[own["box"] == parent, "arm"] != "").any() else [""]:
            mine = parts if not arm else parts[parts["arm"] == arm]
            children = sum(drawn(r.box, r.arm) for r in mine.itertuples())
            assert drawn(parent, arm) == children, (parent, stage, arm)
    for row in frame[frame["reason"] != ""].itertuples():
        owner = f"{stage_of[row.box]}.{row.arm}" if row.arm else None
        rows = boxes[owner] if owner else [r for rs in boxes.values() for r in rs]
        shown = row.reason.split(": ")[-1]  # "<group>: <detail>" reasons shown grouped
        assert any(w.lower().endswith(f"{shown} (n = {row.n})".lower()) for _, w, _ in rows), row


# ----------------------------------------------------------------------------- flow: stress
LONG = (
    "Withdrew because the placement offered was too far from home and public transport "
    "was unreliable on the days required, after discussing alternatives with the case "
    "manager twice at length and then"
)[:200]


def stress_diagram(kind: str) -> Diagram:
    """Hand-made diagrams: 200-character reasons (one a single word), 15 reasons, 100000s."""
    big = 10000 if kind == "counts of 100000" else 1
    if kind == "long reasons":
        side = SideBox("s1", "Not placed", 12, (Item(LONG, 5), Item("x" * 200, 4), Item(LONG.upper(), 3)))
    elif kind == "fifteen reasons":
        side = SideBox(
            "s1",
            "Not placed",
            15,
            tuple(Item(f"Reason number {i} " + "because of something " * (i % 4), 1) for i in range(15)),
        )
    else:
        side = SideBox(
            "s1",
            "Not placed",
            40000,
            (Item("Disengaged after offer", 30000), Item("No suitable placement in area", 10000)),
        )
    n_placed = 20 * big
    n_attended = n_placed + side.n
    return Diagram(
        (
            ChainBox("m0", "Assessed for eligibility", n_attended + 5 * big),
            ChainBox("m1", "Attended work preparation", n_attended),
            ChainBox(
                "m2",
                "Matched and attended a placement " + ("and " + LONG if kind == "long reasons" else ""),
                n_placed,
            ),
            ChainBox("m3", "Completed the six-week placement", n_placed - big),
        ),
        (
            (
                SideBox(
                    "s0",
                    "Excluded " + ("with a very long title " * 8 if kind == "long reasons" else ""),
                    5 * big,
                    (Item("Not eligible", 5 * big),),
                ),
            ),
            (side,),
            (SideBox("s2", "Did not complete the placement", big, (Item("Health reasons", big),)),),
        ),
        follow_up=(
            FollowUpBox("week6", "6 weeks", 9 * big, 10 * big),
            FollowUpBox("week14", "14 weeks", 100000, 100000),
            FollowUpBox("month6", "6 months", 0, 100000),
        ),
        follow_up_heading="Follow-up",
        follow_up_label="Returned",
    )


@pytest.mark.parametrize("kind", ["long reasons", "fifteen reasons", "counts of 100000"])
def test_the_column_layout_under_stress(kind):
    fig = flow.draw(stress_diagram(kind))
    assert_flow_layout_ok(fig, 4 + 3 + 3 + 1)
    # the text was wrapped, not allowed to widen the figure past the printed width
    assert fig.get_size_inches()[0] <= common.TEXT_WIDTH_IN


def test_arm_boxes_under_stress():
    many = tuple(Item(f"Reason {i} " + "with more words " * (i % 5), 1) for i in range(12))
    boxes = tuple(
        ArmBox(
            "allocation",
            code,
            label,
            (
                Item(
                    f"Allocated to {label}",
                    12 * 10000,
                    (
                        Item("Received allocated intervention", 0),
                        Item("Did not receive", 12 * 10000, tuple(Item(r.label, 10000) for r in many)),
                    ),
                ),
            ),
        )
        for code, label in (
            ("1", "A supported work placement with a very long arm name indeed"),
            ("2", "Usual care"),
            ("3", "Third arm"),
        )
    )
    d = Diagram(
        (ChainBox("r", "Randomised", 360000),),
        (),
        arms=(("1", "A"), ("2", "B"), ("3", "C")),
        stages=(("allocation", boxes),),
        splits=(("r", "", "allocation", ("x",)),),
    )
    fig = flow.draw(d)
    assert_flow_layout_ok(fig, 1 + 3 + 2)
    assert fig.get_size_inches()[0] <= common.TEXT_WIDTH_IN + 1e-9


def test_long_words_are_broken_to_fit():
    fig = common.new_figure(1, 1)
    wrapped = common.wrap_to_width(fig, "x" * 200, 1.0, common.font())
    lines = wrapped.split("\n")
    assert "".join(lines) == "x" * 200 and len(lines) > 1
    assert all(common.text_width_in(fig, line, common.font()) <= 1.0 for line in lines)
    # counts stay whole: "(n = 100,000)" is never split across lines
    assert "(n = 100,000)" in common.wrap_to_width(fig, "Disengaged (n = 100,000)", 0.9, common.font())


# ----------------------------------------------------------------------------- recruitment
def series(table, name, panel):
    rows = table[(table["what"] == "series") & (table["series"] == name) & (table["panel"] == panel)]
    return rows.sort_values("month")["cumulative"].astype(int).tolist()


def test_recruitment_matches_the_hand_count(single):
    cfg, analysis = single
    fig, alt, table = recruitment.make(analysis, fx.figure(cfg, "recruitment"))
    # enrolled: R01 R02 in January, R03 R04 in February, R05-R08 in March (R08 North);
    # 6-week questionnaires returned: R01 R02 R03 in March, R05 in April
    months = sorted(set(table.loc[table["what"] == "series", "month"]))
    assert months == ["2020-01", "2020-02", "2020-03", "2020-04"]
    assert series(table, "Recruited", "Both sites") == [2, 4, 8, 8]
    assert series(table, "Recruited", "North") == [1, 2, 5, 5]
    assert series(table, "Recruited", "South") == [1, 2, 3, 3]
    assert series(table, "Returned at 6 weeks", "Both sites") == [0, 0, 3, 4]
    assert series(table, "Returned at 6 weeks", "North") == [0, 0, 2, 3]
    # sources: Clinic first screened 6 January (R01), Poster 22 January (R10), Radio 5 February (R11)
    starts = table[table["what"] == "source_start"]
    assert starts[["series", "month"]].values.tolist() == [
        ["Clinic", "2020-01"],
        ["Poster", "2020-01"],
        ["Radio", "2020-02"],
    ]
    assert (
        "in panels for both sites and for North and South; recruited is a solid line with "
        "circles, returned at 6 weeks a dashed line with squares"
    ) in alt
    assert "recruited 8 (North 5, South 3); returned at 6 weeks 4 (North 3, South 1)" in alt
    assert "Clinic in January 2020; Poster in January 2020; Radio in February 2020." in alt
    assert not re.search(r"\d{4}-\d{2}-\d{2}|\b\d{1,2} (January|February|March)", alt)  # months only
    titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_title(loc="left")]
    assert titles == ["Both sites", "North", "South"]
    # sources that started in the same month share one label above the top panel
    fig.draw_without_rendering()
    top = [
        t.get_text()
        for ax in fig.axes
        for child in ax.get_children()
        if type(child).__name__ == "SecondaryAxis"
        for t in child.get_xticklabels()
    ]
    assert top == ["Clinic and Poster", "Radio"]
    lines = [
        line for line in fig.axes[0].get_lines() if line.get_label() in ("Recruited", "Returned at 6 weeks")
    ]
    assert len({(line.get_linestyle(), line.get_marker()) for line in lines}) == 2
    assert_texts_inside_figure(fig)


def test_records_without_a_level_get_a_panel_of_their_own(single):
    cfg, _ = single
    screening = fx.forms()["screening"]
    screening.loc[screening["record_id"] == "R03", "scr_site"] = pd.NA
    analysis = fx.analysis(cfg, {"screening": screening})
    table = recruitment.make(analysis, fx.figure(cfg, "recruitment"))[2]
    assert series(table, "Recruited", "North") == [1, 1, 4, 4]
    assert series(table, "Recruited", "Not recorded") == [0, 1, 1, 1]
    assert series(table, "Recruited", "All sites") == [2, 4, 8, 8]  # three panels of levels


def test_recruitment_gathers_levels_past_the_most_panels(single):
    cfg, analysis = single
    cfg["figures"]["recruitment"].update(
        by="record_id",
        max_panels=4,
        panel_noun="people",
        sources={"date": "screening.scr_date", "by": "screening.scr_source", "show": "lines"},
        target=10,
    )
    fig, alt, table = recruitment.make(analysis, fx.figure(cfg, "recruitment"))
    panels = list(dict.fromkeys(table.loc[table["what"] == "series", "panel"]))
    # record ids R01..R08 as text, alphabetically: three panels of their own, five together
    assert panels == ["All people", "R01", "R02", "R03", "Other 5 people"]
    assert series(table, "Recruited", "Other 5 people")[-1] == 5
    # every person screened, by source, cumulatively: Clinic R01 R02 R05 R07 R09 R12
    sources = table[table["what"] == "source"]
    assert sources.loc[sources["series"] == "Clinic", "cumulative"].astype(int).tolist()[-1] == 6
    assert "Poster 3; Radio 3." in alt and "planned number, 10" in alt
    titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_title(loc="left")]
    assert titles[-1] == "Recruitment source started" and titles[:5] == panels
    assert any(line.get_label() == "Planned (10)" for line in fig.axes[0].get_lines())
    assert_texts_inside_figure(fig)


# ----------------------------------------------------------------------------- completeness
def cells(table):
    return {
        (r.panel, r.timepoint, r.form): (None if pd.isna(r.expected) else (int(r.returned), int(r.expected)))
        for r in table.itertuples()
    }


def test_completeness_matches_the_hand_count(single):
    cfg, analysis = single
    fig, alt, table = completeness.make(analysis, fx.figure(cfg, "completeness"))
    # expected: the 6 enrolled who had not left; work form at 6 months of those in paid work
    # (R01 20 h, R06 35 h), returned by R01 only; not collected at 6 weeks
    assert cells(table) == {
        ("", "week6", "quest"): (4, 6),
        ("", "week6", "work"): None,
        ("", "month6", "quest"): (3, 6),
        ("", "month6", "work"): (1, 2),
    }
    assert "Work form at 6 weeks: not applicable (not collected at this time point)" in alt
    texts = {t.get_text(): t for t in fig.axes[0].texts}
    assert {"4/6\n(67%)", "3/6\n(50%)", "1/2\n(50%)", "not\napplicable"} <= set(texts)
    assert texts["4/6\n(67%)"].get_color() == "black"  # light cell
    assert len(fig.axes) == 2  # the heat map and its colour bar
    assert_texts_inside_figure(fig)


def test_completeness_says_why_no_one_is_expected(single):
    cfg, _ = single
    quest = fx.forms()["quest"]
    quest["q_work"] = pd.array([pd.NA] * len(quest), dtype="Int64")  # no one in paid work
    fig, alt, table = completeness.make(fx.analysis(cfg, {"quest": quest}), fx.figure(cfg, "completeness"))
    assert cells(table)[("", "month6", "work")] is None
    assert "Work form at 6 months: not applicable (asked only of those in paid work; none)" in alt
    assert "not applicable:\nnone in\npaid work" in {t.get_text() for t in fig.axes[0].texts}


def test_completeness_by_arm(two_arms):
    cfg, analysis = two_arms
    fig, alt, table = completeness.make(analysis, fx.figure(cfg, "completeness"))
    got = cells(table)
    assert got[("Treatment", "week6", "quest")] == (3, 3) and got[("Control", "week6", "quest")] == (1, 3)
    assert got[("Treatment", "month6", "quest")] == (1, 3) and got[("Control", "month6", "quest")] == (2, 3)
    assert got[("Treatment", "month6", "work")] == (1, 1) and got[("Control", "month6", "work")] == (0, 1)
    assert [ax.get_title() for ax in fig.axes[:2]] == ["Treatment", "Control"]
    assert "One panel per arm. Treatment: Questionnaire at 6 weeks: 3 of 3" in alt
    assert_texts_inside_figure(fig)


def test_a_declared_returned_condition_replaces_the_default(single):
    cfg, analysis = single
    cfg["figures"]["completeness"]["rows"][0]["returned"] = "coalesce(quest.q_score >= 5, false)"
    table = completeness.make(analysis, fx.figure(cfg, "completeness"))[2]
    # scores 5 or more: R01 (5), R03 (6) at 6 weeks; R01 (7), R02 (5), R06 (6) at 6 months
    assert cells(table)[("", "week6", "quest")] == (2, 6)
    assert cells(table)[("", "month6", "quest")] == (3, 6)


def test_cells_keep_their_words_inside_them_at_scale():
    """Two arms, eight forms, counts of 100,000s: every cell's words stay inside the cell
    (a count breaks after its slash, never inside a number)."""
    rows = []
    for panel in ("Supported work placement", "Usual care"):
        for tp, label in (("week6", "6 weeks"), ("week14", "14 weeks"), ("month6", "6 months")):
            for k in range(8):
                na = k >= 2 and tp != "month6"
                rows.append(
                    {
                        "panel": panel,
                        "timepoint": tp,
                        "tp_label": label,
                        "form": f"f{k}",
                        "label": f"Questionnaire number {k}",
                        "expected": pd.NA if na else 127_413,
                        "returned": pd.NA if na else 123_272,
                        "proportion": float("nan") if na else 123_272 / 127_413,
                        "short": None,
                        "why_not_applicable": completeness.NOT_COLLECTED if na else "",
                    }
                )
    frame = pd.DataFrame(rows)
    frame[["expected", "returned"]] = frame[["expected", "returned"]].astype("Int64")
    fig = completeness.draw(frame, load_figures({"figures": {"c": {"kind": "completeness"}}})["c"])
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    checked = 0
    for ax in fig.axes[:2]:
        for text in ax.texts:
            x, y = text.get_position()
            (x0, y0), (x1, y1) = ax.transData.transform([(x - 0.5, y + 0.5), (x + 0.5, y - 0.5)])
            box = text.get_window_extent(renderer)
            assert x0 <= box.x0 and box.x1 <= x1 and y0 <= box.y0 and box.y1 <= y1, text.get_text()
            assert text.get_fontsize() >= common.MIN_FONT_SIZE
            checked += 1
    assert checked == 2 * 3 * 8
    assert "123,272/\n127,413\n(97%)" in {t.get_text() for t in fig.axes[0].texts}


def test_recruitment_with_many_panels_fits_the_page(single):
    cfg, analysis = single
    cfg["figures"]["recruitment"].update(
        by="record_id", sources={"date": "screening.scr_date", "by": "screening.scr_source", "show": "lines"}
    )
    fig = recruitment.make(analysis, fx.figure(cfg, "recruitment"))[0]
    assert fig.get_size_inches()[1] <= common.MAX_FIGURE_HEIGHT_IN
    assert_texts_inside_figure(fig)


# ----------------------------------------------------------------------------- saved files
@pytest.fixture(scope="module")
def forms_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("forms")
    (folder / "codebook.json").write_text(json.dumps(fx.codebook()))
    for name, frame in fx.forms().items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


@pytest.fixture(scope="module")
def saved(forms_folder, tmp_path_factory):
    """Every fixture figure made through make_figure, as the figure rule makes it."""
    out = tmp_path_factory.mktemp("figures")
    cfg = fx.config()
    for fid in cfg["figures"]:
        make_figure(cfg, fid, forms_folder, None, out / f"{fid}.svg")
    return out


def test_every_file_of_a_figure_is_written(saved):
    for fid in ("flow", "recruitment", "completeness"):
        paths = figure_paths(saved / f"{fid}.svg")
        assert all(p.exists() for p in paths.values()), fid
        meta = json.loads(paths["json"].read_text())
        assert meta["id"] == fid and meta["alt"] == paths["alt"].read_text().strip()
        assert meta["files"] == {k: p.name for k, p in paths.items()}
        assert_printed_size_ok(paths["svg"])
    meta = json.loads((saved / "flow.json").read_text())
    assert (meta["label"], meta["caption"]) == ("Figure 1", "Participant flow. The diagram shows the flow")
    assert meta["title"] == "Participant flow"
    assert not [p.name for p in saved.iterdir() if p.name.endswith(".part")]


def test_the_caption_says_when_the_data_are_synthetic():
    meta = {"label": "Figure 2", "caption": "Recruitment.", "synthetic_note": "Synthetic data: invented"}
    assert caption(meta) == ("Figure 2", "Recruitment.")
    assert caption(meta, synthetic=True) == ("Figure 2", "Recruitment. Synthetic data: invented")
    assert caption({**meta, "synthetic_note": None}, synthetic=True) == ("Figure 2", "Recruitment.")


def test_an_undeclared_figure_is_an_error_naming_the_declared_ones(forms_folder, tmp_path):
    with pytest.raises(ValueError, match="'timeline' is not declared .*flow, recruitment, completeness"):
        make_figure(fx.config(), "timeline", forms_folder, None, tmp_path / "t.svg")


def test_svg_keeps_text_as_text_with_an_accessible_name(saved):
    for fid in ("flow", "recruitment", "completeness"):
        svg = (saved / f"{fid}.svg").read_text()
        assert "DejaVu Sans" in svg and 'id="DejaVuSans-' not in svg  # no glyphs as paths
        assert "<dc:date>" not in svg
        root = ET.parse(saved / f"{fid}.svg").getroot()
        assert root.get("role") == "img"
        first, second = list(root)[:2]
        assert first.tag == f"{SVG}title" and second.tag == f"{SVG}desc"
        assert second.text == (saved / f"{fid}.alt.txt").read_text().strip()
    assert "n = 4 of 6 expected" in svg_text(saved / "flow.svg")["texts"]


def test_png_resolution_and_metadata(saved):
    for fid in ("flow", "recruitment", "completeness"):
        with Image.open(saved / f"{fid}.png") as png:
            assert min(png.info["dpi"]) >= 200
            assert "Software" not in png.info


def test_the_saved_analysis_dataset_gives_the_same_figures_byte_for_byte(forms_folder, tmp_path):
    """Drawn twice, once from the saved analysis dataset (as the figure rule does) and once
    computed from the forms: every file identical, byte for byte."""
    from feasibility.analysis import Analysis, StudyData, load_spec

    cfg = fx.config(arms=True)
    Analysis(StudyData.read(forms_folder), load_spec(cfg)).save(tmp_path / "analysis")
    for fid in cfg["figures"]:
        make_figure(cfg, fid, forms_folder, tmp_path / "analysis", tmp_path / "a" / f"{fid}.svg")
        make_figure(cfg, fid, forms_folder, None, tmp_path / "b" / f"{fid}.svg")
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert len(names) == 3 * 5 and names == sorted(p.name for p in (tmp_path / "b").iterdir())
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_svg_text_is_escaped(tmp_path):
    d = Diagram(
        (ChainBox("a", "Screened <all> & more", 3), ChainBox("b", "Recruited", 2)),
        ((SideBox("s", "Excluded", 1, (Item("Cost > benefit & $5 fares", 1),)),),),
    )
    common.save_figure(
        flow.draw(d), tmp_path / "e.svg", tmp_path / "e.png", flow.alt_text(d), "Title with <tag> & ampersand"
    )
    texts = svg_text(tmp_path / "e.svg")["texts"]  # parses: the escaping held
    assert "\u2022" in texts and "Cost > benefit & $5 fares (n = 1)" in texts
    assert re.search(r"Screened &lt;all&gt; &amp; more", (tmp_path / "e.svg").read_text())


def test_figure_style_admits_one_figure_at_a_time():
    # The workflow runs its jobs in threads of one process and matplotlib's style is
    # process-global: a second figure must wait while one is being drawn, or the first
    # to finish would restore the defaults under the other (its SVG text turned to paths).
    import threading

    inside, release, second_in = threading.Event(), threading.Event(), threading.Event()

    def first():
        with common.figure_style():
            inside.set()
            release.wait(10)

    def second():
        inside.wait(10)
        with common.figure_style():
            assert mpl.rcParams["svg.fonttype"] == common.STYLE["svg.fonttype"]
            second_in.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    assert inside.wait(10)
    assert not second_in.wait(0.5), "a second figure entered the style while the first drew"
    release.set()
    for t in threads:
        t.join(10)
    assert second_in.is_set()


# ----------------------------------------------------------------------------- the paper
@pytest.fixture(scope="module")
def paper(tmp_path_factory):
    """The paper's three figures from their declarations (config/config.yaml) on the
    validated data of the shipped REDCap downloads (tests/paperdata.py)."""
    import paperdata
    from feasibility.config import load_study

    base = tmp_path_factory.mktemp("paper")
    forms = paperdata.write_validated(base / "validated")
    cfg = load_study(ROOT / "config" / "config.yaml")
    for fid in cfg["figures"]:
        make_figure(cfg, fid, forms, None, base / "out" / f"{fid}.svg")
    return base / "out"


@pytest.mark.parametrize("fid", ["consort", "timeline", "completeness"])
def test_the_papers_figures_say_word_for_word_what_main_drew(paper, fid):
    expected = json.loads((REGRESSION / f"{fid}.text.json").read_text())
    assert svg_text(paper / f"{fid}.svg") == expected


@pytest.mark.parametrize("fid", ["consort", "timeline", "completeness"])
def test_the_papers_figures_fit_the_page_at_7_pt_or_more(paper, fid):
    assert_printed_size_ok(paper / f"{fid}.svg")


def test_figure1_is_compact_with_room_for_its_caption(paper):
    meta = json.loads((paper / "consort.json").read_text())
    # main drew it 9.25 in tall, at the limit of the text block less a caption
    assert meta["height_in"] <= 7.5 and meta["width_in"] <= common.TEXT_WIDTH_IN


def test_figure1_follows_the_papers_flow(paper):
    boxes = drawn_boxes(paper / "consort.svg")
    # 117 screened, 33 expressed interest, 31 recruited, 15 placed, 11 completed (paper, Fig. 1)
    assert [
        chain_count(boxes[b])
        for b in ("assessed", "interested", "recruited", "continued", "placed", "completed")
    ] == [117, 33, 31, 24, 15, 11]
    after = dict((w.split(" (n = ")[0], n) for lv, w, n in boxes["after_baseline"] if lv == 1)
    # the paper's three withdrawals after baseline together, with the two ineligible and two unplaced
    assert after == {"Found ineligible after recruitment": 2, "Could not be placed": 2, "Withdrew": 3}
    frame = pd.read_csv(paper / "consort.csv", keep_default_na=False)
    check_drawn_against_frame(boxes, frame)


# ----------------------------------------------------------------------------- the trial
@pytest.fixture(scope="module")
def trial(tmp_path_factory):
    """The full trial's figures from its study file, on its shipped (dummy) records."""
    sys.path.insert(0, str(ROOT / "tests" / "trial"))
    from trial_helpers import STUDY, validate_trial
    from feasibility.redcap import write_validated

    study = yaml.safe_load(STUDY.read_text())
    base = tmp_path_factory.mktemp("trial")
    result = validate_trial(ROOT / "data" / "full-trial" / "records.csv", study)
    assert result.ok
    write_validated(result, base / "validated")
    for fid in study["figures"]:
        make_figure(study, fid, base / "validated", None, base / "out" / f"{fid}.svg")
    return base / "out"


def test_the_trials_consort_diagram_has_two_arms_side_by_side(trial):
    boxes = drawn_boxes(trial / "consort.svg")
    assert {"allocation.1", "allocation.2", "follow_up.1", "follow_up.2", "analysis.1", "analysis.2"} <= set(
        boxes
    )
    assert boxes["allocation.1"][0][1] == "Allocated to Supported work placement (n = 117)"
    assert boxes["allocation.2"][0][1] == "Allocated to Usual care (n = 121)"
    headings = svg_groups(trial / "consort.svg")
    assert [headings[f"stage-{s}-t0.0"] for s in ("enrolment", "allocation", "follow_up", "analysis")] == [
        "Enrolment",
        "Allocation",
        "Follow-up",
        "Analysis",
    ]
    frame = pd.read_csv(trial / "consort.csv", keep_default_na=False, dtype={"arm": str})
    check_drawn_against_frame(boxes, frame)
    assert_printed_size_ok(trial / "consort.svg")


@pytest.mark.parametrize("fid", ["consort", "recruitment", "completeness"])
def test_the_trials_figures_fit_the_page_at_7_pt_or_more(trial, fid):
    assert_printed_size_ok(trial / f"{fid}.svg")


def test_the_trials_recruitment_and_completeness(trial):
    rec = pd.read_csv(trial / "recruitment.csv", keep_default_na=False)
    panels = list(dict.fromkeys(rec.loc[rec["what"] == "series", "panel"]))
    assert panels == [
        "All sites",
        "Birmingham",
        "Coventry",
        "Leicester",
        "Nottingham",
        "Stoke-on-Trent",
        "Wolverhampton",
    ]
    final = rec[(rec["what"] == "series") & (rec["month"] == rec["month"].max())]
    got = dict(zip(final["series"] + "/" + final["panel"], final["cumulative"].astype(int)))
    assert got["Screened/All sites"] == 400
    assert got["Randomised/All sites"] == sum(got[f"Randomised/{p}"] for p in panels[1:]) == 238
    comp = pd.read_csv(trial / "completeness.csv", keep_default_na=False)
    assert list(dict.fromkeys(comp["panel"])) == ["Supported work placement", "Usual care"]
    hads = comp[(comp["form"] == "hads")]
    assert set(hads.loc[hads["timepoint"] != "month6", "why_not_applicable"]) == {
        "not collected at this time point"
    }


def test_the_report_numbers_a_figure_without_a_label_as_its_files_do():
    """The report's caption of a declared figure is the figure's own: "Figure N" by
    position when the declaration gives no label, and the synthetic-data note joined once."""
    from feasibility.config import load_study
    from feasibility.provenance import read_provenance
    from feasibility.report_content import caption as report_caption

    cfg = load_study(ROOT / "config" / "config.yaml")
    del cfg["figures"]["timeline"]["label"]
    prov = read_provenance(ROOT / "data" / "raw" / "provenance.json")
    label, text = report_caption({"figure": "timeline"}, cfg, prov)
    assert label == "Figure 2"
    assert text.startswith("Recruitment, work preparation, and placement completion.")
    assert text.endswith("every other date is invented") and text.count("Synthetic data:") == 1
    assert report_caption({"figure": "timeline", "label": "Figure 9"}, cfg, None)[0] == "Figure 9"
