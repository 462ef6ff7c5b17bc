#!/usr/bin/env bash
# Install Rasa 3.6 in its own Python 3.10 virtualenv, train the NLU model from
# the project's data (nlu/data/*.yml) and serve it over HTTP.
#
#   nlu/rasa_project/setup.sh install   # create the venv and install rasa 3.6 (slow, once)
#   nlu/rasa_project/setup.sh train     # train an NLU model from nlu/data into nlu/rasa_project/build/models
#   nlu/rasa_project/setup.sh serve     # serve the latest model: rasa run --enable-api -p 5005
#   nlu/rasa_project/setup.sh all       # install + train + serve (the default)
#
# Environment:
#   RASA_VENV        venv location (default ~/.cache/memberbot/rasa-venv)
#   RASA_PYTHON      interpreter used to create it (default python3.10, via pyenv 3.10.13 if present)
#   RASA_PORT        port for `serve` (default 5005)
#   RASA_TOKEN       when set, `serve` requires ?token=... (set nlu.rasa.token to the same value)
#   RASA_DATA        training data folder (default nlu/data of this repository)
#   RASA_EPOCHS      DIET epochs for `train` (default: config.yml's 100; fewer trains faster)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
RASA_VENV="${RASA_VENV:-$HOME/.cache/memberbot/rasa-venv}"
RASA_PORT="${RASA_PORT:-5005}"
RASA_DATA="${RASA_DATA:-$ROOT/nlu/data}"
MODELS="$HERE/build/models"

# What to install (PyPI only). rasa 3.6.21 is the latest 3.6 release and pins its own
# stack tightly (tensorflow 2.12.0, numpy 1.23.5, setuptools 70.3.0, SQLAlchemy 1.4,
# pydantic 1.10, sanic 21.12): on Python 3.10 / x86_64 / CPU nothing else needed
# pinning. jieba is the optional dependency of Rasa's JiebaTokenizer (config.yml).
RASA_PINS=(
  "rasa==3.6.21"
  "jieba==0.42.1"
)

# No telemetry (it would try to reach the network) and no SQLAlchemy 2.0 banner.
export RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1

log() { printf '[rasa-setup] %s\n' "$*" >&2; }

find_python() {
  if [[ -n "${RASA_PYTHON:-}" ]]; then echo "$RASA_PYTHON"; return; fi
  if command -v pyenv >/dev/null 2>&1; then
    local prefix
    if prefix="$(pyenv prefix 3.10.13 2>/dev/null)" && [[ -x "$prefix/bin/python3.10" ]]; then
      echo "$prefix/bin/python3.10"; return
    fi
  fi
  if command -v python3.10 >/dev/null 2>&1; then echo python3.10; return; fi
  log "Python 3.10 is needed for Rasa 3.6 (set RASA_PYTHON to its path)"; exit 2
}

do_install() {
  local py; py="$(find_python)"
  if [[ ! -x "$RASA_VENV/bin/python" ]]; then
    log "creating venv $RASA_VENV with $py"
    mkdir -p "$(dirname "$RASA_VENV")"
    $py -m venv "$RASA_VENV"
  fi
  "$RASA_VENV/bin/python" -m pip install --upgrade "pip<25" wheel
  log "installing ${RASA_PINS[*]}"
  "$RASA_VENV/bin/python" -m pip install "${RASA_PINS[@]}"
  "$RASA_VENV/bin/rasa" --version
}

do_train() {
  [[ -x "$RASA_VENV/bin/rasa" ]] || { log "rasa is not installed: run $0 install first"; exit 2; }
  [[ -d "$RASA_DATA" ]] || { log "no training data at $RASA_DATA"; exit 2; }
  mkdir -p "$MODELS"
  "$RASA_VENV/bin/python" "$HERE/jieba_dict.py" "$RASA_DATA" "$HERE/build/jieba"
  local config="config.yml"
  if [[ -n "${RASA_EPOCHS:-}" ]]; then
    config="build/config-${RASA_EPOCHS}-epochs.yml"
    sed -E "s/^(    epochs:) [0-9]+/\1 ${RASA_EPOCHS}/" "$HERE/config.yml" > "$HERE/$config"
    grep -q "epochs: ${RASA_EPOCHS}\$" "$HERE/$config" || { log "could not set DIET epochs"; exit 2; }
  fi
  log "training NLU model from $RASA_DATA with $config"
  (cd "$HERE" && "$RASA_VENV/bin/rasa" train nlu --config "$config" --nlu "$RASA_DATA" \
      --out "$MODELS" --fixed-model-name memberbot-nlu)
}

do_serve() {
  [[ -x "$RASA_VENV/bin/rasa" ]] || { log "rasa is not installed: run $0 install first"; exit 2; }
  local model="$MODELS/memberbot-nlu.tar.gz"
  [[ -f "$model" ]] || { log "no model at $model: run $0 train first"; exit 2; }
  local auth=()
  [[ -n "${RASA_TOKEN:-}" ]] && auth=(--auth-token "$RASA_TOKEN")
  log "serving $model on http://127.0.0.1:$RASA_PORT (POST /model/parse)"
  cd "$HERE"
  exec "$RASA_VENV/bin/rasa" run --enable-api -p "$RASA_PORT" -i 127.0.0.1 \
      --model "$model" "${auth[@]}"
}

case "${1:-all}" in
  install) do_install ;;
  train) do_train ;;
  serve) do_serve ;;
  all) do_install; do_train; do_serve ;;
  *) log "usage: $0 [install|train|serve|all]"; exit 2 ;;
esac
