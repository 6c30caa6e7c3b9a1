// The analysts' page in a real browser: Debian's chromium driven by
// playwright-core. Each scenario is filled through the form as an analyst
// would; the page must show the decision /v1/decide gives for the same
// situation. Screenshots are kept in target/browser/ as artifacts.
//
// Run: cargo build && (cd tests/browser && npm ci && npm test)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const ROOT = resolve(import.meta.dirname, "../..");
const BINARY = process.env.ROTEIRO_BIN ?? join(ROOT, "target/debug/roteiro");
const ARTIFACTS = join(ROOT, "target/browser");
const NOW = "2026-12-08T10:15";
/** An ISO moment or date ("2026-12-08T10:15", "2026-12-05") as the page's
 * fields take it: dd/mm/aaaa [HH:MM]. */
const br = (iso) => {
  const [date, time] = iso.split("T");
  const [year, month, day] = date.split("-");
  return time ? `${day}/${month}/${year} ${time.slice(0, 5)}` : `${day}/${month}/${year}`;
};

// No analyst.name: the page never asks it of someone logged in; the
// service fills it with the session's name (and the API's, the token's).
const cliente = {
  contact: { kind: "cliente", channel: "chat", name: "Maria Souza", phone: "(21) 99999-0000" },
};
const treinamento = (client) => ({
  ...cliente,
  client: { code: "48213", name: "Padaria Pao Quente", plan: "essencial", plan_active: true, ...client },
  request: { topic: "treinamento", module: "financeiro", scope: "completo" },
});
// Document 004 §4, the three worked scenarios, and a blocked system (002 item 28).
// The route as the page names it (bundle.yaml, outputs.route.names).
const TIMES = { io: "Implementação e Onboarding (IO)", gr: "GR", franchise: "Franchise", suporte: "Suporte" };
const rota = (route) => `Time responsável: ${TIMES[route]}`;

const SCENARIOS = [
  { name: "004-cenario1", route: "io", situation: treinamento({ in_onboarding: false, franchise: false }) },
  { name: "004-cenario2", route: "gr", situation: treinamento({ in_onboarding: true, franchise: false }) },
  { name: "004-cenario3", route: "franchise", situation: treinamento({ in_onboarding: false, franchise: true }) },
  {
    name: "002-sistema-bloqueado",
    route: "suporte",
    situation: {
      ...cliente,
      client: { code: "48213", plan: "essencial", plan_active: true },
      request: { topic: "sistema_bloqueado" },
      billing: { due_date: "2026-12-05", payment_method: "boleto" },
      system: { blocked: false },
    },
  },
];

let server;
let base;
// The Movidesk stand-in (helpdesk/examples/movidesk_standin.rs).
let helpdesk;
let helpdeskBase;
const HELPDESK_TOKEN = "tok-navegador-segredo";
// Tokens made with `roteiro token create` before the server starts.
let admin;
let analista;
let folder;
let browser;

// Two releases published by a process owner through the command line:
// the first approved by the admin (active), the second (one text
// reworded, from a copy of its own) waiting for approval.
let releases;
function publishTwo(database, owner) {
  const run = (args, token) =>
    execFileSync(BINARY, [...args, "--database", database], { env: { ...process.env, ROTEIRO_TOKEN: token }, stdio: ["ignore", "pipe", "pipe"] }).toString();
  const version = (said) => /versão (\S+) publicada/.exec(said)[1];
  const first = version(run(["publish", "--policies", folder, "--note", "primeira versão", "--yes"], owner));
  run(["release", "approve", first], admin);
  const copy = mkdtempSync(join(tmpdir(), "roteiro-page-v2-"));
  cpSync(folder, copy, { recursive: true });
  const rules = join(copy, "procedures/004-agendamento-io.yaml");
  writeFileSync(rules, readFileSync(rules, "utf8").replace("frisando, que", "com clareza, que"));
  const second = version(run(["publish", "--policies", copy, "--note", "texto mais claro", "--yes"], owner));
  rmSync(copy, { recursive: true, force: true });
  return { first, second };
}

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  folder = mkdtempSync(join(tmpdir(), "roteiro-page-"));
  cpSync(join(ROOT, "policies"), folder, { recursive: true });
  const database = `${folder}.db`;
  const token = (role, name) =>
    execFileSync(BINARY, ["token", "create", "--role", role, "--name", name, "--database", database], { stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  admin = token("admin", "Navegador Admin");
  analista = token("analista", "Carla Analista");
  releases = publishTwo(database, token("dono", "Dona Ana"));
  helpdesk = spawn(join(ROOT, "target/debug/examples/movidesk_standin"), ["9090"], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ROTEIRO_MOVIDESK_TOKEN: HELPDESK_TOKEN },
  });
  helpdeskBase = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error("the Movidesk stand-in did not start")), 20000);
    helpdesk.stdout.on("data", (chunk) => {
      clearTimeout(timer);
      ok(String(chunk).trim());
    });
  });
  server = spawn(BINARY, ["serve", "--addr", "127.0.0.1:0", "--policies", folder, "--database", database], {
    stdio: ["ignore", "ignore", "pipe"],
    env: {
      ...process.env,
      ROTEIRO_MOVIDESK_URL: helpdeskBase,
      ROTEIRO_MOVIDESK_TOKEN: HELPDESK_TOKEN,
      ROTEIRO_MOVIDESK_AGENT: "agente-navegador",
    },
  });
  let said = "";
  base = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`the server did not announce its address: ${said}`)), 20000);
    server.stderr.on("data", (chunk) => {
      said += String(chunk);
      const found = /http:\/\/(\S+) /.exec(said);
      if (found) {
        clearTimeout(timer);
        ok(`http://${found[1]}`);
      }
    });
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
  helpdesk?.kill("SIGTERM");
  rmSync(folder, { recursive: true, force: true });
  // The log beside the folder, its WAL and what a closing writer spilled.
  for (const suffix of [".db", ".db-wal", ".db-shm", ".db.spill.jsonl"]) {
    rmSync(`${folder}${suffix}`, { force: true });
  }
});

