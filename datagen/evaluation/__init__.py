"""Evaluating a student: verifiable instruction-following constraints in the spirit of IFEval
(constraints.py, constraint_kinds.py), eval-set loading (evalset.py), and the statistics and
pairwise comparisons built on them. Nothing is imported here so that `import datagen.evaluation`
stays cheap; import the submodule you need."""
