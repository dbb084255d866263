"""Figures: counts worked out by hand from tests/figures_fixtures.py, layout, and saved files."""
from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

import matplotlib as mpl
import pandas as pd
import pytest
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from PIL import Image

import figures_fixtures as fx
from feasibility.figures import common
from feasibility.figures.completeness import (
    completeness_alt_text, completeness_data, draw_completeness, make_completeness,
)
from feasibility.figures.consort import (
    Flow, FollowUpBox, MainBox, Reason, SideBox, consort_alt_text, consort_counts,
    draw_consort, make_consort,
)
from feasibility.figures.timeline import (
    draw_timeline, make_timeline, recruitment_source_starts, timeline_alt_text, timeline_data,
)

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def participants():
    return fx.participants()


@pytest.fixture
def screening():
    return fx.screening()


def main_counts(flow):
    return [b.n for b in flow.main]


def side_counts(flow):
    return [b.n for b in flow.side]


def follow_up_counts(flow):
    return [(b.returned, b.expected) for b in flow.follow_up]


# ----------------------------------------------------------------------------- CONSORT counts
def test_consort_counts_match_the_hand_count(screening, participants):
    flow = consort_counts(screening, participants)
    # 20 screened; 7 excluded (5 not eligible, 2 not interested) -> 13 interested; 3 not
    # recruited -> 10 recruited (8 attended work preparation); 2 excluded or withdrew after
    # baseline (P09, P10) -> 8 continued; 2 not placed (P07, P08) -> 6 placed; 1 did not
    # complete (P06) -> 5 completed
    assert [b.label for b in flow.main] == [
        "Assessed for eligibility", "Eligible and expressed interest",
        "Recruited and baseline assessed", "Continued to placement matching",
        "Matched and attended a placement", "Completed the six-week placement"]
    assert main_counts(flow) == [20, 13, 10, 8, 6, 5]
    assert side_counts(flow) == [7, 3, 2, 2, 1]
    assert flow.main[2].notes == ("Attended work preparation, n = 8",)
    # screening: S11-S13 paid employment, S14-S15 retired, S16-S17 not interested,
    # S18-S19 could not be contacted, S20 declined at consent; in the CRF's code order
    assert flow.side[0].reasons == (
        Reason("Not eligible", 5, (Reason("In paid employment", 3), Reason("Retired", 2))),
        Reason("Eligible but did not express interest", 2))
    assert flow.side[1].reasons == (Reason("Could not be contacted", 2),
                                    Reason("Declined at the consent visit", 1))
    # grouped by status change, in the paper's order, each with its reasons
    assert flow.side[2].reasons == (
        Reason("Found ineligible after recruitment", 1, (Reason("Off sick rather than unemployed", 1),)),
        Reason("Withdrew", 1, (Reason("Did not want to participate", 1),)))
    # ties (1 each) in alphabetical order
    assert flow.side[3].reasons == (Reason("Disengaged after offer", 1),
                                    Reason("Language or learning difficulties", 1))
    assert flow.side[4].reasons == (Reason("Moved into paid employment", 1),)
    for box, children in flow.outflows():
        assert box.n == sum(child.n for child in children), box
    # week6 RRRRNNNN-- 4/8, week14 RRRNNNNN-- 3/8, month6 RRNNNNN--- 2/7
    assert follow_up_counts(flow) == [(4, 8), (3, 8), (2, 7)]


def test_a_placement_not_completed_moves_one_person_between_two_boxes(screening, participants):
    before = consort_counts(screening, participants)
    p05 = participants["record_id"] == "P05"
    participants.loc[p05, "completed_placement"] = False
    participants.loc[p05, "not_completed_reason"] = "Health reasons"
    after = consort_counts(screening, participants)
    assert main_counts(after) == [20, 13, 10, 8, 6, 4]      # only "completed" falls, 5 -> 4
    assert side_counts(after) == [7, 3, 2, 2, 2]            # only "did not complete" rises
    assert after.side[4].reasons == (Reason("Health reasons", 1),
                                     Reason("Moved into paid employment", 1))
    assert after.side[:4] == before.side[:4]
    assert after.follow_up == before.follow_up


