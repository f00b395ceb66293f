"""The instructor's grader, in parts (the command line is :mod:`course_lib.grade`).

* :mod:`~course_lib.grading.submission`: reading a saved notebook defensively, finding its exercise cells,
  naming submissions and seeding their hidden cases.
* :mod:`~course_lib.grading.sandbox`: running the learner's exercise cells in a fresh Jupyter kernel (via
  nbclient) with time and memory limits; the kernel returns plain arrays through ``.npz`` files.
* :mod:`~course_lib.grading.isolation`: the bubblewrap sandbox that kernel runs in (its own PID and network
  namespaces; a read-only file system without the course's files, the submissions or the outputs).
* :mod:`~course_lib.grading.reports`: the gradebook CSV, per-submission feedback and Gradescope's
  ``results.json``, all written atomically.

Judging (comparisons with the reference, recognising known mistakes) happens in the grader's own process,
with :func:`course_lib.exercises.framework.evaluate`, on arrays loaded with ``allow_pickle=False``.
"""
