"""Evaluating a student: instruction following checked by the constraint library (datagen.constraints),
eval-set loading (evalset.py), and the statistics and
pairwise comparisons built on them. Nothing is imported here so that `import datagen.evaluation`
stays cheap; import the submodule you need."""
