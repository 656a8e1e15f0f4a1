"""The catalogue of real learner mistakes, and the diagnosis that names them.

Each exercise has a module here (named like its exercise file) defining `MISCONCEPTIONS`:
a list of `Mistake`, each with a wrong implementation that reproduces it. When a check
fails, the grader runs every catalogued wrong implementation of that function on the same
inputs (in the trusted process: these are our own code) and names the one whose output
the learner's matches. The diagnosis comes from behaviour, never from reading source.
Where an exercise's mistakes are many, its module only lists them, and they are written in
a package of its name with a leading underscore, one module per learner function
(`ex09_custom.py` lists those of `_ex09_custom/focal_loss.py` and
`_ex09_custom/cross_entropy_function.py`).

The code lives in two package-internal modules, every name importable from here (the
exercises' catalogues and instructors' misconceptions files import them from
`lossgrade.misconceptions`): `_diagnosis` (`Mistake`, `Evidence`, the catalogue, `diagnose`)
and `_shared` (the mistakes every catalogue builds from the right implementation).
"""
from lossgrade.misconceptions._diagnosis import (Evidence, Mistake, Passed, behaves_like, by_id, catalogue, confirmed,
                                                 diagnose, diagnose_gradients, reduce, rolled)
from lossgrade.misconceptions._shared import (DETACHED_SIGN, INPLACE_SIGN, INPUT_CHANGED_SIGN, LOW_PRECISION, REDUCTIONS,
                                              along_one_dim, by_reply, detached, gradient_wrong_only_where,
                                              inplace_breaks_backward, inputs_modified, python_number, unvalidated,
                                              upcast, validation_mistake)

__all__ = ["DETACHED_SIGN", "INPLACE_SIGN", "INPUT_CHANGED_SIGN", "LOW_PRECISION", "REDUCTIONS", "Evidence", "Mistake",
           "Passed", "along_one_dim", "behaves_like", "by_id", "by_reply", "catalogue", "confirmed", "detached", "diagnose",
           "diagnose_gradients", "gradient_wrong_only_where", "inplace_breaks_backward", "inputs_modified",
           "python_number", "reduce", "rolled", "unvalidated", "upcast", "validation_mistake"]
