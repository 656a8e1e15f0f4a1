"""Grading: a learner's files in, results (lossgrade.core.results) out.

- `runner`: the checks of one exercise run against the learner's module;
- `service`: the learner's `lossgrade check` (a workspace, its saved results);
  `selfcheck`: `lossgrade course check`, every reference and mistake through the checks;
- `notebook_source`: a notebook's functions as the source of a learner file;
- a class: `discover` (the submissions in a folder or `.zip` per learner, read safely),
  `lms` (how an LMS's bulk download names its files and learners), `grade` (what to
  grade, skipping what is unchanged), `pool` (in parallel, one trusted grader process with
  its own sandbox per job), `submission` (one learner's exercises and quizzes), `records`
  (each result saved atomically as it ends), `shard` (a slice of a class), `notebooks`
  (functions read from submitted notebooks), `progress` (the bar).
"""
