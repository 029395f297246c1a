"""Shared machinery of the fake tools (gh, docker-buildx, hailo, hailortcli).

Each fake stands in for a tool that cannot run here, and behaves like it for
the flags the release uses: same output formats, same failures, state kept
between calls. All of them:

- record every call as one JSON line in ``$FAKE_STATE_DIR/calls.jsonl``:
  ``{"tool", "argv", "cwd", "env"}``, the environment in full, so a test can
  check that a secret arrived through the environment and never in argv;
- keep their state in ``$FAKE_STATE_DIR/<tool>.json``;
- fail on request: ``$FAKE_STATE_DIR/failures.json`` is a list of rules
  ``{"tool", "args": [prefix of argv], "times", "exit", "stderr", "hang"}``.
  The first rule whose tool and argv prefix match is used up once per call.
  ``stderr`` may name environment variables as ``{env:NAME}`` (to test that a
  leaking tool's output gets redacted); ``hang`` sleeps instead of exiting.
"""

import json
import os
import sys
import time
from pathlib import Path


def state_dir() -> Path:
    path = os.environ.get("FAKE_STATE_DIR")
    if not path:
        sys.stderr.write("fake tool: FAKE_STATE_DIR is not set\n")
        sys.exit(97)
    return Path(path)


def _locked_update(path: Path, update):
    """Read-modify-write of a JSON file, serialised with a lock file."""
    lock = path.with_suffix(path.suffix + ".lock")
    deadline = time.time() + 30
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            break
        except FileExistsError:
            if time.time() > deadline:
                raise
            time.sleep(0.01)
    try:
        data = json.loads(path.read_text()) if path.exists() else None
        data, result = update(data)
        if data is not None:
            tmp = path.with_suffix(path.suffix + ".tmp")
            tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
            os.replace(tmp, path)
        return result
    finally:
        os.close(fd)
        os.unlink(lock)


def record(tool: str, argv):
    entry = {"tool": tool, "argv": list(argv), "cwd": os.getcwd(), "env": dict(os.environ)}
    with open(state_dir() / "calls.jsonl", "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")


def injected_failure(tool: str, argv):
    """Applies the first matching failure rule, if any: exits or hangs."""
    path = state_dir() / "failures.json"
    if not path.exists():
        return

    def take(rules):
        for rule in rules or []:
            prefix = rule.get("args", [])
            if rule.get("tool") == tool and list(argv[: len(prefix)]) == prefix and rule.get("times", 1) > 0:
                rule["times"] = rule.get("times", 1) - 1
                return rules, dict(rule)
        return rules, None

    rule = _locked_update(path, take)
    if rule is None:
        return
    if rule.get("hang"):
        time.sleep(3600)
    message = rule.get("stderr", f"{tool}: injected failure")
    for name, value in os.environ.items():
        message = message.replace("{env:" + name + "}", value)
    sys.stderr.write(message.rstrip("\n") + "\n")
    sys.exit(rule.get("exit", 1))


def start(tool: str):
    """Records the call and applies injected failures; returns argv[1:]."""
    argv = sys.argv[1:]
    record(tool, argv)
    injected_failure(tool, argv)
    return argv


def load_state(tool: str, default):
    path = state_dir() / f"{tool}.json"
    return json.loads(path.read_text()) if path.exists() else default


def update_state(tool: str, default, update):
    """``update(state) -> result``; the state is changed in place and saved."""

    def apply(data):
        data = default if data is None else data
        result = update(data)
        return data, result

    return _locked_update(state_dir() / f"{tool}.json", apply)


def die(message: str, code: int = 1):
    sys.stderr.write(message.rstrip("\n") + "\n")
    sys.exit(code)