def test_a_returned_follow_up_changes_only_its_own_box(screening, participants):
    participants.loc[participants["record_id"] == "P05", "fu_status_week6"] = "returned"
    flow = consort_counts(screening, participants)
    assert follow_up_counts(flow) == [(5, 8), (3, 8), (2, 7)]
    assert main_counts(flow) == [20, 13, 10, 8, 6, 5]


def test_a_dropout_leaves_the_follow_up_denominator(screening, participants):
    participants.loc[participants["record_id"] == "P07", "fu_status_month6"] = "not expected"
    assert follow_up_counts(consort_counts(screening, participants)) == [(4, 8), (3, 8), (2, 6)]


def test_placed_without_work_preparation_is_inconsistent(screening, participants):
    # P10 withdrew after recruitment; marking them placed breaks "stage = previous - left"
    participants.loc[participants["record_id"] == "P10", "placed"] = True
    with pytest.raises(ValueError, match="P10"):
        consort_counts(screening, participants)


def test_not_placed_without_a_reason_is_inconsistent(screening, participants):
    participants.loc[participants["record_id"] == "P07", "not_placed_reason"] = None
    with pytest.raises(ValueError, match="P07"):
        consort_counts(screening, participants)


def test_screening_must_enrol_exactly_the_participants(screening, participants):
    # 20 screened - 10 excluded = 10, but only 9 participants
    with pytest.raises(ValueError, match="Recruited and baseline assessed"):
        consort_counts(screening, participants[participants["record_id"] != "P01"])


def test_flow_checks_its_arithmetic():
    with pytest.raises(ValueError, match="minus"):
        Flow((MainBox("A", 10), MainBox("B", 7)), (SideBox("Left", 2),))
    with pytest.raises(ValueError, match="add up"):
        Flow((MainBox("A", 10), MainBox("B", 7)), (SideBox("Left", 3, (Reason("x", 1),)),))


# ----------------------------------------------------------------------------- CONSORT layout
def shipped_like_flow() -> Flow:
    """The paper's Fig. 1 numbers with this study's reasons."""
    return Flow(
        (MainBox("Assessed for eligibility", 117), MainBox("Eligible and expressed interest", 33),
         MainBox("Recruited and baseline assessed", 31, ("Attended work preparation, n = 27",)),
         MainBox("Continued to placement matching", 24),
         MainBox("Matched and attended a placement", 15),
         MainBox("Completed the six-week placement", 11)),
        (SideBox("Excluded", 84, (
            Reason("Not eligible", 64, (Reason("In paid employment", 30),
                                        Reason("Out of work for less than the required period", 34))),
            Reason("Eligible but did not express interest", 20))),
         SideBox("Not recruited", 2, (Reason("Could not be contacted", 1),
                                      Reason("Declined at the consent visit", 1))),
         SideBox("Excluded or withdrew after baseline", 7, (
             Reason("Found ineligible after recruitment", 2,
                    (Reason("Off sick rather than unemployed", 2),)),
             Reason("Could not be placed", 2, (Reason("Language or learning difficulties", 2),)),
             Reason("Withdrew", 3, (Reason("Did not want to participate", 1),
                                    Reason("Left on the first day of work preparation (no reason given)", 1),
                                    Reason("Multiple dental operations", 1))))),
         SideBox("Not placed", 9, (
             Reason("Disengaged after placement offer", 4, (
                 Reason("Wanted a placement in another area", 2), Reason("Obtained employment", 1),
                 Reason("Other or not given", 1))),
             Reason("No suitable placement in area", 4),
             Reason("Died", 1, (Reason("Death unrelated to the intervention", 1),)))),
         SideBox("Did not complete the placement", 4, (
             Reason("Moved into paid employment", 1), Reason("Personal difficulties", 1),
             Reason("Not happy in the placement", 1), Reason("Health reasons", 1)))),
        (FollowUpBox("week6", 11, 26), FollowUpBox("week14", 14, 26), FollowUpBox("month6", 12, 26)))


