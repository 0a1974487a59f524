// Smoke test of the built modules under node's WASI, a second host for kubesim worker ABI v1.
//
//   node --no-warnings --expose-gc inference-worker/guests/smoke.mjs inference-worker/modules
//
// Runs each module's start and request invocations with fresh instances, as kubesim's host does,
// and implements kubesim.http_request for the gateway by running clothes-model in-process.
// Prints one line per check and a closing "N passed, N failed".
import { WASI } from "node:wasi";
import { readFileSync, writeFileSync, openSync, closeSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import process from "node:process";

const dir = process.argv[2] ?? new URL("../modules", import.meta.url).pathname;
const modules = {};
for (const name of ["credit-scoring-api", "text-generator", "clothes-gateway", "clothes-model"]) {
  modules[name] = new WebAssembly.Module(readFileSync(join(dir, `${name}.wasm`)));
}
// The stand-ins and the API that connects to them (started separately: they log on stdout,
// and postgres needs a password).
const standIns = {};
for (const name of ["credit-scoring-api-services", "redis", "postgres"]) {
  standIns[name] = new WebAssembly.Module(readFileSync(join(dir, `${name}.wasm`)));
}

// One invocation: a fresh instance with `env`, `body` on stdin; returns exit code and output.
function invoke(name, env, body = "", services = {}) {
  // Node 20.20's V8 segfaults in about one run in three here (in LookupIterator, during the
  // first clothes-model request) when the garbage of earlier instances is collected mid-call;
  // collecting between invocations, as build-guests.sh asks with --expose-gc, avoids it.
  globalThis.gc?.();
  const work = mkdtempSync(join(tmpdir(), "kubesim-smoke-"));
  const paths = ["stdin", "stdout", "stderr"].map((f) => join(work, f));
  writeFileSync(paths[0], body);
  writeFileSync(paths[1], "");
  writeFileSync(paths[2], "");
  const fds = [openSync(paths[0], "r"), openSync(paths[1], "w"), openSync(paths[2], "w")];
  const wasi = new WASI({
    version: "preview1",
    args: [name],
    env,
    stdin: fds[0],
    stdout: fds[1],
    stderr: fds[2],
    returnOnExit: true,
  });
  let instance;
  const kubesim = {
    http_request(mPtr, mLen, uPtr, uLen, bPtr, bLen, outPtr, outCap, outLenPtr) {
      const mem = new Uint8Array(instance.exports.memory.buffer);
      const text = (p, n) => Buffer.from(mem.slice(p, p + n)).toString("utf8");
      const method = text(mPtr, mLen);
      const url = new URL(text(uPtr, uLen));
      const service = url.hostname.split(".")[0];
      if (!services[service]) return -1;
      const out = invoke(services[service], {
        REQUEST_METHOD: method,
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: "application/json",
        CONTENT_LENGTH: String(bLen),
      }, Buffer.from(mem.slice(bPtr, bPtr + bLen)));
      const { status, body: answer } = parseCgi(out.stdout);
      const bytes = Buffer.from(answer, "utf8");
      const view = new Uint8Array(instance.exports.memory.buffer);
      view.set(bytes.subarray(0, outCap), outPtr);
      new DataView(instance.exports.memory.buffer).setUint32(outLenPtr, bytes.length, true);
      return status;
    },
  };
  instance = new WebAssembly.Instance(modules[name] ?? standIns[name], {
    wasi_snapshot_preview1: wasi.wasiImport,
    kubesim,
  });
  const code = wasi.start(instance);
  fds.forEach(closeSync);
  const result = {
    code,
    stdout: readFileSync(paths[1], "utf8"),
    stderr: readFileSync(paths[2], "utf8"),
  };
  rmSync(work, { recursive: true });
  return result;
}

function parseCgi(stdout) {
  const split = stdout.indexOf("\n\n");
  const head = stdout.slice(0, split);
  const status = Number(/^Status: (\d+)/m.exec(head)?.[1] ?? 200);
  return { status, head, body: stdout.slice(split + 2) };
}

function request(name, method, path, body = "", env = {}, services = {}) {
  const out = invoke(name, {
    REQUEST_METHOD: method,
    PATH_INFO: path,
    QUERY_STRING: "",
    CONTENT_TYPE: "application/json",
    CONTENT_LENGTH: String(Buffer.byteLength(body)),
    KUBESIM_UPTIME_SECONDS: "60",
    KUBESIM_REQUESTS_SERVED: "0",
    HOSTNAME: `${name}-7d4b9c-abcde`,
    ...env,
  }, body, services);
  const cgi = parseCgi(out.stdout);
  return { ...out, ...cgi, line: `${cgi.status} ${cgi.body}` };
}

let passed = 0;
let failed = 0;
function check(what, ok, detail) {
  if (ok) {
    passed++;
    console.log(`ok    ${what}`);
  } else {
    failed++;
    console.log(`FAIL  ${what}\n      ${detail}`);
  }
}
function expectEq(what, got, want) {
  check(what, got === want, `got  ${JSON.stringify(got)}\n      want ${JSON.stringify(want)}`);
}

// Starts.
for (const name of Object.keys(modules)) {
  const s = invoke(name, { HOSTNAME: `${name}-0` });
  check(`${name}: start exits 0`, s.code === 0 && s.stdout === "", `code ${s.code}, stdout ${s.stdout}`);
}
const crash = invoke("credit-scoring-api", { REQUIRE_SERVICES: "1" });
check("credit-scoring-api:with-services without Redis exits 1 with a traceback",
  crash.code === 1 && crash.stderr.trimEnd().endsWith(
    "redis.exceptions.ConnectionError: Error -2 connecting to redis:6379. Name or service not known."),
  `code ${crash.code}\n${crash.stderr}`);
const ok = invoke("credit-scoring-api", {
  REQUIRE_SERVICES: "1", REDIS_SERVICE_HOST: "10.96.0.10", POSTGRES_SERVICE_HOST: "10.96.0.11",
});
check("credit-scoring-api:with-services with both Services starts", ok.code === 0, ok.stderr);

// The stand-ins.
const pg = invoke("postgres", {});
check("postgres without POSTGRES_PASSWORD refuses to initialise", pg.code === 1 &&
  pg.stderr.startsWith("Error: Database is uninitialized and superuser password is not specified."), pg.stderr);
check("postgres with a password starts", invoke("postgres", { POSTGRES_PASSWORD: "example" }).code === 0, "");
check("redis starts", invoke("redis", {}).code === 0, "");
expectEq("redis answers PING and GET/SET in RESP",
  request("redis", "POST", "/", "*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n7\r\n*2\r\n$4\r\nINCR\r\n$1\r\nk\r\n").body,
  "+PONG\r\n+OK\r\n:8\r\n");
const noRedis = invoke("credit-scoring-api-services", {});
check("credit-scoring-api:with-services without a Redis Service exits 1 with RedisConnectionError",
  noRedis.code === 1 && noRedis.stderr.includes(
    "redis.exceptions.ConnectionError: Error -2 connecting to redis:6379. Name or service not known.\nERROR:    RedisConnectionError: "),
  `code ${noRedis.code}\n${noRedis.stderr}`);

// credit-scoring-api.
const good = JSON.stringify({ age: 35, income: 52000, loan_amount: 12000, loan_term_months: 36, credit_history_years: 8, existing_debt: 3000 });
const risky = JSON.stringify({ age: 23, income: 18000, loan_amount: 40000, loan_term_months: 72, credit_history_years: 1, existing_debt: 15000 });
let r = request("credit-scoring-api", "POST", "/predict", good);
expectEq("credit: applicant 1", r.line, '200 {"probability_of_default":0.139101,"decision":"approve"}');
expectEq("credit: CGI head", r.head, "Status: 200 OK\nContent-Type: application/json");
expectEq("credit: access log", r.stderr, 'INFO:     10.244.0.1:0 - "POST /predict HTTP/1.1" 200 OK\n');
r = request("credit-scoring-api", "POST", "/predict", risky);
expectEq("credit: applicant 2", r.line, '200 {"probability_of_default":0.997122,"decision":"reject"}');
r = request("credit-scoring-api", "POST", "/predict", '{"age": 1}');
check("credit: missing fields are 422", r.status === 422 && r.body.includes('"loc":["body","income"]'), r.line);
r = request("credit-scoring-api", "GET", "/healthz", "", { STARTUP_SECONDS: "90" });
expectEq("credit: slow start", r.line, '503 {"detail":"model loading"}');
r = request("credit-scoring-api", "GET", "/healthz", "", { LEAK_BYTES_PER_REQUEST: "1048576", KUBESIM_REQUESTS_SERVED: "20" });
expectEq("credit: 20 MiB leak still answers", r.line, '200 {"status":"ok"}');

// text-generator.
r = request("text-generator", "POST", "/generate", '{"prompt":"Kubernetes","seed":1}');
expectEq("text: Kubernetes, seed 1", r.line, '200 {"text":"Kubernetes value is a resize i","tokens":20}');
r = request("text-generator", "POST", "/generate", '{"prompt":"A Deployment","seed":42,"max_tokens":200}');
check("text: 200 tokens", r.status === 200 && JSON.parse(r.body).tokens === 200, r.line);
console.log(`      ${r.body}`);

// clothes-model.
const digit = [0, 0, 8, 16, 15, 8, 0, 0, 0, 1, 16, 16, 16, 2, 0, 0, 0, 2, 16, 16, 10, 0, 0, 0, 0, 2, 16, 16, 12, 0, 0, 0, 0, 6, 16, 16, 13, 0, 0, 0, 0, 1, 16, 16, 11, 0, 0, 0, 0, 0, 16, 16, 10, 0, 0, 0, 0, 0, 7, 15, 15, 0, 0, 0];
r = request("clothes-model", "POST", "/v1/models/clothes-model:predict", JSON.stringify({ instances: [digit] }));
expectEq("clothes-model: held-out image 0", r.line,
  '200 {"predictions":[[0.00016479043,0.88736844,0.000007713108,0.000000004434927,0.0012873455,0.025259465,0.008749317,0.00014904223,0.077013746,0.00000007543838]]}');

// clothes-gateway → clothes-model through kubesim.http_request.
const rows = [];
for (let y = 0; y < 8; y++) rows.push(digit.slice(8 * y, 8 * y + 8).map((v) => Math.round((v * 255) / 16)));
r = request("clothes-gateway", "POST", "/predict", JSON.stringify({ image: rows }), {}, { "clothes-model": "clothes-model" });
check("clothes-gateway: classifies through the model Service", r.status === 200 && JSON.parse(r.body).label === "one", r.line);
console.log(`      ${r.body}`);
r = request("clothes-gateway", "POST", "/predict", JSON.stringify({ image: rows }), {}, {});
check("clothes-gateway: 503 without the model Service", r.status === 503, r.line);

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
