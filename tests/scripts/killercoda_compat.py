#!/usr/bin/env python3
"""How many Killercoda scenarios of a folder play through in kubesim, measured.

    python3 tests/scripts/killercoda_compat.py KUBESIM_BIN DIR [SCENARIO...]

Starts `KUBESIM_BIN serve --scenarios DIR` and, for each scenario (sub-folder with an
index.json; all of them unless named), presses Start, waits for its setup scripts, and then
for each step: checks that `verify.sh` fails before the solution, runs the step's solution
as a student would type it, and presses Check until `verify.sh` passes (30 s at most).

The solution is what the step's Markdown shows under a `<details>` whose summary says
"solution" (else every ```bash block marked {{exec}}): its ```bash blocks run with bash and
the real kubectl (pointed at the scenario) in a scratch folder; a ```yaml block is saved
under the file name the next bash block applies (`kubectl apply -f NAME.yaml`), or applied
as it is when no command names a file (the student saves and applies it). Lines that
open an editor (vi, vim, nano, kubectl edit) or watch forever (-w) are skipped, and a
block still running after 90 s is stopped. This is a heuristic: a solution
that only says what to do in prose counts as a failure of the harness, not of kubesim, and
is reported as "no runnable solution".

Prints one line per scenario and a summary; exits 0.
"""

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, folder):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [binary, "serve", "--addr", f"127.0.0.1:{self.port}", "--scenarios", folder,
             "--ingress-addr", "off"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "KUBESIM_STATE_DIR": ""},
        )
        for _ in range(200):
            try:
                self.get("/healthz")
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("kubesim serve did not start")

    def request(self, method, path, data=None):
        req = urllib.request.Request(self.base + path, method=method, data=data)
        req.add_header("Accept", "application/json")
        req.add_header("Sec-Fetch-Site", "same-origin")
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.read().decode()

    def get(self, path):
        return self.request("GET", path)

    def post(self, path):
        return self.request("POST", path, b"")

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def solution_blocks(md):
    """The step's solution as (language, code) blocks."""
    details = re.findall(r"<details>\s*<summary>(.*?)</summary>(.*?)</details>", md, re.S | re.I)
    parts = [body for summary, body in details if "solution" in summary.lower()]
    text = "\n".join(parts)
    blocks = re.findall(r"```(\w*)[^\n]*\n(.*?)```(\{\{[^}]*\}\})?", text if parts else md, re.S)
    if not parts:
        blocks = [b for b in blocks if b[2]]
    return [(lang.lower(), code) for lang, code, _ in blocks]


# Lines a script cannot run: editors, and watches that never end ("in another terminal").
SKIPPED = re.compile(r"^\s*(vi|vim|nano)\b|\b(kubectl|k)\b.*\sedit\s|\s(-w|--watch)(\s|$)|^\s*watch\s")


def run_solution(blocks, kubeconfig, workdir):
    env = {"PATH": os.environ["PATH"], "HOME": workdir, "KUBECONFIG": kubeconfig}

    def bash(script):
        # Killercoda's terminals have `k` for kubectl.
        script = "shopt -s expand_aliases\nalias k=kubectl\n" + script
        try:
            subprocess.run(["bash", "-c", script], cwd=workdir, timeout=90, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            pass

    yaml = None
    ran = False
    for lang, code in blocks:
        if lang in ("yaml", "yml"):
            if yaml is not None:
                # A manifest no command named: the student saves and applies it.
                bash("kubectl apply -f - <<'KUBESIM_EOF'\n" + yaml + "\nKUBESIM_EOF")
                ran = True
            yaml = code
            continue
        if lang not in ("bash", "sh", "shell", "plain", ""):
            continue
        lines = [l for l in code.splitlines() if not SKIPPED.search(l)]
        script = "\n".join(l for l in lines if not l.strip().startswith("$ ")
                           ) or "\n".join(l.strip()[2:] for l in lines)
        if yaml is not None:
            named = [n for n in re.findall(r"-f\s+(\S+\.ya?ml)", script) if "/" not in n]
            for name in named:
                path = os.path.join(workdir, name)
                if not os.path.exists(path):
                    with open(path, "w") as f:
                        f.write(yaml)
            if not named:
                bash("kubectl apply -f - <<'KUBESIM_EOF'\n" + yaml + "\nKUBESIM_EOF")
            yaml = None
        bash(script)
        ran = True
    if yaml is not None:
        bash("kubectl apply -f - <<'KUBESIM_EOF'\n" + yaml + "\nKUBESIM_EOF")
        ran = True
    return ran


def verify(server, sid):
    out = json.loads(server.post(f"/scenarios/{sid}/verify"))
    return out.get("passed", False), out.get("output", "")


def play(server, folder, sid):
    server.post(f"/scenarios/{sid}/start")
    for _ in range(600):
        state = json.loads(server.get(f"/scenarios/{sid}/state"))
        if not state.get("scripts_running"):
            break
        time.sleep(0.1)
    failed_setup = [s for s in state.get("scripts", []) if not s["passed"]]
    kubeconfig = os.path.join(tempfile.mkdtemp(), "kubeconfig")
    with open(kubeconfig, "w") as f:
        f.write(server.get(f"/scenarios/{sid}/kubeconfig"))
    index = json.load(open(os.path.join(folder, sid, "index.json")))
    steps = index["details"]["steps"]
    passed = 0
    note = ""
    if failed_setup:
        note = "setup failed: " + failed_setup[0]["output"].strip().splitlines()[-1][:120] \
            if failed_setup[0]["output"].strip() else "setup failed"
    for i, step in enumerate(steps):
        md = open(os.path.join(folder, sid, step.get("text", ""))).read() if step.get("text") else ""
        last = i == len(steps) - 1
        if not step.get("verify"):
            passed += 1
            if not last:
                server.post(f"/scenarios/{sid}/next")
            continue
        before, _ = verify(server, sid)
        blocks = solution_blocks(md)
        workdir = tempfile.mkdtemp()
        if not run_solution(blocks, kubeconfig, workdir):
            note = note or f"step {i + 1}: no runnable solution"
            break
        ok, out = False, ""
        for _ in range(15):
            ok, out = verify(server, sid)
            if ok:
                break
            time.sleep(2)
        if not ok:
            last = [l for l in out.strip().splitlines() if l.strip()]
            note = note or f"step {i + 1}: " + (last[-1][:160] if last else "verify failed")
            break
        if before:
            note = note or f"step {i + 1}: verify passed before the solution"
        passed += 1
        if not last:
            server.post(f"/scenarios/{sid}/next")
    return passed, len(steps), note


def main():
    binary, folder = sys.argv[1], os.path.abspath(sys.argv[2])
    names = sys.argv[3:] or sorted(
        d for d in os.listdir(folder) if os.path.isfile(os.path.join(folder, d, "index.json")))
    server = Server(binary, folder)
    whole = 0
    try:
        for sid in names:
            try:
                passed, total, note = play(server, folder, sid)
            except Exception as e:  # a harness failure is reported, not fatal
                passed, total, note = 0, 0, f"harness: {e}"
            whole += passed == total and total > 0
            print(f"{sid}\t{passed}/{total}\t{note}", flush=True)
    finally:
        server.stop()
    print(f"play through: {whole} of {len(names)}")


if __name__ == "__main__":
    main()
