"""Neuron models. Each is a parameter set for the exact kernels of eventsim.neuron."""
from .lif import AdaptiveLIFExp, LIFDelta, LIFExp

MODELS = {"LIFDelta": LIFDelta, "LIFExp": LIFExp, "AdaptiveLIFExp": AdaptiveLIFExp}

__all__ = ["LIFDelta", "LIFExp", "AdaptiveLIFExp", "MODELS"]
