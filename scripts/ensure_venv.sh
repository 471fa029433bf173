# Sourced by run_tests, run_linters and run_full_mini.sh: make sure a virtual environment with the
# locked dependencies and this package (editable) exists, then activate it.
# RR_VENV selects its location (default: .venv in the repository root); RR_PYTHON the interpreter.
_rr_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_rr_venv="${RR_VENV:-$_rr_root/.venv}"
_rr_stamp="$_rr_venv/.responserank-lock"
if [ ! -x "$_rr_venv/bin/python" ] || ! cmp -s "$_rr_root/requirements-lock.txt" "$_rr_stamp"; then
    echo "[setup] installing locked dependencies into $_rr_venv (first run only)" >&2
    "${RR_PYTHON:-python3.11}" -m venv "$_rr_venv" || "${RR_PYTHON:-python3}" -m venv "$_rr_venv" || return 1
    "$_rr_venv/bin/python" -m pip install -q --upgrade pip || return 1
    "$_rr_venv/bin/python" -m pip install -q -r "$_rr_root/requirements-lock.txt" || return 1
    "$_rr_venv/bin/python" -m pip install -q --no-deps -e "$_rr_root" || return 1
    cp "$_rr_root/requirements-lock.txt" "$_rr_stamp"
fi
# shellcheck disable=SC1091
. "$_rr_venv/bin/activate"
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}" HF_DATASETS_OFFLINE="${HF_DATASETS_OFFLINE:-1}"
export WANDB_MODE="${WANDB_MODE:-offline}" TOKENIZERS_PARALLELISM="${TOKENIZERS_PARALLELISM:-false}"
