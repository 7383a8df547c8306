"""Event-based surrogate-gradient learning (sparse spiking gradient descent).

Public API::

    from eventsim.learning.surrogate import (
        Surrogate, LayerSpec, NetworkSpec, SNN, Regularizer, EventBatch, EventDataset,
        synthetic_dataset, Adam, TrainConfig, train, save_checkpoint, load_checkpoint, load_train_state,
        init_weights, SurrogateConfigError, TrainingDivergedError, retain_freed_memory)
"""
from .errors import SurrogateConfigError, TrainingDivergedError
from .events import EventBatch, EventDataset, synthetic_dataset
from .init import init_weights, psp_moments
from .memory import retain_freed_memory
from .model import SNN, GradResult, Regularizer, layer_grad_norms
from .network import LayerSpec, NetworkSpec, param_names, tau_from_decay
from .surrogates import Surrogate

__all__ = ["Surrogate", "LayerSpec", "NetworkSpec", "SNN", "GradResult", "Regularizer", "EventBatch",
           "EventDataset", "synthetic_dataset", "init_weights", "psp_moments", "layer_grad_norms",
           "param_names", "tau_from_decay", "SurrogateConfigError", "TrainingDivergedError", "retain_freed_memory"]

from .checkpoint import TrainState, load_checkpoint, load_train_state, save_checkpoint  # noqa: E402
from .optim import Adam, clamp_params  # noqa: E402
from .train import History, TrainConfig, evaluate, train  # noqa: E402

__all__ += ["load_checkpoint", "load_train_state", "TrainState", "save_checkpoint", "Adam", "clamp_params", "History", "TrainConfig", "evaluate",
            "train"]
