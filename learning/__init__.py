"""Plasticity and training rules (STDP, pruning, quantisation, surrogate gradients)."""
