"""Output: every renderer and export, reading results (lossgrade.core.results); none runs code.

- `terminal`, `html` (+ `templates/`), `notebook`, `quiz_report`: a learner's results as text,
  HTML or notebook objects; `advice`, `charts`, `stats`: what the class reports show;
- `gradebook`, `gradescope`, `junit`, `classroom`, `exports`: a class's results as files;
- `merge`: the results of a class graded in shards, written as one run's.
"""