/** The service's API as the admin, by bearer token. */
function api(path, options = {}) {
  return fetch(`${base}${path}`, { ...options, headers: { ...(options.headers || {}), authorization: `Bearer ${admin}` } });
}

/** A page logged in through the login form with `token` (the admin's). */
async function openPage(viewport, token = admin) {
  const page = await browser.newPage(viewport ? { viewport } : {});
  await page.goto(base);
  await page.locator("#token").fill(token);
  await page.locator("#entrar").click();
  await page.locator("#app").waitFor({ state: "visible" });
  return page;
}

/** Every fact of a nested situation, as [path, value]. */
function facts(situation, prefix = "") {
  return Object.entries(situation).flatMap(([key, value]) =>
    value !== null && typeof value === "object" ? facts(value, `${prefix}${key}.`) : [[`${prefix}${key}`, value]],
  );
}

async function decideByApi(situation) {
  const response = await api("/v1/decide", {
    method: "POST",
    body: JSON.stringify({ now: `${NOW}:00-03:00`, ...situation }),
  });
  assert.equal(response.status, 200);
  return response.json();
}

/** Fills the form field of `path`, opening the folded facts when needed. */
async function fill(page, path, value) {
  const field = page.locator(`[name="${path}"]`);
  // Folded: under "Mais N perguntas" or among the other facts.
  if (!(await field.isVisible())) {
    // Outermost first, as a person opens them.
    for (const summary of await field.locator("xpath=ancestor::details[not(@open)]/summary").all()) await summary.click();
  }
  if ((await field.evaluate((el) => el.tagName)) === "SELECT") await field.selectOption(String(value));
  else await field.fill(/^\d{4}-\d{2}-\d{2}/.test(String(value)) ? br(String(value)) : String(value));
}

async function settle(page) {
  // The page re-decides 200 ms after the last change.
  await page.waitForTimeout(600);
  await page.waitForLoadState("networkidle");
}

for (const scenario of SCENARIOS) {
  test(`${scenario.name}: the page shows the service's decision`, async () => {
    const page = await openPage({ width: 1280, height: 1100 });
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
    await page.locator("#agora").fill(br(NOW));
    for (const [path, value] of facts(scenario.situation)) {
      await fill(page, path, value);
      await settle(page);
    }
    const expected = await decideByApi(scenario.situation);
    assert.equal(expected.outputs.route, scenario.route);
    assert.equal(await page.locator('[data-saida="route"]').textContent(), rota(scenario.route));
    const first = page.locator("#acoes li").first();
    assert.equal(await first.getAttribute("data-id"), expected.actions[0].id);
    const script = expected.scripts[0];
    const shown = page.locator(`.script[data-id="${script.id}"]`);
    assert.equal(await shown.locator("p").textContent(), script.text);
    await shown.getByRole("button", { name: "copiar o script" }).click();
    assert.equal(await shown.getByRole("button").getAttribute("data-copiado"), script.text);
    await page.screenshot({ path: join(ARTIFACTS, `${scenario.name}.png`), fullPage: true });
    await page.close();
  });
}

test("the statistics view shows the logged decisions as bars", async () => {
  // Decisions of its own in the log, whichever tests ran before.
  for (const scenario of SCENARIOS) {
    const resposta = await api("/v1/decide", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ now: `${NOW}:00-03:00`, ...scenario.situation }),
    });
    assert.equal(resposta.status, 200, await resposta.text());
  }
  const page = await openPage({ width: 1280, height: 900 });
  await page.getByRole("button", { name: "Estatísticas" }).click();
  const painel = page.locator("#estatisticas");
  await painel.locator(".barra").first().waitFor({ timeout: 10000 });
  assert.match(await painel.textContent(), /Por rota \(\d+ decisões\)/);
  assert.ok((await painel.locator(".barra").count()) > 3);
  await page.screenshot({ path: join(ARTIFACTS, "estatisticas.png") });
  await page.close();
});

test("a broken edit of the bundle shows the refusal banner", async () => {
  const page = await openPage();
  const procedure = join(folder, "procedures/002-atendimento-padrao.yaml");
  const original = readFileSync(procedure, "utf8");
  writeFileSync(procedure, original.replace('request.topic == "xml"', 'request.topic == "xmll"'));
  const banner = page.locator("#recusa");
  await banner.waitFor({ state: "visible", timeout: 15000 });
  const text = await banner.textContent();
  assert.match(text, /recusada/);
  assert.match(text, /procedures\/002-atendimento-padrao\.yaml, linha \d+/);
  await page.screenshot({ path: join(ARTIFACTS, "recarga-recusada.png") });
  writeFileSync(procedure, original);
  await page.close();
});

