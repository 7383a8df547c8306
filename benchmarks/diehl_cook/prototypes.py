"""How good are the learned receptive fields as prototypes? Validation only (never t10k).

    python benchmarks/diehl_cook/prototypes.py runs/n400_inh100_10ep_weights.h5 --n 400

Each excitatory neuron's input weights are a prototype. Every image goes to the prototype with the
largest dot product (or cosine); a prototype takes the majority label of its 4500 training images;
validation images are scored by their prototype's label. Also reported: how similar the fields are to
each other (mean over fields of the largest cosine to another field), and the score after one Lloyd step
(each field replaced by the mean of the training images it wins), which shows how far the fields sit
from the means of their own clusters. The same is done with k-means centroids
(k = n, Lloyd's algorithm on the same 4500 images): the accuracy a winner-take-all layer of n units
could reach with mean-like prototypes. Writes results/prototypes_<weights file stem>.json.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import data, write_json  # noqa: E402
from script_args import ArgumentParser, existing_file, positive_int, run  # noqa: E402

from eventsim.weights_io import read_projection  # noqa: E402


def nearest_label_accuracy(scores_tr, y_tr, scores_va, y_va) -> float:
    """Winner = argmax score; winner's label = majority of its training images."""
    win_tr, win_va = np.argmax(scores_tr, 1), np.argmax(scores_va, 1)
    labels = np.full(scores_tr.shape[1], -1)
    for j in np.unique(win_tr):
        labels[j] = np.bincount(y_tr[win_tr == j], minlength=10).argmax()
    return float(np.mean(labels[win_va] == y_va))


def cluster_means(X: np.ndarray, assign: np.ndarray, C: np.ndarray) -> np.ndarray:
    """C [k, d] with row j replaced by the mean of the rows of X assigned to j (empty clusters keep theirs)."""
    C = C.copy()
    for j in np.unique(assign):
        C[j] = X[assign == j].mean(0)
    return C


def kmeans(X: np.ndarray, k: int, iters: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    C = X[rng.choice(len(X), k, replace=False)]
    for _ in range(iters):
        C = cluster_means(X, np.argmin((C ** 2).sum(1) - 2 * X @ C.T, 1), C)
    return C


def main() -> None:
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("weights", type=existing_file)
    ap.add_argument("--n", type=positive_int, required=True)
    ap.add_argument("--iters", type=positive_int, default=30)
    a = ap.parse_args()
    h = read_projection(a.weights, "input_exc", -1)
    W = np.zeros((784, a.n))
    W[h["pre"], h["post"]] = h["weight"]
    (Xtr, ytr), (Xva, yva), _ = data()
    Xtr = Xtr.reshape(len(Xtr), -1) / 255.0
    Xva = Xva.reshape(len(Xva), -1) / 255.0
    Wc = W / np.maximum(np.linalg.norm(W, axis=0, keepdims=True), 1e-12)
    sim = Wc.T @ Wc
    np.fill_diagonal(sim, 0.0)
    # one Lloyd step from the learned fields: each becomes the mean of the images it wins (cosine)
    L = cluster_means(Xtr, np.argmax(Xtr @ Wc, 1), Wc.T).T
    L /= np.maximum(np.linalg.norm(L, axis=0, keepdims=True), 1e-12)
    C = kmeans(Xtr, a.n, a.iters, 0)
    doc = {"weights": os.path.basename(a.weights), "n": a.n,
           "field_max_cosine_mean": float(sim.max(1).mean()),
           "fields_with_a_twin_above_0.95": int((sim.max(1) > 0.95).sum()),
           "val_dot": nearest_label_accuracy(Xtr @ W, ytr, Xva @ W, yva),
           "val_cosine": nearest_label_accuracy(Xtr @ Wc, ytr, Xva @ Wc, yva),
           "val_cosine_after_one_lloyd_step": nearest_label_accuracy(Xtr @ L, ytr, Xva @ L, yva),
           "val_kmeans": nearest_label_accuracy(-((C ** 2).sum(1) - 2 * Xtr @ C.T), ytr,
                                                -((C ** 2).sum(1) - 2 * Xva @ C.T), yva)}
    print(doc)
    print(write_json(f"prototypes_{os.path.splitext(os.path.basename(a.weights))[0]}.json", doc))


if __name__ == "__main__":
    run(main)
