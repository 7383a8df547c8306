"""Plasticity and training rules: STDP (learning.stdp) and surrogate gradients (learning.surrogate)."""
from .stdp import PairSTDP, PowerLawSTDP, TripletSTDP, additive, multiplicative, nearest_spike

__all__ = ["PairSTDP", "TripletSTDP", "PowerLawSTDP", "additive", "multiplicative", "nearest_spike"]