// Document 003 step 5.1: the database analysis has 24 hours; a follow-up
// past its due time shows in red and says it is overdue.
test("a follow-up past its due time shows as overdue", async () => {
  const page = await openPage({ width: 1280, height: 1100 });
  await page.locator("#agora").fill(br(NOW));
  const situation = { ...cliente, request: { topic: "bug" }, analysis: { database_taken_at: "2026-12-07T09:00" } };
  for (const [path, value] of facts(situation)) {
    await fill(page, path, value);
    await settle(page);
  }
  const item = page.locator('#pendencias li[data-id="fluxo.banco.prazo.limite"]');
  assert.equal(await item.getAttribute("class"), "atrasada");
  assert.match(await item.textContent(), /^Atrasada desde 08\/12\/2026 09:00: Análise do banco/);
  const red = await item.locator("strong").evaluate((el) => getComputedStyle(el).color);
  assert.equal(red, "rgb(176, 0, 32)");
  await page.screenshot({ path: join(ARTIFACTS, "003-pendencia-atrasada.png"), fullPage: true });
  await page.close();
});

// Issue 21: a ticket's case on the page. Opened on the situation typed so
// far, its follow-up shows with its due time; when `now` moves past it,
// it is overdue in red; answering what it waited for closes it, and the
// answer is in the case for the next analyst.
test("a case opened by ticket keeps its follow-up, overdue when now moves, closed by the answer", async () => {
  const page = await openPage({ width: 1280, height: 1100 });
  await page.locator("#agora").fill(br("2026-12-08T08:00"));
  const situation = { request: { topic: "bug" }, analysis: { database_taken_at: "2026-12-07T09:00" } };
  for (const [path, value] of facts(situation)) {
    await fill(page, path, value);
    await settle(page);
  }
  await page.locator("#ticket").fill("3030");
  await page.locator("#abrir-caso").click();
  await page.waitForFunction(() => document.querySelector("#caso-estado").textContent.includes("3030"));
  assert.match(await page.locator("#caso-estado").textContent(), /Caso do ticket 3030 · versão 1 · aberto/);
  // The moment read back from the case shows in its field as typed.
  assert.equal(await page.locator('[name="analysis.database_taken_at"]').inputValue(), "07/12/2026 09:00");
  const item = page.locator('#pendencias li[data-id="fluxo.banco.prazo.limite"]');
  assert.match(await item.textContent(), /^Até 08\/12\/2026 09:00: /);

  await page.locator("#agora").fill(br("2026-12-08T10:15"));
  await settle(page);
  assert.equal(await item.getAttribute("class"), "atrasada");
  assert.match(await item.textContent(), /^Atrasada desde 08\/12\/2026 09:00/);
  await page.screenshot({ path: join(ARTIFACTS, "caso-3030-atrasado.png"), fullPage: true });

  await fill(page, "analysis.finished", "true");
  await settle(page);
  assert.match(await page.locator("#caso-estado").textContent(), /versão 2/);
  assert.equal(await item.count(), 0);
  const stored = await (await api("/v1/cases/3030?now=2026-12-08T10:20:00-03:00")).json();
  assert.equal(stored.case.version, 2);
  assert.equal(JSON.parse(stored.case.situation).analysis.finished, true);
  await page.close();
});

// Two answers to a case in quick succession, the first held on the line:
// the newer reaches the service first, the older then finds the case
// changed (409). The page shows the newer case, never the older reply.
test("a case answered twice shows the latest answer even when the older reply arrives last", async () => {
  const page = await openPage({ width: 1280, height: 1100 });
  await page.locator("#agora").fill(br(NOW));
  await fill(page, "request.topic", "boleto");
  await settle(page);
  await page.locator("#ticket").fill("3131");
  await page.locator("#abrir-caso").click();
  await page.waitForFunction(() => document.querySelector("#caso-estado").textContent.includes("3131"));
  let held = 0;
  await page.route("**/v1/cases/3131/answers**", async (route) => {
    if (held++ === 0) await new Promise((done) => setTimeout(done, 1500));
    await route.continue();
  });
  await fill(page, "contact.kind", "cliente");
  await page.waitForTimeout(400);
  await fill(page, "contact.channel", "chat");
  await page.waitForTimeout(2500);
  await page.waitForLoadState("networkidle");
  assert.equal(held, 2, "both answers were sent");
  assert.equal(await page.locator("#erro").isHidden(), true, await page.locator("#erro").textContent());
  assert.match(await page.locator("#caso-estado").textContent(), /versão 2/);
  const stored = await (await api("/v1/cases/3131?now=2026-12-08T10:20:00-03:00")).json();
  assert.equal(JSON.parse(stored.case.situation).contact.channel, "chat");
  await page.close();
});

