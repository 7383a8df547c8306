#!/usr/bin/env bash
# Create the reference-simulator virtualenvs used by the benchmarks (idempotent).
#   .venv-nest   : nest-simulator (PyPI wheel, imports as `nest`) + numpy
#   .venv-brian2 : brian2 + numpy<2.4 + Cython (runtime codegen) + setuptools
# Needs python3.11 and gcc/g++ (Brian2 Cython runtime and C++ standalone).
# Usage: bash benchmarks/setup_venvs.sh [--force]   (--force recreates the venvs)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="${PYTHON:-python3.11}"
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

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
    "nest-simulator>=3.10,<4" "numpy"

make_venv "$HERE/.venv-brian2" \
    "import brian2, numpy, Cython; print('brian2', brian2.__version__, 'numpy', numpy.__version__, 'Cython', Cython.__version__)" \
    "brian2" "numpy<2.4" "Cython" "setuptools"

echo "[setup_venvs] done"
