"""The dependency-scan gate (engine: :mod:`.engine`; KFP component: :mod:`.component`).

A regular package, not an implicit namespace one: ``setuptools.find_packages``
(setup.py) and import-linter only see packages with an ``__init__.py``.
"""
