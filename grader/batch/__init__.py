"""Instructor batch grading: a class of submissions in, a gradebook and reports out.

- `discover`: find the submissions (a folder or `.zip` per learner) and read the files that
  matter from each, refusing zips that are corrupt, escape their folder or expand too far;
- `grade`: grade them in parallel, one trusted grader process (with its own sandbox) per
  job, writing each submission's record atomically as it finishes, so a rerun resumes;
- `gradebook`, `gradescope`, `junit`: exports read from the records (plain result data);
- `autograder`: the Gradescope autograder bundle, and the entry point it runs there;
- `cli`: the `grade` and `export` commands.
"""