// Every open follow-up across cases, soonest first, filterable by team.
test("the Pendências view lists every case's open follow-ups, filterable by team", async () => {
  const open = async (ticket, now, situation) => {
    const response = await api(`/v1/cases/${ticket}?now=${encodeURIComponent(now)}`, {
      method: "POST",
      body: JSON.stringify(situation),
    });
    assert.equal(response.status, 201);
  };
  // A non-client on a Friday night (Financeiro's follow-up, undated: 002
  // item 31 gives the wait no deadline, so it comes last) and a
  // Core with no contact at 2 minutes (IO's, at 5 minutes).
  await open("7001", "2026-12-11T19:00:00-03:00", { contact: { kind: "nao_cliente" }, request: { topic: "erro_sistema" } });
  await open("7002", "2026-12-08T10:02:00-03:00", { appointment: { number: 1, starts_at: "2026-12-08T10:00:00-03:00", client_reached: false } });
  const page = await openPage({ width: 1280, height: 900 });
  await page.locator("#agora").fill(br("2026-12-10T10:00"));
  await page.locator("#ver-pendencias").click();
  const items = page.locator("#pendencias-casos li");
  await page.waitForFunction(() => document.querySelectorAll("#pendencias-casos li[data-id]").length >= 2);
  const ids = await items.evaluateAll((all) => all.map((li) => li.dataset.id));
  assert.ok(ids.indexOf("7002/core.sem_contato.tentar.slack") < ids.indexOf("7001/padrao.nao_cliente.aguardar_financeiro.retornar"), ids.join(", "));
  const slack = page.locator('#pendencias-casos li[data-id="7002/core.sem_contato.tentar.slack"]');
  assert.equal(await slack.getAttribute("class"), "atrasada");
  await page.locator("#pendencias-time").selectOption("financeiro");
  await page.waitForFunction(() => !document.querySelector('#pendencias-casos li[data-id^="7002/"]'));
  assert.equal(await page.locator('#pendencias-casos li[data-id^="7001/"]').count(), 1);
  await page.screenshot({ path: join(ARTIFACTS, "pendencias-dos-casos.png"), fullPage: true });
  await page.close();
});

test("the page asks for a token first, refuses a wrong one, and an analyst sees no statistics", async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(base);
  await page.locator("#entrada").waitFor({ state: "visible" });
  assert.equal(await page.locator("#app").isVisible(), false);
  await page.screenshot({ path: join(ARTIFACTS, "entrada.png") });
  await page.locator("#token").fill("rot_00000000_errado");
  await page.locator("#entrar").click();
  await page.locator("#entrada-aviso").filter({ hasText: "token desconhecido" }).waitFor();
  await page.locator("#token").fill(analista);
  await page.locator("#entrar").click();
  await page.locator("#app").waitFor({ state: "visible" });
  assert.equal(await page.locator("#quem").textContent(), "Carla Analista (analista)");
  assert.equal(await page.locator("#ver-estatisticas").isVisible(), false);
  // The decision works through the session cookie and its CSRF value.
  await page.locator('[name="request.topic"]').waitFor();
  await page.close();
  const again = await browser.newPage();
  await again.goto(base);
  await again.locator("#entrada").waitFor({ state: "visible" });
  await again.close();
});

test("an owner sees the versions, opens a diff, approves another's release and rolls back; an analyst sees no versions", async () => {
  const page = await openPage({ width: 1280, height: 900 });
  await page.getByRole("button", { name: "Versões" }).click();
  const second = page.locator(`#versoes-lista li[data-versao="${releases.second}"]`);
  const first = page.locator(`#versoes-lista li[data-versao="${releases.first}"]`);
  await second.waitFor();
  assert.match(await second.textContent(), /proposta, esperando aprovação/);
  assert.match(await second.textContent(), /por Dona Ana em \d{2}\/\d{2}\/\d{4} \d{2}:\d{2}/);
  assert.match(await first.textContent(), /ativa.*aprovada por Navegador Admin/s);
  await second.getByRole("button", { name: `O que mudou desde ${releases.first}` }).click();
  await page.locator("#versoes-mudancas-linhas li").first().waitFor();
  assert.match(await page.locator("#versoes-mudancas").textContent(), /regra `io.agendar`.*com clareza/s);
  await second.getByRole("button", { name: "Aprovar" }).click();
  await page.locator(`#versoes-lista li.ativa[data-versao="${releases.second}"]`).waitFor();
  await page.screenshot({ path: join(ARTIFACTS, "versoes.png"), fullPage: true });
  // Going back says why; the history keeps who and why.
  await first.getByRole("button", { name: "Voltar a esta versão" }).click();
  await page.locator("#versoes-aviso").filter({ hasText: "motivo" }).waitFor();
  await first.getByRole("textbox").fill("o texto novo confundiu os analistas");
  await first.getByRole("button", { name: "Voltar a esta versão" }).click();
  await page.locator(`#versoes-lista li.ativa[data-versao="${releases.first}"]`).waitFor();
  assert.match(await page.locator("#versoes-replicas").textContent(), /no ar/);
  const history = await (await api("/v1/releases")).json();
  assert.deepEqual(
    [history.events[0].kind, history.events[0].who, history.events[0].note],
    ["revertida", "Navegador Admin", "o texto novo confundiu os analistas"],
  );
  await page.close();
  const analyst = await openPage({ width: 1280, height: 900 }, analista);
  await analyst.locator('[name="request.topic"]').waitFor();
  // Options read by their display names (vocabulary.yaml, names).
  assert.equal(await analyst.locator('[name="contact.kind"] option[value="nao_cliente"]').textContent(), "Não cliente");
  assert.equal(await analyst.locator('[name="request.topic"] option[value="duvida_sistema"]').textContent(), "Dúvida sobre o sistema");
  assert.equal(await analyst.locator("#ver-versoes").isVisible(), false);
  const refused = await fetch(`${base}/v1/releases`, { headers: { authorization: `Bearer ${analista}` } });
  assert.equal(refused.status, 403);
  await analyst.close();
});

