"""Multimodal ensembles (Rathi & Roy): an image and a spoken-digit Diehl & Cook ensemble in ONE
eventsim network, joined by excitatory-only cross-modal projections that learn with STDP.

Structure
---------
- Image ensemble: 784 Poisson inputs (pixel / 8 * intensity Hz) -> N_img adaptive excitatory
  neurons (plastic, power-law STDP, per-neuron input normalisation) with one-to-one inhibitory
  partners and lateral inhibition, exactly as `eventsim.models.diehl_cook` (same DCParams).
- Audio ensemble: the same circuit on n_bins x n_channels Poisson inputs whose rates are a
  time-normalised cochleagram of the utterance (see `audio_features`).
- Cross-modal projections img_exc -> aud_exc and aud_exc -> img_exc: all-to-all, excitatory
  only, equal small initial weights (CrossParams.w_init), power-law STDP with a long presynaptic
  trace, incoming sum per neuron normalised before each learning presentation
  (learning.crossmodal). They are real plastic synapses of the event loop: while a same-class
  pair is shown, image neurons of class c and audio neurons of class c fire in the same
  presentation and their connections grow; the rest decays towards 0.

Audio inputs (`audio_features`)
-------------------------------
The cochlea front end (eventsim.datasets.cochlea) turns a wav into spikes of n_channels
gammatone channels. A Diehl & Cook layer learns rate patterns (prototypes), so each utterance
becomes a rate image: the span between the lo_pct and hi_pct percentiles of its spike times is
cut into n_bins equal bins (time-normalised, so slow and fast speakers align), spikes are counted
per (bin, channel), raised to `power` (2: more contrast, sparser rate images) and scaled so
that the largest is 1, like an image's brightest pixel. Input i then fires at feature_i * rate_hz * intensity / base intensity
Hz during the 350 ms presentation (rate_hz = 63.75, MNIST's brightest pixel), so the retry rule
(more intensity if fewer than min_spikes) works as for images. Why peak scaling: the STDP
rule potentiates an input only if its trace exceeds x_tar = 0.4 at post spikes, which needs
rates of ~30 Hz or more (nearest-spike trace, tau_pre = 20 ms); spreading MNIST's total rate
over 256 dense inputs (~25 Hz each) gave 54-55 % on validation with many retries, peak-scaled
squared counts 63-65 % (benchmarks/multimodal/README.md).

Schedule and read-out
---------------------
`train(images, audio, cross="off"|"learn"|"fixed", inputs="learn"|"fixed")` presents pairs;
"off" removes cross-modal input for the presentation (weights held at their values),
"fixed" keeps cross input but undoes its STDP changes, "learn" lets it learn. Between
presentations Python only normalises, switches rates and copies weights; the event loop runs
in numba. Read-out: per-ensemble label assignment (`assign_labels` of diehl_cook) from
responses to training samples shown with cross input off (the ensembles are then
independent); per-ensemble class scores
(mean count of each class's neurons); the combined prediction sums the two score vectors, each
normalised to sum 1 (`fuse`).
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

import eventsim as es
from eventsim import checks
from eventsim.errors import EventsimError
from eventsim.learning.crossmodal import CrossParams
from eventsim.learning.weights import ProjectionWeights
from eventsim.learning.homeostasis import WeightNormalizer
from eventsim.models import AdaptiveLIFExp, LIFExp
from eventsim.models.diehl_cook import DCParams, N_INPUT, argmax_or_unclassified, input_rates

CROSS_MODES = ("off", "fixed", "learn")


# audio features ------------------------------------------------------------------------------
@dataclass(frozen=True)
class AudioParams:
    """Rate coding of cochlea spikes for the audio ensemble (times in ms, rates in Hz)."""
    n_channels: int = 32
    n_bins: int = 8
    lo_pct: float = 1.0            # time span = [lo_pct, hi_pct] percentiles of the spike times
    hi_pct: float = 99.0
    power: float = 2.0             # counts are raised to this power before scaling (contrast)
    scale: str = "peak"            # "peak": each sample's largest feature is 1; "sum": features sum to 1
    rate_hz: float = 63.75         # rate of a feature of 1 at the base intensity (MNIST: 255 / 8 * 2)

    def __post_init__(self) -> None:
        checks.count("AudioParams.n_channels", self.n_channels, 1)
        checks.count("AudioParams.n_bins", self.n_bins, 1)
        lo = checks.number("AudioParams.lo_pct", self.lo_pct, checks.in_range, 0.0, 100.0)
        hi = checks.number("AudioParams.hi_pct", self.hi_pct, checks.in_range, 0.0, 100.0)
        if not lo < hi:
            raise EventsimError(f"AudioParams.lo_pct = {self.lo_pct!r}, hi_pct = {self.hi_pct!r}: "
                                "need 0 <= lo_pct < hi_pct <= 100")
        checks.number("AudioParams.power", self.power, checks.positive)
        if self.scale not in ("peak", "sum"):
            raise EventsimError(f"AudioParams.scale = {self.scale!r}: allowed 'peak', 'sum'")
        checks.number("AudioParams.rate_hz", self.rate_hz, checks.positive)

    @property
    def n_inputs(self) -> int:
        return self.n_bins * self.n_channels


def audio_features(times_ms, units, params: AudioParams = AudioParams()) -> np.ndarray:
    """Rate images [n_samples, n_bins * n_channels] (bin-major), each row scaled to
    a peak of 1 (or a sum of 1, AudioParams.scale); all zeros for a sample without spikes. times_ms/units: lists of per-sample arrays."""
    if len(times_ms) != len(units):
        raise EventsimError(f"len(times_ms) = {len(times_ms)} != len(units) = {len(units)}")
    K, C = params.n_bins, params.n_channels
    out = np.zeros((len(times_ms), K, C))
    silent = 0
    for i, (t, u) in enumerate(zip(times_ms, units)):
        t = np.asarray(t, np.float64)
        u = np.asarray(u, np.int64)
        if t.shape != u.shape:
            raise EventsimError(f"sample {i}: {t.size} spike times but {u.size} units")
        if u.size and (u.min() < 0 or u.max() >= C):
            raise EventsimError(f"sample {i}: unit id {int(u.min() if u.min() < 0 else u.max())}: allowed range "
                                f"is [0, AudioParams.n_channels - 1 = {C - 1}]")
        if not np.isfinite(t).all():
            raise EventsimError(f"sample {i}: spike times must be finite numbers (ms), got {t[~np.isfinite(t)][0]}")
        if t.size == 0:
            silent += 1
            continue
        a, b = np.percentile(t, [params.lo_pct, params.hi_pct])
        if b <= a:
            b = a + 1.0
        k = np.clip(((t - a) / (b - a) * K).astype(np.int64), 0, K - 1)
        np.add.at(out[i], (k, u), 1.0)
    if silent:
        warnings.warn(f"audio_features: {silent} of {len(times_ms)} samples have no spikes; their features are all "
                      f"zero (the audio ensemble gets no input for them)", stacklevel=2)
    if params.power != 1.0:
        out = out ** params.power
    out = out.reshape(len(times_ms), K * C)
    s = out.sum(axis=1, keepdims=True) if params.scale == "sum" else out.max(axis=1, keepdims=True)
    return np.divide(out, s, out=np.zeros_like(out), where=s > 0)


def audio_rates(features: np.ndarray, params: AudioParams, intensity: float, base_intensity: float) -> np.ndarray:
    """Poisson rates (Hz) of the audio inputs for one feature vector (features in [0, 1], as
    audio_features makes them with scale "peak"; "sum" gives smaller values)."""
    x = checks.in_range("audio feature values", features, 0.0, 1.0)
    return x * params.rate_hz * (intensity / base_intensity)


# image degradations ----------------------------------------------------------------------------
def pixel_noise(images: np.ndarray, fraction: float, seed: int = 0) -> np.ndarray:
    """Replace `fraction` of the pixels of each image (chosen at random) by uniform noise in [0, 255]."""
    return _corrupt(images, fraction, seed, noise=True)


def pixel_dropout(images: np.ndarray, fraction: float, seed: int = 0) -> np.ndarray:
    """Set `fraction` of the pixels of each image (chosen at random) to 0."""
    return _corrupt(images, fraction, seed, noise=False)


def _corrupt(images, fraction, seed, noise):
    f = float(checks.in_range("fraction", fraction, 0.0, 1.0))
    x = np.array(images, copy=True).reshape(len(images), -1)
    rng = np.random.default_rng(seed)
    mask = rng.random(x.shape) < f
    if noise:
        x[mask] = rng.integers(0, 256, size=int(mask.sum()))
    else:
        x[mask] = 0
    return x.reshape(np.shape(images))


# pairing --------------------------------------------------------------------------------------
def pair_by_class(labels_a: np.ndarray, labels_b: np.ndarray, seed: int = 0, shuffle: bool = True) -> np.ndarray:
    """For each sample of A, an index into B with the same class: each class's B samples are used
    in turn (cycling; shuffled with `seed` per cycle if shuffle). Raises if a class of A has no B."""
    labels_a, labels_b = np.asarray(labels_a), np.asarray(labels_b)
    rng = np.random.default_rng(seed)
    out = np.empty(labels_a.size, np.int64)
    for c in np.unique(labels_a):
        pool = np.flatnonzero(labels_b == c)
        if pool.size == 0:
            raise EventsimError(f"class {int(c)}: no sample of the other modality to pair with")
        where = np.flatnonzero(labels_a == c)
        reps = -(-where.size // pool.size)
        seq = np.concatenate([rng.permutation(pool) if shuffle else pool for _ in range(reps)])
        out[where] = seq[:where.size]
    return out


# network --------------------------------------------------------------------------------------
class Ensemble:
    """One Diehl & Cook circuit (inputs, exc, inh) built into an existing network; names are
    prefixed (e.g. 'img_exc', 'img_input_exc')."""

    def __init__(self, net: es.Network, name: str, n: int, n_input: int, params: DCParams, plastic: bool):
        p = params
        self.name, self.n, self.n_input, self.p, self.plastic = name, int(n), int(n_input), p, plastic
        self.exc = net.population(self.n, AdaptiveLIFExp(
            tau_m=p.exc_tau_m, v_rest=p.exc_v_rest, v_reset=p.exc_v_reset, v_th=p.exc_v_th, t_ref=p.exc_t_ref,
            tau_syn_e=p.tau_syn_e, tau_syn_i=p.tau_syn_i, theta_plus=p.theta_plus if plastic else 0.0,
            tau_theta=p.tau_theta if plastic else np.inf), name=f"{name}_exc", record=True)
        self.inh = net.population(self.n, LIFExp(
            tau_m=p.inh_tau_m, v_rest=p.inh_v_rest, v_reset=p.inh_v_reset, v_th=p.inh_v_th, t_ref=p.inh_t_ref,
            tau_syn_e=p.tau_syn_e, tau_syn_i=p.tau_syn_i), name=f"{name}_inh", record=False)
        self.inp = net.poisson(self.n_input, 0.0, name=f"{name}_input")
        s = p.w_scale
        self.p_in = net.connect(self.inp, self.exc, es.all_to_all(), weight=es.uniform(0.0, p.w_init_max * s),
                                delay=p.delay_in, name=f"{name}_input_exc", plasticity=p.rule() if plastic else None)
        net.connect(self.exc, self.inh, es.one_to_one(), weight=p.w_exc_inh * p.exc_inh_scale,
                    delay=p.delay_lateral, name=f"{name}_exc_inh")
        pre, post = np.meshgrid(np.arange(self.n), np.arange(self.n), indexing="ij")
        off = pre != post
        net.connect(self.inh, self.exc, es.explicit(pre[off], post[off]), weight=-p.w_inh_exc * p.inh_scale,
                    delay=p.delay_lateral, name=f"{name}_inh_exc")
        self.normalizer = WeightNormalizer(net, self.p_in, p.norm_total * s)
        self.input_w = ProjectionWeights(net, self.p_in)
        self._n_seen = 0

    def new_counts(self) -> np.ndarray:
        _, ids = self.exc.spikes()
        new = ids[self._n_seen:]
        self._n_seen = ids.size
        return np.bincount(new, minlength=self.n)

    def input_weights(self) -> np.ndarray:
        """Dense [n_input, n] input weights in D&C units."""
        pre, post, w = self.p_in.weights()
        out = np.zeros((self.n_input, self.n))
        out[pre, post] = w / self.p.w_scale
        return out


@dataclass
class TrainLog:
    samples: int = 0
    presentations: int = 0
    retries: dict = field(default_factory=lambda: {"img": 0, "aud": 0})


class Multimodal:
    """Image + audio Diehl & Cook ensembles with cross-modal STDP, in one eventsim network.

    n_image = 0 or n_audio = 0 builds a single ensemble (no cross-modal projections), which is
    how the unimodal and leave-one-speaker-out experiments run the same code."""

    def __init__(self, n_image: int = 100, n_audio: int = 100, image_params: DCParams = DCParams(),
                 audio_params: DCParams = DCParams(), audio: AudioParams = AudioParams(),
                 cross: CrossParams = CrossParams(), seed: int = 0, plastic: bool = True):
        n_image = checks.count("Multimodal n_image", n_image, 0)
        n_audio = checks.count("Multimodal n_audio", n_audio, 0)
        if n_image + n_audio == 0:
            raise EventsimError(f"n_image = {n_image}, n_audio = {n_audio}: need >= 0 each and at least one > 0")
        self.plastic = plastic
        self.audio = audio
        self.cross_params = cross
        self.net = net = es.Network(seed=seed)
        self.img = Ensemble(net, "img", n_image, N_INPUT, image_params, plastic) if n_image else None
        self.aud = Ensemble(net, "aud", n_audio, audio.n_inputs, audio_params, plastic) if n_audio else None
        self.cross = []
        if self.img is not None and self.aud is not None:
            rule = cross.rule() if plastic else None
            w0 = cross.w_init * cross.w_scale
            self.p_ia = net.connect(self.img.exc, self.aud.exc, es.all_to_all(), weight=w0, delay=cross.delay,
                                    name="img_aud", plasticity=rule, receptor="excitatory")
            self.p_ai = net.connect(self.aud.exc, self.img.exc, es.all_to_all(), weight=w0, delay=cross.delay,
                                    name="aud_img", plasticity=rule, receptor="excitatory")
            self.cross = [ProjectionWeights(net, self.p_ia), ProjectionWeights(net, self.p_ai)]
            self.cross_norm = [WeightNormalizer(net, p, cross.norm_total * cross.w_scale)
                               for p in (self.p_ia, self.p_ai)] if cross.norm_total > 0 else []
        self.log = TrainLog()

    @property
    def ensembles(self) -> list[Ensemble]:
        return [e for e in (self.img, self.aud) if e is not None]

    # one presentation ----------------------------------------------------------------------
    def _rates(self, ens: Ensemble, x: np.ndarray, intensity: float) -> np.ndarray:
        if ens is self.img:
            return input_rates(x, intensity)
        return audio_rates(x, self.audio, intensity, ens.p.intensity)

    def present(self, image: np.ndarray | None = None, audio: np.ndarray | None = None,
                cross: str = "learn", inputs: str = "learn") -> dict[str, np.ndarray]:
        """Show an image and/or an audio feature vector together for t_present, then rest t_rest.
        An ensemble that fired fewer than min_spikes is shown its input again with intensity + 1
        (at most max_retries times; only the ensembles that fell short are re-shown).

        cross: "off" (no cross-modal input), "fixed" (input, no learning) or "learn".
        inputs: "learn" or "fixed" (input weights restored after the presentation; thresholds
        keep adapting unless theta_plus was set to 0). Returns {"img": counts, "aud": counts}
        of the last presentation in which each ensemble's input was shown."""
        if cross not in CROSS_MODES:
            raise EventsimError(f"cross = {cross!r}: allowed {CROSS_MODES}")
        if inputs not in ("learn", "fixed"):
            raise EventsimError(f"inputs = {inputs!r}: allowed 'learn', 'fixed'")
        shown = {}
        if image is not None:
            if self.img is None:
                raise EventsimError("image given but the network has no image ensemble (n_image = 0)")
            if np.size(image) != N_INPUT:
                raise EventsimError(f"image has {np.size(image)} pixels; expected {N_INPUT} (28 x 28)")
            shown["img"] = (self.img, image)
        if audio is not None:
            if self.aud is None:
                raise EventsimError("audio given but the network has no audio ensemble (n_audio = 0)")
            if np.shape(audio) != (self.aud.n_input,):
                raise EventsimError(f"audio features have shape {np.shape(audio)}; expected ({self.aud.n_input},)")
            shown["aud"] = (self.aud, audio)
        if not shown:
            raise EventsimError("present() needs an image, audio features, or both")
        saved_cross = [c.get() for c in self.cross] if (self.cross and cross != "learn") else None
        if self.cross and cross == "learn" and self.plastic:
            for nz in self.cross_norm:
                nz()
        if saved_cross is not None and cross == "off":
            for c in self.cross:
                c.set(0.0)
        learn_in = self.plastic and inputs == "learn"
        saved_in = {k: e.input_w.get() for k, (e, _) in shown.items()} if (self.plastic and not learn_in) else {}
        # projections that must not learn during this presentation: their rules are frozen (zero
        # rates) while it runs; restoring the saved weights afterwards alone would let weights
        # learned within the presentation act in it (zeroed cross weights grew back under "off")
        frozen = []
        if self.plastic:
            if self.cross and cross != "learn":
                frozen += [self.p_ia, self.p_ai]
            if not learn_in:
                frozen += [e.p_in for e in self.ensembles]
        rules = [proj.plasticity for proj in frozen]
        for proj in frozen:
            proj.set_plasticity(proj.plasticity.frozen())
        try:
            counts = self._show(shown, learn_in)
        finally:
            for proj, rule in zip(frozen, rules):
                proj.set_plasticity(rule)
        if saved_cross is not None:
            for c, w in zip(self.cross, saved_cross):
                c.set(w)
        for k, w in saved_in.items():
            shown[k][0].input_w.set(w)
        return counts

    def _show(self, shown: dict, learn_in: bool) -> dict[str, np.ndarray]:
        """Run one presentation (with retries at higher intensity) of the inputs in `shown`;
        returns the spike counts per ensemble."""
        counts = {e.name: np.zeros(e.n, np.int64) for e in self.ensembles}
        intensity = {k: e.p.intensity for k, (e, _) in shown.items()}
        todo = list(shown)
        max_retries = max(e.p.max_retries for e, _ in shown.values())
        for attempt in range(max_retries + 1):
            for k in todo:
                e, x = shown[k]
                if learn_in:
                    e.normalizer()
                e.inp.set_rate(self._rates(e, x, intensity[k]))
            t_present = max(shown[k][0].p.t_present for k in todo)
            t_rest = max(shown[k][0].p.t_rest for k in todo)
            self.net.run(t_present, progress=False)
            for k in todo:
                shown[k][0].inp.set_rate(0.0)
            self.net.run(t_rest, progress=False)
            self.log.presentations += 1
            new = {e.name: e.new_counts() for e in self.ensembles}
            for name in new:
                if name in todo or name not in shown:
                    counts[name] = new[name]
            short = [k for k in todo if new[k].sum() < shown[k][0].p.min_spikes
                     and attempt < shown[k][0].p.max_retries]
            if not short:
                break
            for k in short:
                intensity[k] += 1.0
                self.log.retries[k] += 1
            todo = short
        return counts

    # training -------------------------------------------------------------------------------
    def train(self, images: np.ndarray | None = None, audio: np.ndarray | None = None, cross: str = "learn",
              inputs: str = "learn", log_every: int = 0, callback=None,
              every: int = 0) -> dict:
        """Present samples (pairs if both are given, same length) with learning.
        callback(self, k) runs after every `every` samples. Returns timing and retries."""
        if not self.plastic:
            raise EventsimError("train() needs a plastic network (plastic=True)")
        n = _n_samples(images, audio)
        t0, c0 = time.perf_counter(), time.process_time()
        r0 = dict(self.log.retries)
        for k in range(n):
            self.present(None if images is None else images[k], None if audio is None else audio[k],
                         cross=cross, inputs=inputs)
            self.log.samples += 1
            if log_every and (k + 1) % log_every == 0:
                el = time.perf_counter() - t0
                print(f"  trained {k + 1}/{n}  {(k + 1) / el:.1f} samples/s wall, "
                      f"{(k + 1) / (time.process_time() - c0):.1f} per cpu-s", flush=True)
            if callback is not None and every and (k + 1) % every == 0:
                callback(self, k + 1)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        return {"samples": n, "wall_s": wall, "cpu_s": cpu, "samples_per_cpu_s": n / max(cpu, 1e-9),
                "retries": {k: self.log.retries[k] - r0[k] for k in r0}}

    def responses(self, images: np.ndarray | None = None, audio: np.ndarray | None = None, cross: str = "fixed",
                  log_every: int = 0, order_seed: int | None = None) -> dict[str, np.ndarray]:
        """Spike counts {"img": [n, N_img], "aud": [n, N_aud]} (ensembles that exist), one
        presentation per sample (pairs if both given); cross "off" or "fixed" (no learning).
        Use on a frozen network (plastic=False).

        order_seed: present the samples in a random order drawn from this seed (rows are still
        returned in input order). A presentation leaves some state for the next one (currents
        after the rest, adapted thresholds), so a class-sorted set such as the FSDD listing
        should not be shown in its listed order."""
        if cross == "learn":
            raise EventsimError("responses(): cross must be 'off' or 'fixed'")
        n = _n_samples(images, audio)
        if order_seed is not None:
            checks.count("responses order_seed", order_seed, 0)
        order = np.arange(n) if order_seed is None else np.random.default_rng(order_seed).permutation(n)
        out = {e.name: np.zeros((n, e.n), np.int32) for e in self.ensembles}
        t0 = time.perf_counter()
        for done, k in enumerate(order, 1):
            c = self.present(None if images is None else images[k], None if audio is None else audio[k],
                             cross=cross, inputs="fixed")
            for name in out:
                out[name][k] = c[name]
            if log_every and done % log_every == 0:
                print(f"  responses {done}/{n}  {done / (time.perf_counter() - t0):.1f} /s", flush=True)
        return out

    # weights -------------------------------------------------------------------------------
    def cross_matrices(self) -> dict[str, np.ndarray]:
        """Dense cross-modal weights in D&C units: {"img_aud": [N_img, N_aud], "aud_img": [N_aud, N_img]}."""
        if not self.cross:
            return {}
        s = self.cross_params.w_scale
        return {"img_aud": self.cross[0].matrix() / s, "aud_img": self.cross[1].matrix() / s}

    def save(self, path: str, label: str = "") -> str:
        return self.net.save_weights(path, label)

    @classmethod
    def frozen_from(cls, path: str, snapshot: int | str = -1, seed: int = 1, **kw) -> "Multimodal":
        """A non-plastic network (same constructor arguments) with weights and thresholds (theta)
        loaded from a weight file; theta is frozen (theta_plus = 0, tau_theta = inf)."""
        m = cls(seed=seed, plastic=False, **kw)
        m.net.load_weights(path, snapshot)
        for e in m.ensembles:
            e.exc.set(theta_plus=0.0, tau_theta=np.inf)
        return m


