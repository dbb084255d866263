"""Study packages: the code of one study that is no one else's.

Each subpackage holds what only its study needs (a published paper's labels and its
audit's per-table checks, the generator of its synthetic cohort, the draft of its CRF).
No generic module imports from here: a study file names its package
(``study.package``), and the pipeline loads it by name at the edge.
"""