LONG = ("Withdrew because the placement offered was too far from home and public transport "
        "was unreliable on the days required, after discussing alternatives with the case "
        "manager twice at length and then")[:200]


def stress_flow(kind: str) -> Flow:
    """Hand-made flows: 200-character reasons (one a single word), 15 reasons, 100000s."""
    big = 10000 if kind == "counts of 100000" else 1
    if kind == "long reasons":
        side = SideBox("Not placed", 12, (Reason(LONG, 5), Reason("x" * 200, 4),
                                          Reason(LONG.upper(), 3)))
    elif kind == "fifteen reasons":
        side = SideBox("Not placed", 15, tuple(
            Reason(f"Reason number {i} " + "because of something " * (i % 4), 1)
            for i in range(15)))
    else:
        side = SideBox("Not placed", 40000, (Reason("Disengaged after offer", 30000),
                                             Reason("No suitable placement in area", 10000)))
    n_placed = 20 * big
    n_attended = n_placed + side.n
    return Flow(
        (MainBox("Assessed for eligibility", n_attended + 5 * big),
         MainBox("Attended work preparation", n_attended),
         MainBox("Matched and attended a placement " + ("and " + LONG if kind == "long reasons" else ""),
                 n_placed),
         MainBox("Completed the six-week placement", n_placed - big)),
        (SideBox("Excluded " + ("with a very long title " * 8 if kind == "long reasons" else ""),
                 5 * big, (Reason("Not eligible", 5 * big),)),
         side,
         SideBox("Did not complete the placement", big, (Reason("Health reasons", big),))),
        (FollowUpBox("week6", 9 * big, 10 * big), FollowUpBox("week14", 100000, 100000),
         FollowUpBox("month6", 0, 100000)))


def boxes_and_texts(fig):
    """Every drawn box (by gid) and the texts that belong to it (gid '<box>-...')."""
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    boxes = {r.get_gid(): r.get_window_extent(renderer)
             for r in fig.findobj(Rectangle) if r.get_gid()}
    texts = [(t.get_gid(), t.get_window_extent(renderer), t.get_text())
             for t in fig.findobj(Text) if t.get_gid()]
    return boxes, texts


def assert_consort_layout_ok(fig, n_boxes: int):
    boxes, texts = boxes_and_texts(fig)
    assert len(boxes) == n_boxes
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
        assert (box.x0 < extent.x0 and extent.x1 < box.x1 and box.y0 < extent.y0
                and extent.y1 < box.y1), f"{gid} {text[:30]!r} leaves box {owner}"
        assert (figure.x0 <= extent.x0 and extent.x1 <= figure.x1 and figure.y0 <= extent.y0
                and extent.y1 <= figure.y1), f"{gid} leaves the figure"


def test_consort_layout_of_the_fixture(screening, participants):
    fig = draw_consort(consort_counts(screening, participants))
    # 6 main + 5 side + 3 follow-up + the follow-up heading
    assert_consort_layout_ok(fig, 15)


def test_consort_layout_of_the_shipped_like_flow():
    fig = draw_consort(shipped_like_flow())
    assert_consort_layout_ok(fig, 15)
    width, height = fig.get_size_inches()
    assert width <= 6.5        # fits an A4 text width at 100%


@pytest.mark.parametrize("kind", ["long reasons", "fifteen reasons", "counts of 100000"])
def test_consort_layout_under_stress(kind):
    flow = stress_flow(kind)
    fig = draw_consort(flow)
    assert_consort_layout_ok(fig, 4 + 3 + 3 + 1)
    # the text was wrapped, not allowed to widen the figure without limit
    assert fig.get_size_inches()[0] < 8


def test_consort_figure_grows_with_its_content():
    # the same boxes, with 2 reasons and with 15 in the "Not placed" box
    small = draw_consort(stress_flow("counts of 100000")).get_size_inches()
    tall = draw_consort(stress_flow("fifteen reasons")).get_size_inches()
    assert tall[1] > small[1]