test("logged in, the analyst is never asked their name and is greeted by it; Novo atendimento starts the next call", async () => {
  const page = await openPage({ width: 1280, height: 900 }, analista);
  await page.locator('[name="request.topic"]').waitFor();
  await page.locator("#agora").fill(br(NOW));
  await settle(page);
  for (const [path, value] of facts(SCENARIOS[0].situation)) {
    await fill(page, path, value);
    await settle(page);
  }
  assert.equal(await page.locator('[name="analyst.name"]').count(), 0, "no field asks the analyst's name");
  assert.equal(
    await page.locator('.script[data-id="fluxo.atender.saudacao.script"] p').textContent(),
    "Info, Carla Analista, Bom dia!",
  );
  assert.equal(await page.locator('#saidas [data-saida="route"]').textContent(), rota("io"));
  await page.getByRole("button", { name: "Novo atendimento" }).click();
  await settle(page);
  assert.equal(await page.locator('[name="contact.channel"]').inputValue(), "");
  assert.equal(await page.locator('[name="request.topic"]').inputValue(), "");
  assert.equal(await page.locator("#saidas span").count(), 0, "nothing decided for a call with no answer");
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("name")), "contact.channel");
  await page.close();
});

test("docked at 420 px, the next question and the first script are on screen after each answer, routine steps folded", async () => {
  const viewport = { width: 420, height: 900 };
  const page = await openPage(viewport, analista);
  await page.locator('[name="request.topic"]').waitFor();
  await page.locator("#agora").fill(br(NOW));
  await settle(page);
  const onScreen = async (locator, what) => {
    const box = await locator.boundingBox();
    assert.ok(box && box.y >= 0 && box.y + box.height <= viewport.height, `${what} at ${JSON.stringify(box)}`);
  };
  for (const [path, value] of [["contact.channel", "chat"], ["contact.kind", "cliente"], ["request.topic", "sistema_bloqueado"]]) {
    await page.locator(`[name="${path}"]`).selectOption(value);
    await settle(page);
    await page.evaluate(() => window.scrollTo(0, 0));
    if (path === "request.topic") {
      await onScreen(page.locator("#faltando .campo").first(), "the next question");
      await onScreen(page.locator("#scripts .script").first(), "the first script");
    }
  }
  const folded = page.locator("#acoes details.rotina");
  assert.match(await folded.locator(":scope > summary").textContent(), /^Passos de todo atendimento \(\d+\)$/);
  assert.equal(await folded.evaluate((el) => el.open), false);
  // This call's own steps lead: no greeting or record before them, and
  // confirming the block is among the first.
  const leading = await page.locator("#acoes > li[data-id]").evaluateAll((items) => items.map((li) => li.dataset.id));
  assert.ok(leading.slice(0, 3).includes("padrao.bloqueio.confirmar.imagem"), leading.join(", "));
  assert.ok(!leading.includes("fluxo.atender.saudacao.saudar") && !leading.includes("padrao.historico.ler"), leading.join(", "));
  // "Por quê?" in words: the procedure by its title, the condition as
  // `decide` says it; the Rhai only with "detalhes" on.
  const why = page.locator('#acoes li[data-id="padrao.bloqueio.confirmar.imagem"] details.porque');
  await why.locator("summary").click();
  const said = await why.innerText();
  assert.match(said, /Atendimento padrão Info, seção item 28: Confirmar se o sistema está realmente bloqueado\./);
  assert.match(said, /Porque assunto da solicitação é “Sistema bloqueado”/);
  assert.doesNotMatch(said, /request\.topic|002_46f0d72acbeffb8a/);
  await page.locator("#detalhes").check();
  assert.match(await why.innerText(), /request\.topic == "sistema_bloqueado"/);
  await page.locator("#detalhes").uncheck();
  await page.screenshot({ path: join(ARTIFACTS, "encaixada-420.png"), fullPage: true });
  await page.close();
});

test("topics come grouped by what the client wants and filter as typed; an output still open reads 'a decidir'", async () => {
  const page = await openPage({ width: 420, height: 900 }, analista);
  const topic = page.locator('[name="request.topic"]');
  await topic.waitFor();
  await page.locator("#agora").fill(br(NOW));
  await settle(page);
  assert.deepEqual(await topic.locator("optgroup").evaluateAll((groups) => groups.map((g) => g.label)), [
    "Equipamentos",
    "Integrações e aplicativos",
    "Treinamentos",
    "Financeiro",
    "Problemas e dúvidas no sistema",
    "Outros setores",
  ]);
  const shown = () => topic.locator("option:not([hidden])").evaluateAll((options) => options.filter((o) => o.value).map((o) => o.text));
  const filter = page.getByRole("searchbox", { name: /Filtrar: Sobre o que é a solicitação/ });
  // Accents and case do not count; a section's title finds its topics.
  await filter.fill("duvida sobre");
  assert.deepEqual(await shown(), ["Dúvida sobre o treinamento", "Dúvida sobre o sistema"]);
  assert.equal(await topic.inputValue(), "", "two left: nothing chosen for the analyst");
  await filter.fill("financ");
  assert.deepEqual(await shown(), ["Boleto", "Sistema bloqueado"]);
  await topic.focus();
  await page.screenshot({ path: join(ARTIFACTS, "assuntos-filtrados-420.png") });
  await filter.fill("");
  assert.equal((await shown()).length, 25);
  // One left is the answer.
  await page.locator('[name="contact.channel"]').selectOption("chat");
  await page.locator('[name="contact.kind"]').selectOption("cliente");
  await page.getByRole("searchbox", { name: /Filtrar: Sobre o que é a solicitação/ }).fill("treinamento complet");
  assert.deepEqual(await shown(), []);
  await page.getByRole("searchbox", { name: /Filtrar: Sobre o que é a solicitação/ }).fill("Treinamento");
  assert.deepEqual(await shown(), ["Dúvida sobre o treinamento", "Pedido de \"uma sessão\" ou \"um treinamento\"", "Treinamento"]);
  await topic.selectOption("treinamento");
  await settle(page);
  // Before the scope is known the route is open (IO or support): no
  // provisional "Suporte", and what decides it is named.
  const route = page.locator('#saidas [data-saida="route"]');
  assert.match(await route.textContent(), /^Time responsável: a decidir \(depende de escopo do treinamento, plano ativo, .*\)$/);
  assert.doesNotMatch(await page.locator("#saidas").textContent(), /Suporte/);
  await fill(page, "request.scope", "especifico");
  await settle(page);
  assert.equal(await route.textContent(), rota("suporte"));
  await fill(page, "request.scope", "completo");
  await settle(page);
  assert.match(await route.textContent(), /^Time responsável: a decidir \(depende de .*\)$/);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(ARTIFACTS, "a-decidir-420.png") });
  await page.close();
});

