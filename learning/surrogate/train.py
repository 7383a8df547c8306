"""Minibatch training loop: Adam, clamping, spike regulariser, HDF5 checkpoints,
NaN/inf detection (stops, restores the last good parameters, raises)."""
from __future__ import annotations

import copy
import math
import os
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Callable

import numpy as np

from .checkpoint import TrainState, save_checkpoint
from .errors import SurrogateConfigError, TrainingDivergedError, check_bool, check_count, check_range
from .events import EventDataset
from .memory import retain_freed_memory
from .model import SNN, WEIGHT_DTYPES, Regularizer, layer_grad_norms
from .network import NetworkSpec
from .optim import Adam, clamp_params


LR_SCHEDULES = ("constant", "cosine")
# TrainConfig fields that may change when training resumes (a different `threads` changes the
# float rounding of the gradient sums, so bit-identical continuation needs the same value)
RESUME_FREE = ("epochs", "checkpoint_path", "checkpoint_every", "progress", "threads")


def scheduled_lr(cfg: "TrainConfig", step: int, n_steps: int) -> float:
    """Adam's step size for step `step` (0-based) of `n_steps`: `cfg.lr` throughout, or the
    cosine decay cfg.lr_final + (cfg.lr - cfg.lr_final) (1 + cos(pi step / n_steps)) / 2."""
    if cfg.lr_schedule == "constant":
        return cfg.lr
    return cfg.lr_final + 0.5 * (cfg.lr - cfg.lr_final) * (1.0 + math.cos(math.pi * step / max(1, n_steps)))


@dataclass
class TrainConfig:
    """Training hyper-parameters. `band` is B_th (threshold units, > 0; inf = dense)."""

    epochs: int = 5
    batch_size: int = 32
    lr: float = 1e-3
    method: str = "sparse"
    band: float = 0.1
    reg_strength: float = 0.0
    reg_target: float = 0.0
    train_alpha: bool = True
    train_theta: bool = True
    train_beta: bool = True
    seed: int = 0
    checkpoint_path: str | None = None
    checkpoint_every: int = 1          # epochs
    min_active: float = 0.0            # widen a layer's band while it stores < max(1, min_active*B*T*N) entries
    band_max: float = 8.0              # upper limit of that widening (threshold units)
    progress: bool = False             # tqdm progress bar over minibatches
    threads: int = 1                   # sample-parallel backward (numba prange) when > 1
    rouse: float = 0.0                 # after each epoch, thresholds of hidden neurons that never spiked
                                       # in it are multiplied by (1 - rouse): dead units get no gradient
                                       # (none of their V reaches the band), so they are revived instead
    fallback: bool = False             # a neuron that misses the band in a sample stores its closest
                                       # approach to threshold, so silent neurons still get a gradient
    weight_dtype: str = "float32"      # precision in which the kernels read W and R: float32 (as snnTorch)
                                       # halves their memory traffic; state, gradients and Adam's master
                                       # weights stay float64. 'float64' for the exact float64 network
                                       # (the default of SNN.loss_and_grad, used by the gradient checks)
    lr_schedule: str = "constant"      # 'constant', or 'cosine': lr falls from `lr` to `lr_final` over all
                                       # steps along half a cosine (Loshchilov & Hutter 2017, no restarts)
    lr_final: float = 0.0              # the cosine schedule's last value (0 <= lr_final <= lr)
    keep_best: bool = False            # with validation data: after the last epoch, restore the parameters of
                                       # the epoch with the highest validation accuracy (the first of equals)
                                       # and write them to the checkpoint

    def validate(self) -> None:
        """Raise `SurrogateConfigError` naming the first field with a bad type or value."""
        for name, minimum in (("epochs", 1), ("batch_size", 1), ("checkpoint_every", 1), ("threads", 1),
                              ("seed", 0)):
            setattr(self, name, check_count(name, getattr(self, name), minimum))
        for name in ("train_alpha", "train_theta", "train_beta", "progress", "fallback", "keep_best"):
            check_bool(name, getattr(self, name))
        check_range("lr", self.lr, 0.0, math.inf, lo_open=True, hi_open=True)
        check_range("band (B_th)", self.band, 0.0, math.inf, lo_open=True)
        if self.method not in ("sparse", "dense"):
            raise SurrogateConfigError(f"method={self.method!r} is invalid; allowed ('sparse', 'dense')")
        if self.lr_schedule not in LR_SCHEDULES:
            raise SurrogateConfigError(f"lr_schedule={self.lr_schedule!r} is invalid; allowed {LR_SCHEDULES}")
        check_range("lr_final", self.lr_final, 0.0, self.lr)
        if self.weight_dtype not in WEIGHT_DTYPES:
            raise SurrogateConfigError(f"weight_dtype={self.weight_dtype!r} is invalid; allowed {WEIGHT_DTYPES}")
        check_range("reg_strength", self.reg_strength, 0.0, math.inf, hi_open=True)
        check_range("reg_target", self.reg_target, 0.0, 1.0)
        check_range("min_active", self.min_active, 0.0, 1.0)
        check_range("band_max", self.band_max, 0.0, math.inf, lo_open=True)
        check_range("rouse", self.rouse, 0.0, 1.0, hi_open=True)