def test_long_words_are_broken_to_fit():
    fig = common.new_figure(1, 1)
    wrapped = common.wrap_to_width(fig, "x" * 200, 1.0, common.font())
    lines = wrapped.split("\n")
    assert "".join(lines) == "x" * 200 and len(lines) > 1
    assert all(common.text_width_in(fig, line, common.font()) <= 1.0 for line in lines)
    # counts stay whole: "(n = 100,000)" is never split across lines
    assert "(n = 100,000)" in common.wrap_to_width(fig, "Disengaged (n = 100,000)", 0.9, common.font())


def test_consort_alt_text_names_every_box_and_count():
    flow = shipped_like_flow()
    alt = consort_alt_text(flow)
    for box in flow.main:
        assert f"{box.label}: n = {box.n}" in alt
    for box in flow.side:
        assert f"{box.title}: n = {box.n}" in alt
    for label, n in [("In paid employment", 30), ("Out of work for less than the required period", 34),
                     ("Could not be contacted", 1), ("Multiple dental operations", 1),
                     ("No suitable placement in area", 4), ("Health reasons", 1),
                     ("Withdrew", 3)]:
        assert f"{label}, n = {n}" in alt
    assert "Attended work preparation, n = 27" in alt
    for text in ("6 weeks, 11 of 26", "14 weeks, 14 of 26", "6 months, 12 of 26"):
        assert text in alt


# ----------------------------------------------------------------------------- timeline
def series(data, name, site):
    rows = data[(data["series"] == name) & (data["site"] == site)].sort_values("month")
    return rows["cumulative"].tolist()


def test_timeline_counts_match_the_hand_count(participants):
    data = timeline_data(participants)
    # months September 2017 (first consent) to March 2018 (last completed placement, P05)
    months = sorted(data["month"].unique())
    assert [pd.Timestamp(m).strftime("%Y-%m") for m in months] == [
        "2017-09", "2017-10", "2017-11", "2017-12", "2018-01", "2018-02", "2018-03"]
    #                                         Sep Oct Nov Dec Jan Feb Mar
    assert series(data, "Recruited", "Both sites") == [2, 4, 6, 8, 10, 10, 10]
    assert series(data, "Recruited", "Birmingham") == [2, 3, 5, 6, 6, 6, 6]
    assert series(data, "Recruited", "Coventry") == [0, 1, 1, 2, 4, 4, 4]
    assert series(data, "Attended work preparation", "Both sites") == [0, 0, 4, 4, 8, 8, 8]
    assert series(data, "Attended work preparation", "Birmingham") == [0, 0, 3, 3, 6, 6, 6]
    assert series(data, "Attended work preparation", "Coventry") == [0, 0, 1, 1, 2, 2, 2]
    # P01, P02 end in January, P03 February, P04, P05 March; P06 did not complete
    assert series(data, "Completed a placement", "Both sites") == [0, 0, 0, 0, 2, 3, 5]
    assert series(data, "Completed a placement", "Coventry") == [0] * 7


def test_recruitment_sources_start_at_their_first_screening(screening):
    starts = recruitment_source_starts(screening)
    assert starts["source"].tolist() == [
        "NHS pain clinic", "Council employment services", "Posters and direct contact"]
    assert starts["first_screened"].dt.strftime("%Y-%m-%d").tolist() == [
        "2017-09-01", "2017-12-01", "2018-01-08"]


def test_timeline_alt_text_gives_the_final_counts(participants, screening):
    alt = timeline_alt_text(timeline_data(participants), recruitment_source_starts(screening))
    assert "September 2017 to March 2018" in alt
    assert "recruited 10 (Birmingham 6, Coventry 4)" in alt
    assert "attended work preparation 8 (Birmingham 6, Coventry 2)" in alt
    assert "completed a placement 5 (Birmingham 5, Coventry 0)" in alt
    assert "Posters and direct contact in January 2018" in alt   # the month: a day is a person's screening date