// Issue 38's walkthrough: three calls, answered one question at a time as
// the page asks them, at both widths.
const WALKTHROUGH = [
  {
    name: "sistema-bloqueado",
    now: NOW,
    answers: [
      ["contact.channel", "chat"],
      ["contact.kind", "cliente"],
      ["request.topic", "sistema_bloqueado"],
      ["system.blocked", "false"],
      ["billing.due_date", "2026-12-05"],
      ["billing.payment_method", "boleto"],
    ],
    said: /o bloqueio ocorrerá em 12\/12\/2026/,
  },
  {
    name: "nao-cliente-sexta-19h30",
    now: "2026-12-11T19:30",
    answers: [
      ["contact.channel", "whatsapp"],
      ["contact.kind", "nao_cliente"],
    ],
    said: /Info, Carla Analista, Boa noite!/,
  },
  {
    name: "treinamento-financeiro",
    now: NOW,
    answers: [
      ["contact.channel", "chat"],
      ["contact.kind", "cliente"],
      ["request.topic", "treinamento"],
      ["request.scope", "completo"],
      ["request.module", "Financeiro"],
      ["client.plan_active", "true"],
      ["client.account_blocked", "false"],
      ["client.in_onboarding", "false"],
      ["client.franchise", "false"],
    ],
    said: /Info, Carla Analista, Bom dia!/,
  },
];

// What an analyst must not read with "detalhes" off: an output's key, a
// value's key (snake_case) or an ISO date.
const KEYS = /\b(flow|route|io_scheduling|block_date)\b|\b[a-z]+_[a-z_]+\b|\b\d{4}-\d{2}-\d{2}\b/;

for (const call of WALKTHROUGH) {
  test(`walkthrough ${call.name}: after each answer the next question and first script are on screen (420 px), words not keys, at both widths`, async () => {
    for (const { name, viewport } of WIDTHS) {
      const page = await openPage(viewport, analista);
      await page.locator('[name="request.topic"]').waitFor();
      await page.locator("#agora").fill(br(call.now));
      await settle(page);
      for (const [path, value] of call.answers) {
        await fill(page, path, value);
        await settle(page);
        await page.evaluate(() => window.scrollTo(0, 0));
        const shown = await page.evaluate(() => document.body.innerText);
        const key = KEYS.exec(shown);
        assert.equal(key, null, `${call.name} at ${name}, after ${path}: «${key?.[0]}» on screen`);
        if (name !== "420") continue;
        for (const [selector, what] of [["#faltando .campo", "the next question"], ["#scripts .script", "the first script"]]) {
          const first = page.locator(selector).first();
          if (!(await first.isVisible())) continue;
          const box = await first.boundingBox();
          assert.ok(box.y >= 0 && box.y + box.height <= viewport.height, `${call.name}, after ${path}: ${what} at ${JSON.stringify(box)}`);
        }
      }
      assert.match(await page.locator("#scripts").innerText(), call.said);
      assert.equal(await page.locator('[name="analyst.name"]').count(), 0);
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: join(ARTIFACTS, `roteiro-${call.name}-${name}.png`) });
      await page.getByRole("button", { name: "Novo atendimento" }).click();
      await settle(page);
      assert.equal(await page.locator('[name="request.topic"]').inputValue(), "");
      assert.equal(await page.locator("#saidas span").count(), 0, "Novo atendimento starts an empty call");
      await page.close();
    }
  });
}

test("an analyst decides through the session, and Sair ends it", async () => {
  const page = await openPage({ width: 1280, height: 900 }, analista);
  await fill(page, "request.topic", "xml");
  await settle(page);
  assert.ok((await page.locator("#acoes li").count()) > 0);
  await page.locator("#sair").click();
  await page.locator("#entrada").waitFor({ state: "visible" });
  await page.reload();
  await page.locator("#entrada").waitFor({ state: "visible" });
  await page.close();
});

