"""Instructor batch grading: a class of submissions in, a gradebook and reports out.

- `discover`: find the submissions (a folder or `.zip` per learner) and read the files that
  matter from each, refusing zips that are corrupt, escape their folder or expand too far;
- `grade`: what to grade (skipping what is unchanged since the last run), `pool`: grading
  it in parallel, one trusted grader process with its own sandbox per job, `submission`:
  one learner's exercises and quizzes, `records`: each result saved atomically as it ends;
- `gradebook`, `gradescope`, `junit`, `exports`: the outputs, read from the results;
- `autograder`: the Gradescope autograder bundle, and the entry point it runs there;
- `progress`, `cli`: the progress bar and the `grade` and `export` commands.
"""