def test_timeline_separates_series_without_colour(participants, screening):
    fig = draw_timeline(timeline_data(participants), recruitment_source_starts(screening))
    lines = [line for line in fig.axes[0].get_lines() if line.get_label() in
             ("Recruited", "Attended work preparation", "Completed a placement")]
    assert len({(line.get_linestyle(), line.get_marker()) for line in lines}) == 3
    assert len({line.get_linestyle() for line in lines}) == 3
    assert_texts_inside_figure(fig)


# ----------------------------------------------------------------------------- completeness
def test_completeness_counts_match_the_hand_count(participants):
    data = completeness_data(participants, fx.forms_returned(),
                             fx.questionnaires()).set_index(["timepoint", "form"])
    # health and employment: expected = not "not expected" (8, 8, 7), every responder as
    # Table 5 counts them; work questionnaire at 6 weeks: of those, the placed (P01-P06);
    # at 6 months: those with an accepted offer (P01, P07), of whom P01 returned it.
    # P09's week-6 health questionnaire is not counted: P09 dropped out.
    expected = {
        ("week6", "health_questionnaire"): (4, 8), ("week6", "work_questionnaire"): (3, 6),
        ("week14", "health_questionnaire"): (3, 8), ("week14", "employment"): (3, 8),
        ("month6", "health_questionnaire"): (2, 7), ("month6", "work_questionnaire"): (1, 2),
        ("month6", "employment"): (2, 7)}
    for key, (returned, n) in expected.items():
        assert (data.loc[key, "returned"], data.loc[key, "expected"]) == (returned, n), key
        assert data.loc[key, "proportion"] == pytest.approx(returned / n)
    # not applicable, each with its reason: no employment form at 6 weeks; no accepted
    # offer at 14 weeks, so no work questionnaire is due (not "0 of 6 not returned")
    for key, why in ((("week6", "employment"), "not collected"),
                     (("week14", "work_questionnaire"), "accepted job offer")):
        cell = data.loc[key]
        assert pd.isna(cell["expected"]) and pd.isna(cell["proportion"]), key
        assert why in cell["why_not_applicable"], key
    assert len(data) == 9


def test_completeness_cells_show_counts_and_readable_text(participants):
    data = completeness_data(participants, fx.forms_returned(), fx.questionnaires())
    fig = draw_completeness(data)
    texts = {t.get_text(): t for t in fig.axes[0].texts}
    assert {"4/8\n(50%)", "1/2\n(50%)", "2/7\n(29%)", "not\napplicable",
            "not applicable:\nno accepted\njob offer"} <= set(texts)
    # viridis at 29% is dark: white text; at 50% mid-light: black text
    assert texts["2/7\n(29%)"].get_color() == "white"
    assert texts["4/8\n(50%)"].get_color() == "black"
    assert len(fig.axes) == 2          # the heat map and its colour bar
    assert_texts_inside_figure(fig)


def test_completeness_alt_text_gives_every_cell(participants):
    alt = completeness_alt_text(completeness_data(participants, fx.forms_returned(),
                                                  fx.questionnaires()))
    assert "Health questionnaire at 6 weeks: 4 of 8 expected returned (50%)" in alt
    assert "Work questionnaire at 6 months: 1 of 2 expected returned (50%)" in alt
    assert ("Work questionnaire at 14 weeks: not applicable (collected only after an "
            "accepted job offer; none reported)") in alt
    assert "Employment at 14 weeks: 3 of 8 expected returned (38%)" in alt
    assert "Employment at 6 weeks: not applicable (not collected at this time point)" in alt


def assert_texts_inside_figure(fig):
    fig.draw_without_rendering()          # run the constrained layout first
    renderer = fig.canvas.get_renderer()
    for text in fig.findobj(Text):
        if text.get_visible() and text.get_text().strip():
            extent = text.get_window_extent(renderer)
            assert fig.bbox.x0 - 1 <= extent.x0 and extent.x1 <= fig.bbox.x1 + 1, text.get_text()
            assert fig.bbox.y0 - 1 <= extent.y0 and extent.y1 <= fig.bbox.y1 + 1, text.get_text()


