"""The model: what every layer above shares, importing nothing else of lossgrade.

- `errors`, `exitcodes`: the one error type a learner or instructor sees (a one-line
  message) and the exit-code policy (0 ok, 1 failing work, 2 usage or set-up error);
- `results`: the plain dataclasses of a grade (check, exercise, quiz, submission) and their
  JSON form, which every renderer and export reads;
- `numerics`: the tolerances of every comparison; `pyfiles`: reading a Python file by path;
- `atomicfile`: the one atomic writer; `learnerfiles`: the one learner-id-to-file-name function;
- `notebook_objects`: where a notebook's function or class was defined.
"""
