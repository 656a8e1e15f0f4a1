"""The command line, the one front-end package: `main` (the `lossgrade` group and the learner's
commands), `batch` (`grade`, `export`), `course`, `quiz`, `autograder` (the Gradescope entry
point), `clickerrors` (one-line errors, exit codes). The other front-ends, the notebook API
(`lossgrade.api`) and the pytest plugin (`lossgrade.pytest_plugin`), sit at the package root:
their import paths are public.
"""