# ----------------------------------------------------------------------------- saved files
@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """All three figures made once through their make_* functions."""
    tmp_path = tmp_path_factory.mktemp("figures")
    screening, participants = fx.screening(), fx.participants()
    make_consort(screening, participants, tmp_path / "consort.svg", tmp_path / "consort.png")
    make_timeline(participants, screening, tmp_path / "timeline.svg", tmp_path / "timeline.png")
    make_completeness(participants, fx.forms_returned(), tmp_path / "completeness.svg",
                      tmp_path / "completeness.png", fx.questionnaires())
    return tmp_path


def svg_texts(path) -> list[str]:
    root = ET.parse(path).getroot()
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def test_svg_keeps_text_as_text(saved):
    texts = svg_texts(saved / "consort.svg")
    assert "n = 20" in texts and "Excluded (n = 7)" in texts
    assert "n = 4 of 8 expected" in texts
    assert "2/7" in svg_texts(saved / "completeness.svg")
    assert "Posters and direct contact" in svg_texts(saved / "timeline.svg")
    for name in ("consort", "timeline", "completeness"):
        svg = (saved / f"{name}.svg").read_text()
        assert "DejaVu Sans" in svg
        assert 'id="DejaVuSans-' not in svg          # no glyphs drawn as paths
        assert "<dc:date>" not in svg


def test_svg_and_side_file_carry_the_alt_text(saved, screening, participants):
    alt = consort_alt_text(consort_counts(screening, participants))
    assert (saved / "consort.alt.txt").read_text() == alt + "\n"
    root = ET.parse(saved / "consort.svg").getroot()
    assert root.get("role") == "img"
    first, second = list(root)[:2]
    assert first.tag == f"{SVG}title" and "CONSORT" in first.text
    assert second.tag == f"{SVG}desc" and second.text == alt
    assert len(root.findall(f"{SVG}title")) == 1          # one accessible name, not two
    for name in ("timeline", "completeness"):
        assert (saved / f"{name}.alt.txt").read_text().strip()


def test_png_resolution_and_metadata(saved):
    for name in ("consort", "timeline", "completeness"):
        with Image.open(saved / f"{name}.png") as png:
            assert min(png.info["dpi"]) >= 200
            assert "Software" not in png.info


def test_saving_twice_gives_identical_bytes(tmp_path, screening, participants):
    flow = consort_counts(screening, participants)
    fig = draw_consort(flow)
    for run in ("a", "b"):
        common.save_figure(fig, tmp_path / run / "f.svg", tmp_path / run / "f.png", "alt", "title")
    redrawn = draw_consort(flow)
    common.save_figure(redrawn, tmp_path / "c" / "f.svg", tmp_path / "c" / "f.png", "alt", "title")
    for name in ("f.svg", "f.png", "f.alt.txt"):
        reference = (tmp_path / "a" / name).read_bytes()
        assert (tmp_path / "b" / name).read_bytes() == reference, name
        assert (tmp_path / "c" / name).read_bytes() == reference, name


def test_saving_leaves_no_temporary_files(saved):
    assert not [p.name for p in saved.iterdir() if p.name.endswith(".part")]
    assert sorted(p.name for p in saved.iterdir()) == sorted(
        f"{name}{ext}" for name in ("consort", "timeline", "completeness")
        for ext in (".svg", ".png", ".alt.txt"))


def test_svg_text_is_escaped(tmp_path):
    flow = Flow((MainBox("Screened <all> & more", 3), MainBox("Recruited", 2)),
                (SideBox("Excluded", 1, (Reason("Cost > benefit & $5 fares", 1),)),))
    common.save_figure(draw_consort(flow), tmp_path / "e.svg", tmp_path / "e.png",
                       consort_alt_text(flow), "Title with <tag> & ampersand")
    texts = svg_texts(tmp_path / "e.svg")          # parses: the escaping held
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
