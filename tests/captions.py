"""The captions a reviewer must find in the report, in the PDF and in the HTML.

The paper's own (Pilot and Feasibility Studies 2020: its Tables 2-5 and Figures 1-2),
written as the paper prints them; and the labels of the tables and figures the paper
lacks, numbered after its Tables 1-8 and Figures 1-2 or lettered by appendix.
"""

PAPER_CAPTIONS = [
    "Table 2 Baseline sample characteristics (n=31)",
    "Table 3 Follow-up time-points. Crude score changes from baseline (follow-up, start date)",
    "Table 4 Work-related outcomes relating to the placement",
    "Table 5 Job offers, jobs accepted, and jobs (i.e. paid employment) started",
    "Figure 1 Consort diagram. The diagram shows the flow of participants through the study",
    "Figure 2 Recruitment, work preparation, and placement completion. The figure shows "
    "recruitment, rates of work preparation, and work placement completion by time",
]
OWN_LABELS = [
    "Table 9",
    "Table 10",
    "Figure 3",
    "Table A1",
    "Table B1",
    "Table B2",
    "Table C1",
    "Table C2",
    "Table D1",
    "Table D2",
    "Table D3",
]
