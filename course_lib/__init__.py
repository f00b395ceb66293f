"""course_lib: the helper package of the course on gated recurrent networks.

One module per idea, named for what it holds; every array is laid out ``(batch, time, features)``
and every symbol is the one the book uses (see the notation page).
"""

__version__ = "0.1.0"
