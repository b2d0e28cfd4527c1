"""DynamoDB frozen (SIGSTOP): the API answers 503 with Retry-After within 10 s, then recovers by itself.

The test starts its own DynamoDB Local on its own port (never the shared one) and an app process pointed at it,
freezes the database, sends requests, thaws it and checks recovery. Bounded in time; whatever happens, the
database is thawed and both processes are stopped.
"""

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from scripts import dynamodb_local
from tests.api.helpers import CRIMINAL_RECORD
from tests.units import CENTRE

ROOT = Path(__file__).resolve().parents[2]
ANSWER_WITHIN = 10.0

# The app process: the real app against the test's own database, one request per line on stdin.
DRIVER = """
import json, sys, time
from scripts.seed import load_catalogue
load_catalogue()
from chalice.test import Client
from app import app
with Client(app, stage_name="local") as client:
    print("ANSWER", json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        started = time.monotonic()
        response = client.http.request(request["method"], request["path"], headers=request["headers"],
                                       body=request["body"].encode())
        print("ANSWER", json.dumps({"status": response.status_code, "seconds": time.monotonic() - started,
                          "headers": dict(response.headers), "body": json.loads(response.body or b"null")}),
              flush=True)
"""


class App:
    def __init__(self, port: int):
        env = {**os.environ, **dynamodb_local.local_environment(port, "motcua-freeze")}
        self.process = subprocess.Popen([sys.executable, "-c", DRIVER], cwd=ROOT, env=env, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        assert self._answer(60).get("ready")

    def _read(self) -> None:
        for line in self.process.stdout:  # log lines go to stdout too
            if line.startswith("ANSWER "):
                self.lines.put(line.removeprefix("ANSWER "))

    def _answer(self, timeout: float) -> dict:
        try:
            return json.loads(self.lines.get(timeout=timeout))
        except queue.Empty:
            pytest.fail(f"no answer within {timeout} s")

    def request(self, method: str, path: str, headers: dict | None = None, body: object = None) -> dict:
        self.process.stdin.write(json.dumps({"method": method, "path": path, "headers": headers or {},
                                             "body": "" if body is None else json.dumps(body)}) + "\n")
        self.process.stdin.flush()
        return self._answer(ANSWER_WITHIN + 5)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


def test_a_frozen_database_is_a_prompt_503_and_the_api_recovers_by_itself(auth):
    port = dynamodb_local.free_port()
    database = dynamodb_local.start(port)
    app = None
    frozen = False
    try:
        app = App(port)
        desk = auth(CENTRE, "desk")
        lookup = f"/v1/public/dossiers/{CENTRE}-260316-0001"
        assert app.request("GET", lookup)["status"] == 404
        assert app.request("POST", "/v1/dossiers", {**desk, "Idempotency-Key": "warm-1"},
                           CRIMINAL_RECORD)["status"] == 201

        os.kill(database.pid, signal.SIGSTOP)
        frozen = True
        for method, path, headers, body in (
                ("GET", lookup, {}, None),
                ("POST", "/v1/dossiers", desk, CRIMINAL_RECORD),
                ("POST", "/v1/dossiers", {**desk, "Idempotency-Key": "frozen-1"}, CRIMINAL_RECORD)):
            answer = app.request(method, path, headers, body)
            assert answer["status"] == 503, answer
            assert answer["seconds"] < ANSWER_WITHIN, answer
            assert answer["body"]["error"]["code"] == "unavailable" and answer["body"]["error"]["request_id"]
            assert int(answer["headers"]["Retry-After"]) >= 1

        os.kill(database.pid, signal.SIGCONT)
        frozen = False
        deadline = time.monotonic() + 30
        while True:  # the first answers after thawing may still be the requests that waited
            answer = app.request("GET", lookup)
            if answer["status"] == 404 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert answer["status"] == 404, answer
        created = app.request("POST", "/v1/dossiers", desk, CRIMINAL_RECORD)
        assert created["status"] == 201, created
        assert app.request("GET", f"/v1/public/dossiers/{created['body']['code']}")["status"] == 200
    finally:
        if frozen:
            os.kill(database.pid, signal.SIGCONT)
        if app is not None:
            app.stop()
        dynamodb_local.stop(database)
