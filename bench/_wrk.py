"""wrk runs: requests per second of one request, repeated by C connections."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

SCRIPT = """
wrk.method = {method}
wrk.body = {body}
{headers}
done = function(summary, latency, requests)
  io.write(string.format("ERRORS %d\\n", summary.errors.status + summary.errors.connect
    + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run(
    url: str,
    seconds: float,
    connections: int = 20,
    threads: int = 2,
    method: str = "GET",
    body: str = "",
    headers: dict | None = None,
) -> tuple[float, int, int]:
    """(requests per second, requests, errors and non-2xx/3xx answers)."""
    lines = "\n".join(f"wrk.headers[{lua_string(k)}] = {lua_string(v)}" for k, v in (headers or {}).items())
    script = SCRIPT.format(method=lua_string(method), body=lua_string(body), headers=lines)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "request.lua"
        path.write_text(script)
        command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
                   "-s", str(path), url]  # fmt: skip
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    done = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(re.search(r"ERRORS (\d+)", out).group(1)) + (int(bad.group(1)) if bad else 0)
    return rate, done, errors