@dataclass
class History:
    loss: list[float] = field(default_factory=list)
    grad_norms: list[dict[str, float]] = field(default_factory=list)    # per step, per layer: |gradient| of
                                                                         # the trained parameters (frozen ones left out)
    epoch_grad_norms: list[dict[str, float]] = field(default_factory=list)   # per epoch: mean of the steps' norms
    epoch_loss: list[float] = field(default_factory=list)
    epoch_acc: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    t_backward_s: float = 0.0
    t_forward_s: float = 0.0
    stored_entries: int = 0
    epoch_time_s: list[float] = field(default_factory=list)
    dead_frac: list[list[float]] = field(default_factory=list)     # per epoch, per layer: no spike in the epoch
    active_frac: list[list[float]] = field(default_factory=list)   # per epoch, per layer: stored / (B*T*N)
    band_used: list[list[float]] = field(default_factory=list)     # per epoch, per layer: mean band
    widened_steps: list[int] = field(default_factory=list)          # per epoch: steps with a widened band
    roused: list[list[int]] = field(default_factory=list)           # per epoch, per layer: thresholds lowered
    lr: list[float] = field(default_factory=list)                   # per epoch: Adam's step size at its last step
    best_epoch: int | None = None                                   # keep_best: the epoch (1-based) restored


def rouse_dead(model: SNN, counts: list[np.ndarray], factor: float) -> list[int]:
    """Lower the threshold of every hidden neuron without a spike in `counts` by `factor`
    (theta *= 1 - factor), then clamp; returns how many per layer (all 0 when factor is 0)."""
    if factor == 0:
        return [0] * len(counts)
    for k, c in enumerate(counts):
        model.params[f"h{k}.theta"][c == 0] *= 1.0 - factor
    clamp_params(model.params)
    return [int(np.sum(c == 0)) for c in counts]


def evaluate(model: SNN, data: EventDataset, batch_size: int = 64, weight_dtype: str = "float64") -> float:
    """Classification accuracy (0..1) on `data`; pass the training's weight_dtype to evaluate
    the network that was trained (W and R read in that precision)."""
    correct = 0
    for b in data.batches(batch_size):
        correct += int(np.sum(model.predict(b, weight_dtype) == b.labels))
    return correct / len(data)


def check_data(spec: NetworkSpec, data: EventDataset, name: str = "data") -> None:
    """Raise `SurrogateConfigError` naming the network field (network.n_in, network.n_steps,
    network.n_out) that does not fit `data` (called `name` in the message)."""
    for field_, have, want, what in (("n_in", spec.n_in, data.n_units, "input units"),
                                     ("n_steps", spec.n_steps, data.n_steps, "steps")):
        if have != want:
            hint = ("; for SHD files, set data.n_units (the number of channels) instead: without it the width "
                    "is the highest unit id in each file plus 1" if field_ == "n_in" else "")
            raise SurrogateConfigError(f"network.{field_}={have} does not match the {name} ({want} {what}); "
                                       f"allowed network.{field_} = {want}{hint}")
    if len(data):
        lo, hi = int(data.labels.min()), int(data.labels.max())
        if lo < 0:
            raise SurrogateConfigError(f"the {name} has label {lo}; allowed labels >= 0")
        if hi >= spec.n_out:
            raise SurrogateConfigError(f"network.n_out={spec.n_out} is too small for the {name} (labels in "
                                       f"[{lo}, {hi}]); allowed network.n_out >= {hi + 1}")


