"""The published feasibility study (Pilot and Feasibility Studies 2020;
doi:10.1186/s40814-020-00581-6): its CRF draft (``crf``), the paper's own language
(``paper``) and the generator of its calibrated synthetic cohort (``synth``)."""
