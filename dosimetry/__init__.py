"""Physics of absorbed dose for radioembolization: decay data, planning models, kernels.

This package never imports :mod:`sim`; a planner can use :mod:`dosimetry.planning`
without growing a tree.
"""