def _n_samples(images, audio) -> int:
    if images is None and audio is None:
        raise EventsimError("need images, audio features, or both")
    if images is not None and audio is not None and len(images) != len(audio):
        raise EventsimError(f"len(images) = {len(images)} != len(audio) = {len(audio)}: pairs must match")
    return len(images) if images is not None else len(audio)


# read-out --------------------------------------------------------------------------------------
def class_scores(responses: np.ndarray, assignments: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """[n, n_classes]: mean count of the neurons assigned to each class (0 for classes without neurons)."""
    r = np.asarray(responses, np.float64)
    out = np.zeros((r.shape[0], n_classes))
    for c in range(n_classes):
        sel = assignments == c
        if sel.any():
            out[:, c] = r[:, sel].mean(axis=1)
    return out


def fuse(*scores: np.ndarray) -> np.ndarray:
    """Combined prediction: argmax of the sum of the score vectors, each normalised to sum 1
    per sample (a silent ensemble contributes nothing). A sample on which every ensemble is
    silent is not classified: -1 (`diehl_cook.UNCLASSIFIED`, counted as wrong), as in
    `diehl_cook.classify`."""
    total = 0.0
    for s in scores:
        s = np.asarray(s, np.float64)
        z = s.sum(axis=1, keepdims=True)
        total = total + np.divide(s, z, out=np.zeros_like(s), where=z > 0)
    return argmax_or_unclassified(total)


__all__ = ["AudioParams", "audio_features", "audio_rates", "pixel_noise", "pixel_dropout", "pair_by_class",
           "Ensemble", "Multimodal", "CrossParams", "class_scores", "fuse", "CROSS_MODES"]