// Issue 23: the case written into its Movidesk ticket from the page: the
// exact text first, then the confirmed push, read back from the helpdesk.
test("a case is previewed and written into its helpdesk ticket once", async () => {
  const page = await openPage({ width: 1280, height: 1100 });
  await page.locator("#agora").fill(br(NOW));
  for (const [path, value] of facts({ contact: { kind: "cliente" }, request: { topic: "boleto" } })) {
    await fill(page, path, value);
    await settle(page);
  }
  await page.locator("#ticket").fill("9090");
  await page.locator("#abrir-caso").click();
  await page.waitForFunction(() => document.querySelector("#caso-estado").textContent.includes("9090"));
  await page.locator("#ver-envio").click();
  await page.waitForFunction(() => document.querySelector("#previa-texto").textContent.includes("[roteiro 9090-"));
  const previewed = await page.locator("#previa-texto").textContent();
  assert.match(previewed, /^Registro do roteiro, caso do ticket 9090/);
  assert.match(previewed, /Analista: Navegador Admin/);
  await page.screenshot({ path: join(ARTIFACTS, "envio-ao-ticket.png"), fullPage: true });
  await page.locator("#confirmar-envio").click();
  await page.locator("#envio-estado").filter({ hasText: "Escrito no ticket 9090" }).waitFor();
  const read = await fetch(`${helpdeskBase}/tickets?token=${HELPDESK_TOKEN}&id=9090&$select=id&$expand=actions`);
  const { actions } = await read.json();
  assert.equal(actions.length, 1);
  assert.equal(actions[0].description, previewed);
  assert.equal(actions[0].type, 1);
  await page.close();
});

// ---- Issue 27: the page an analyst keeps open all day. ----

const AXE = readFileSync(join(ROOT, "tests/browser/node_modules/axe-core/axe.min.js"), "utf8");
const WIDTHS = [
  { name: "1366", viewport: { width: 1366, height: 900 } },
  { name: "420", viewport: { width: 420, height: 900 } },
];

/** axe-core over the page: its serious and critical violations. */
async function seriousViolations(page) {
  // Through the debugger, as a person's devtools would: the page's
  // Content-Security-Policy refuses inline scripts, a test's included.
  await page.evaluate(AXE);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const run = await axe.run(document, { resultTypes: ["violations"] });
    return run.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join("; ")}`);
  });
  return result;
}

const scenario1 = SCENARIOS[0].situation;

test("empty, partial and decided states: no empty boxes, what to answer first, no serious axe violation, at both widths", async (t) => {
  for (const { name, viewport } of WIDTHS) {
    const page = await openPage(viewport);
    await page.locator("#agora").fill(br(NOW));
    await settle(page);
    // Empty: the right side says what to answer first, no headings over nothing.
    assert.equal(await page.locator("#comeco").isVisible(), true);
    assert.equal(await page.locator("#comeco-perguntas li").count(), 3);
    assert.equal(await page.locator("#titulo-acoes").isVisible(), false);
    assert.equal(await page.locator("#recusa").isVisible(), false);
    const emptyBoxes = await page.evaluate(() =>
      [...document.querySelectorAll("section, .banner, div.script")].filter((el) => {
        const box = el.getBoundingClientRect();
        return box.height > 0 && el.innerText.trim() === "";
      }).length,
    );
    assert.equal(emptyBoxes, 0, "no visible empty box");
    assert.deepEqual(await seriousViolations(page), [], `empty at ${name}`);
    await page.screenshot({ path: join(ARTIFACTS, `vazio-${name}.png`), fullPage: true });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(ARTIFACTS, `vazio-${name}-tela.png`) });

    // Partial: the channel and who it is.
    await fill(page, "contact.channel", "chat");
    await fill(page, "contact.kind", "cliente");
    await settle(page);
    assert.deepEqual(await seriousViolations(page), [], `partial at ${name}`);
    await page.screenshot({ path: join(ARTIFACTS, `parcial-${name}.png`), fullPage: true });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(ARTIFACTS, `parcial-${name}-tela.png`) });

    // Decided: document 004, scenario 1.
    for (const [path, value] of facts(scenario1)) {
      await fill(page, path, value);
      await settle(page);
    }
    assert.equal(await page.locator('#saidas [data-saida="route"]').textContent(), rota("io"));
    assert.equal(await page.locator("#comeco").isVisible(), false);
    assert.deepEqual(await seriousViolations(page), [], `decided at ${name}`);
    await page.screenshot({ path: join(ARTIFACTS, `decidido-${name}.png`), fullPage: true });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(ARTIFACTS, `decidido-${name}-tela.png`) });
    if (name === "420") {
      // Docked: one column, the decision and its scripts above the answers
      // already given, no sideways scroll.
      const badges = await page.locator("#saidas").boundingBox();
      const scripts = await page.locator("#scripts").boundingBox();
      const answered = await page.locator("#principais").boundingBox();
      assert.ok(badges.y < scripts.y && scripts.y < answered.y, "decision, scripts, then the answers");
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 420), "no horizontal scroll");
    }
    // A re-decision, from asking to the screen (reported, not asserted).
    await fill(page, "client.plan_active", "false");
    await settle(page);
    const ms = await page.evaluate(() => document.body.dataset.ultimaDecisaoMs);
    t.diagnostic(`re-decision at ${name}: ${ms} ms from request to screen`);
    await page.close();
  }
});

test("fact paths show only with 'detalhes' on, and the choice is kept", async () => {
  const page = await openPage({ width: 1366, height: 900 });
  const path = page.locator("#principais small.caminho").first();
  assert.equal(await path.isVisible(), false);
  await page.locator("#detalhes").check();
  assert.equal(await path.isVisible(), true);
  assert.match(await path.textContent(), /^[a-z_]+\.[a-z_.]+$/);
  await page.reload();
  await page.locator("#app").waitFor({ state: "visible" });
  // The form comes after the vocabulary is fetched: wait for it (a path
  // that stays hidden fails here after 5 s).
  await page.locator("#principais small.caminho").first().waitFor({ state: "visible", timeout: 5000 });
  await page.locator("#detalhes").uncheck();
  await page.close();
});

// 001's no-show: with "agora" following the clock, the Slack step comes
// at 5 minutes and the cancellation routine after 15, untouched; a pinned
// moment stays pinned and says so.
test("'agora' follows the real clock in dd/mm/aaaa 24h; time-based steps change on their own; a pinned moment stays", async () => {
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 }, locale: "en-US" });
  // 10:00 in Brasília, on an American browser.
  await page.clock.install({ time: new Date("2026-12-08T13:00:00Z") });
  await page.goto(base);
  await page.locator("#token").fill(admin);
  await page.locator("#entrar").click();
  await page.locator("#app").waitFor({ state: "visible" });
  assert.equal(await page.locator("#agora").inputValue(), "08/12/2026 10:00");
  assert.match(await page.locator("#agora-estado").textContent(), /Seguindo o relógio \(Horário Padrão de Brasília\)/);
  // Moments take the bundle's zone's offset of their day, from the tz
  // database: Brasília kept daylight saving until 2019.
  assert.deepEqual(await page.evaluate(() => [fuso.nome, comFuso("2026-12-08T10:15"), comFuso("2018-01-15T10:15")]), [
    "America/Sao_Paulo",
    "2026-12-08T10:15:00-03:00",
    "2018-01-15T10:15:00-02:00",
  ]);
  await fill(page, "appointment.starts_at", "2026-12-08T10:00");
  await fill(page, "appointment.client_reached", "false");
  await settle(page);
  const step = (id) => page.locator(`#acoes li[data-id="${id}"]`);
  await step("core.sem_contato.tentar.ligar").waitFor();
  await page.clock.fastForward("05:30");
  await step("core.sem_contato.slack.sinalizar").waitFor();
  assert.equal(await page.locator("#agora").inputValue(), "08/12/2026 10:05");
  // Past the 15 minutes of tolerance (16 whole minutes late).
  await page.clock.fastForward("11:00");
  await step("core.sem_contato.cancelar.formulario").waitFor();
  await page.screenshot({ path: join(ARTIFACTS, "relogio-cancelamento.png"), fullPage: true });

  // Pinned: typed, it stays while the clock moves, and says so.
  await page.locator("#agora").fill("08/12/2026 10:01");
  await step("core.sem_contato.tentar.ligar").waitFor();
  assert.match(await page.locator("#agora-estado").textContent(), /fixado em 08\/12\/2026 10:01/);
  await page.clock.fastForward("20:00");
  assert.equal(await page.locator("#agora").inputValue(), "08/12/2026 10:01");
  // A moment that is not one is refused and decides nothing.
  await page.locator("#agora").fill("31/02/2026 10:00");
  assert.equal(await page.locator("#agora").getAttribute("aria-invalid"), "true");
  await page.locator("#seguir-relogio").click();
  assert.equal(await page.locator("#agora").inputValue(), "08/12/2026 10:36");
  await page.close();
});

