"""Builds the optional C accelerator monitor._textcore (see monitor/_textcore.c); everything else is in
pyproject.toml. `optional=True`: without a C compiler the install still succeeds and monitor.textbatch does the
same arithmetic in numpy, only slower."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("monitor._textcore", ["monitor/_textcore.c"], optional=True,
                             extra_compile_args=["-O2"])])
