#!/usr/bin/env bash
# Create the reference-simulator virtualenvs used by the benchmarks (idempotent).
#   .venv-nest   : nest-simulator (PyPI wheel, imports as `nest`) + numpy
#   .venv-brian2 : brian2 + numpy<2.4 + Cython (runtime codegen) + setuptools
#   .venv-snntorch : torch==2.13.0 (CPU wheel from the local wheel dir) + snntorch
#                    (benchmarks/surrogate_vs_snntorch.py)
# Needs python3.11 and gcc/g++ (Brian2 Cython runtime and C++ standalone).
# Usage: bash benchmarks/setup_venvs.sh [--force] [--smoke]
#   --force  recreate the three venvs from scratch
#   --smoke  afterwards run tiny NEST, Brian2-Cython and Brian2-cpp_standalone sims
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="${PYTHON:-python3.11}"
FORCE=0
SMOKE=0
for arg in "$@"; do
    case "$arg" in
        --force) FORCE=1 ;;
        --smoke) SMOKE=1 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done
export PYNEST_QUIET=1

make_venv() {  # make_venv DIR CHECK_CMD PKG...
    local dir="$1" check="$2"; shift 2
    if [[ $FORCE -eq 1 ]]; then rm -rf "$dir"; fi
    if [[ -x "$dir/bin/python" ]] && "$dir/bin/python" -c "$check" >/dev/null 2>&1; then
        echo "[setup_venvs] $dir already OK"
        return
    fi
    [[ -x "$dir/bin/python" ]] || "$PY" -m venv "$dir"
    "$dir/bin/python" -m pip install --quiet --upgrade pip
    "$dir/bin/python" -m pip install --quiet "$@"
    "$dir/bin/python" -c "$check"
}

make_venv "$HERE/.venv-nest" \
    "import nest, numpy; print('nest', nest.__version__, 'numpy', numpy.__version__)" \
    "nest-simulator==3.10.0" "numpy"

make_venv "$HERE/.venv-brian2" \
    "import brian2, numpy, Cython; print('brian2', brian2.__version__, 'numpy', numpy.__version__, 'Cython', Cython.__version__)" \
    "brian2==2.9.0" "numpy<2.4" "Cython" "setuptools"

# torch is pinned to the CPU build: a plain `torch` requirement would pull the multi-GB CUDA wheels.
make_venv "$HERE/.venv-snntorch" \
    "import torch, snntorch; print('torch', torch.__version__, 'snntorch', snntorch.__version__)" \
    "torch==2.13.0" "snntorch==1.0.0" "numpy"

if [[ $SMOKE -eq 1 ]]; then
    "$HERE/.venv-nest/bin/python" - <<'PYEOF'
import nest
nest.verbosity = nest.VerbosityLevel.ERROR
n = nest.Create("iaf_psc_delta_ps", params={"I_e": 500.0})
sr = nest.Create("spike_recorder")
nest.Connect(n, sr)
nest.Simulate(100.0)
assert sr.n_events > 0
print("[smoke] nest", nest.__version__, "spikes:", sr.n_events)
PYEOF
    for target in cython cpp_standalone; do
        "$HERE/.venv-brian2/bin/python" - "$target" <<'PYEOF'
import atexit, shutil, sys, tempfile
import brian2 as b2
target = sys.argv[1]
if target == "cpp_standalone":
    tmp = tempfile.mkdtemp(prefix="b2smoke_")
    atexit.register(shutil.rmtree, tmp, True)
    b2.set_device("cpp_standalone", directory=tmp)
else:
    b2.prefs.codegen.target = "cython"
G = b2.NeuronGroup(10, "dv/dt = (1.1 - v) / (10*ms) : 1", threshold="v > 1",
                   reset="v = 0", method="exact")
M = b2.SpikeMonitor(G)
b2.run(50 * b2.ms)
assert M.num_spikes == 20, M.num_spikes
print("[smoke] brian2", b2.__version__, target, "spikes:", M.num_spikes)
PYEOF
    done
fi
echo "[setup_venvs] done"
