"""mlp_engine: a multilayer perceptron written from scratch in NumPy.

Pure NumPy: no Qt, no matplotlib at import time, no printing, no global random state.
"""
