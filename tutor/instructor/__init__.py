"""Tools for instructors and lesson authors.

* :mod:`~tutor.instructor.report`: the class at a glance from a folder of progress files
  (``tutor class report``);
* :mod:`~tutor.instructor.evidence`: does a learner's progress hang together? (the report's
  ``checks`` column and ``tutor class check``);
* :mod:`~tutor.instructor.rehearse`: run lessons non-interactively on a scratch course folder,
  step by step, before a class (``tutor lessons check --rehearse``);
* :mod:`~tutor.instructor.export`: a learner's path as a runnable script or notebook
  (``tutor export``);
* :mod:`~tutor.instructor.cli`: the Typer commands the main CLI mounts.

Nothing here imports pandas or scikit-learn at import time: the report reads JSON only, and
the rehearsal imports what the steps need when they run.
"""