/** Tabs (at most 400 times) until the focused element satisfies `wanted`. */
async function tabTo(page, wanted, what) {
  for (let n = 0; n < 400; n++) {
    if (await page.evaluate(wanted)) return;
    await page.keyboard.press("Tab");
  }
  assert.fail(`could not reach ${what} with Tab`);
}

/** Answers one fact with the keyboard only. */
async function answerByKeyboard(page, path, value) {
  const field = page.locator(`[name="${path}"]`);
  if (!(await field.isVisible())) {
    await tabTo(page, () => document.activeElement?.matches("#outros summary"), "Outros fatos");
    await page.keyboard.press("Enter");
  }
  await tabTo(page, new Function(`return document.activeElement?.name === ${JSON.stringify(path)}`), path);
  if ((await field.evaluate((el) => el.tagName)) === "SELECT") {
    // A focused select takes its option by typing its first letters,
    // as in any form; the arrow keys would walk the options too.
    const label = await field.evaluate((el, v) => [...el.options].find((o) => o.value === v)?.text, String(value));
    await page.keyboard.type(label);
  } else {
    await page.keyboard.type(/^\d{4}-\d{2}-\d{2}/.test(String(value)) ? br(String(value)) : String(value));
  }
  await settle(page);
}

for (const scenario of [SCENARIOS[0], SCENARIOS[3]]) {
  test(`${scenario.name} with the keyboard only, copy buttons included`, async () => {
    const page = await openPage({ width: 1366, height: 900 });
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
    await page.locator("#agora").focus();
    await page.keyboard.press("Control+A");
    await page.keyboard.type(br(NOW));
    for (const [path, value] of facts(scenario.situation)) await answerByKeyboard(page, path, value);
    const expected = await decideByApi(scenario.situation);
    assert.equal(expected.outputs.route, scenario.route);
    assert.equal(await page.locator('#saidas [data-saida="route"]').textContent(), rota(scenario.route));
    // The first script's copy button, reached and pressed by keyboard.
    await tabTo(page, () => document.activeElement?.getAttribute("aria-label") === "copiar o script", "a copy button");
    const focusRing = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(focusRing, "none", "focus is visible");
    await page.keyboard.press("Enter");
    assert.equal(await page.evaluate(() => document.activeElement.textContent), "copiado");
    await page.close();
  });
}