def _with_history(err: TrainingDivergedError, hist: History) -> TrainingDivergedError:
    """err with the history of the epochs that finished (err.history), for their summary and curves."""
    err.history = hist
    return err


def _diverged(bad: list[str], cfg: TrainConfig, epoch: int, step: int, restored: int,
              saved_epoch: int | None, resumed_epoch: int | None = None) -> TrainingDivergedError:
    """The error for non-finite values `bad` at `step` (0-based, counted over all epochs) of
    `epoch` (1-based, as in the log and checkpoint), after the parameters were set back to
    those used at step `restored` (-1: the initial ones). resumed_epoch: the epoch the run
    resumed after, if it did."""
    back = f"those used at step {restored}" if restored >= 0 else "the initial ones"
    ck = cfg.checkpoint_path
    if saved_epoch is not None:
        where = f" The checkpoint {ck!r} holds the parameters after epoch {saved_epoch}."
    elif ck and resumed_epoch is not None:
        where = (f" No epoch finished since the run resumed after epoch {resumed_epoch}, so this run wrote no "
                 f"checkpoint: {ck!r} {'is unchanged' if os.path.exists(ck) else 'does not exist'}.")
    elif ck:
        where = (f" No checkpoint was written yet (no epoch finished), so {ck!r} "
                 f"{'is unchanged' if os.path.exists(ck) else 'does not exist'}.")
    else:
        where = ""
    what = ", ".join(bad[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
    return TrainingDivergedError(
        f"{what} not finite in epoch {epoch}, step {step} (weights read as {cfg.weight_dtype}); allowed finite "
        f"values. Training stopped, parameters restored to {back}.{where} Try a lower lr.")


def _resume_config(cfg: TrainConfig) -> dict:
    return {f.name: getattr(cfg, f.name) for f in fields(cfg) if f.name not in RESUME_FREE}


def _restore(model: SNN, data: EventDataset, cfg: TrainConfig, state: TrainState, opt: Adam,
             rng: np.random.Generator) -> History:
    """Check that `state` continues this training and put it back in place (parameters, Adam,
    the shuffling generator); returns the history so far."""
    saved = state.config
    for name, value in _resume_config(cfg).items():
        if name in saved and saved[name] != value:
            raise SurrogateConfigError(
                f"resume: train.{name}={value!r} differs from the checkpoint's {saved[name]!r}; allowed the same "
                f"value (only {', '.join(n for n in RESUME_FREE if n not in ('checkpoint_path', 'progress'))} "
                f"may change)")
    if state.n_train != len(data):
        raise SurrogateConfigError(f"resume: the training data has {len(data)} samples, the checkpoint's "
                                   f"{state.n_train}; allowed the same data")
    if state.epoch >= cfg.epochs:
        raise SurrogateConfigError(f"resume: the checkpoint has finished {state.epoch} epochs; allowed "
                                   f"epochs > {state.epoch}")
    params = state.last if state.last is not None else model.params
    for name, m in state.adam_m.items():
        if name not in params or params[name].shape != m.shape:
            raise SurrogateConfigError(f"resume: the optimiser state of {name!r} does not fit the model's "
                                       f"parameters; allowed the model of the same checkpoint (load_checkpoint)")
    model.params = {k: v.copy() for k, v in params.items()}
    opt.t, opt.m, opt.v = state.adam_t, dict(state.adam_m), dict(state.adam_v)
    rng.bit_generator.state = state.rng
    return History(**state.history)


def train(model: SNN, data: EventDataset, cfg: TrainConfig, val: EventDataset | None = None,
          log: Callable[[str], None] | None = None, resume: TrainState | None = None) -> History:
    """Train `model` in place. On a non-finite loss, gradient or parameter (W and R as read in
    cfg.weight_dtype, where a large float64 weight overflows to inf) the parameters are
    restored to the last good step and `TrainingDivergedError` is raised (the checkpoint
    file, if any, is left as it was: the last epoch this run finished, else untouched).

    resume: `load_train_state(path)` of a checkpoint this function wrote, with `model` from
    `load_checkpoint(path)`: training continues after the checkpoint's epoch up to
    cfg.epochs, with Adam's moments, the shuffling and the history as they were, so the
    result equals an uninterrupted run's (same config; only epochs, checkpoint_every,
    threads and progress may differ, and a different epochs changes a cosine schedule)."""
    cfg.validate()
    if len(data) == 0:
        raise SurrogateConfigError("training dataset is empty; allowed >= 1 sample")
    check_data(model.spec, data, "training data")
    if val is not None:
        check_data(model.spec, val, "validation data")
    if cfg.keep_best and (val is None or len(val) == 0):
        raise SurrogateConfigError("keep_best=True needs validation data (val); allowed keep_best=False without it")
    retain_freed_memory()  # each step frees and reallocates the same large arrays: keep them paged in
    rng = np.random.default_rng(cfg.seed)
    opt = Adam(cfg.lr)
    reg = Regularizer(cfg.reg_strength, cfg.reg_target)
    trainable = {n for n in model.params
                 if not ((n.endswith(".alpha") and not cfg.train_alpha) or (n.endswith(".theta") and not cfg.train_theta)
                         or (n.endswith(".beta") and not cfg.train_beta))}
    hist, step, start = History(), 0, 0
    best_acc, best_params, best_step = -1.0, None, 0
    if resume is not None:
        hist = _restore(model, data, cfg, resume, opt, rng)
        step, start = resume.step, resume.epoch
        if resume.best is not None:
            best_params = {k: v.copy() for k, v in resume.best.items()}
            best_acc, best_step = resume.best_meta["acc"], resume.best_meta["step"]
    good = copy.deepcopy(model.params)
    sizes = [l.size for l in model.spec.layers]
    n_batches = -(-len(data) // cfg.batch_size)
    total_steps = cfg.epochs * n_batches
    saved_epoch = None   # the epoch whose parameters this run last wrote to cfg.checkpoint_path
    resumed = resume.epoch if resume is not None else None
    for epoch in range(start, cfg.epochs):
        t0 = time.perf_counter()
        losses, correct = [], 0
        counts = [np.zeros(n) for n in sizes]
        stored, slots, bands, widened = np.zeros(len(sizes)), np.zeros(len(sizes)), np.zeros(len(sizes)), 0
        it = data.batches(cfg.batch_size, rng)
        bar = None
        if cfg.progress:
            from tqdm import tqdm
            it = bar = tqdm(it, total=n_batches, desc=f"epoch {epoch + 1}/{cfg.epochs}", leave=False,
                            dynamic_ncols=True)
        for batch in it:
            r = model.loss_and_grad(batch, method=cfg.method, band=cfg.band, reg=reg, min_active=cfg.min_active,
                                    band_max=cfg.band_max, n_threads=cfg.threads, fallback=cfg.fallback,
                                    weight_dtype=cfg.weight_dtype)
            bad = ([] if math.isfinite(r.loss) else [f"loss={r.loss!r}"]) + \
                [f"gradient of {n}" for n, g in r.grads.items() if not np.all(np.isfinite(g))] + \
                [f"parameter {n}" for n in model.nonfinite_params(cfg.weight_dtype)]
            if bad:
                model.params = good
                raise _with_history(_diverged(bad, cfg, epoch + 1, step, step - 1, saved_epoch, resumed), hist)
            good = copy.deepcopy(model.params)
            opt.lr = scheduled_lr(cfg, step, total_steps)
            opt.step(model.params, r.grads, trainable)
            clamp_params(model.params)
            bad = [f"parameter {n} after the update" for n in model.nonfinite_params(cfg.weight_dtype)]
            if bad:
                model.params = good
                raise _with_history(_diverged(bad, cfg, epoch + 1, step, step, saved_epoch, resumed), hist)
            step += 1
            losses.append(r.loss)
            correct += int(np.sum(r.logits.argmax(axis=1) == batch.labels))
            hist.loss.append(r.loss)
            hist.grad_norms.append(layer_grad_norms({n: g for n, g in r.grads.items() if n in trainable}))
            hist.t_backward_s += r.stats["t_backward_s"]
            hist.t_forward_s += r.stats["t_forward_s"]
            hist.stored_entries += int(sum(r.stats["stored_entries"]))
            for k, n in enumerate(sizes):
                counts[k] += r.stats["neuron_spikes"][k]
                stored[k] += r.stats["stored_entries"][k]
                slots[k] += batch.batch_size * model.spec.n_steps * n
                bands[k] += r.stats["bands"][k]
            widened += int(any(b > cfg.band for b in r.stats["bands"])) if cfg.method == "sparse" else 0
            if bar is not None:
                bar.set_postfix(loss=f"{r.loss:.3f}")
        if bar is not None:
            bar.close()
        nb_ = max(1, len(losses))
        steps = hist.grad_norms[len(hist.grad_norms) - len(losses):]
        hist.epoch_grad_norms.append({k: float(np.mean([g[k] for g in steps])) for k in steps[0]} if steps else {})
        hist.dead_frac.append([float(np.mean(c == 0)) for c in counts])
        hist.roused.append(rouse_dead(model, counts, cfg.rouse))
        hist.active_frac.append([float(a / s) for a, s in zip(stored, slots)])
        hist.band_used.append([float(b / nb_) for b in bands])
        hist.widened_steps.append(widened)
        hist.epoch_loss.append(float(np.mean(losses)))
        hist.epoch_acc.append(correct / len(data))
        hist.epoch_time_s.append(time.perf_counter() - t0)
        hist.lr.append(opt.lr)
        if val is not None:
            hist.val_acc.append(evaluate(model, val, cfg.batch_size, cfg.weight_dtype))
            if cfg.keep_best and hist.val_acc[-1] > best_acc:
                best_acc, best_params, hist.best_epoch = hist.val_acc[-1], copy.deepcopy(model.params), epoch + 1
                best_step = step
        last = epoch + 1 == cfg.epochs
        last_params = model.params
        if last and cfg.keep_best:
            model.params = best_params
        if cfg.checkpoint_path and ((epoch + 1) % cfg.checkpoint_every == 0 or last):
            ep, st = (hist.best_epoch, best_step) if last and cfg.keep_best else (epoch + 1, step)
            state = TrainState(epoch=epoch + 1, step=step, config=_resume_config(cfg), n_train=len(data),
                               adam_t=opt.t, adam_m=opt.m, adam_v=opt.v, rng=rng.bit_generator.state,
                               history=asdict(hist), last=last_params if last_params is not model.params else None,
                               best=best_params, best_meta={"acc": best_acc, "step": best_step})
            save_checkpoint(cfg.checkpoint_path, model, step=st, epoch=ep, loss=hist.epoch_loss[ep - 1],
                            weight_dtype=cfg.weight_dtype, train_state=state)
            saved_epoch = ep
        if log:
            va = f" val_acc={hist.val_acc[-1]:.3f}" if val is not None else ""
            gn = " ".join(f"|g_{k}|={v:.3g}" for k, v in hist.epoch_grad_norms[-1].items())
            dead = "/".join(f"{100 * d:.0f}%" for d in hist.dead_frac[-1])
            log(f"epoch {epoch + 1}/{cfg.epochs} loss={hist.epoch_loss[-1]:.4f} acc={hist.epoch_acc[-1]:.3f}{va} "
                f"dead={dead} {gn} ({time.perf_counter() - t0:.1f}s)")
            if last and cfg.keep_best:
                log(f"kept the parameters of epoch {hist.best_epoch} (validation accuracy {best_acc:.3f})")
    return hist
