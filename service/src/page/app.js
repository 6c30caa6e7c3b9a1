// The analysts' page: a form built from /v1/vocabulary, a decision from
// /v1/decide on every change. No logic of its own: what to ask comes from
// the decision's `missing`, what to do from its actions and scripts.
"use strict";

// What the analyst answers first comes from the bundle (`first_questions`).
let PRINCIPAIS = [];
// Phases whose steps every call repeats (bundle.yaml `routine_phases`):
// folded when the page is docked.
let ROTINA = [];
// Each rule in words (GET /v1/rules), by id: what "Por quê?" says.
const REGRAS = new Map();
// Each output by name: how people call it and read its values.
const SAIDAS = new Map();
const estado = { fatos: new Map(), valores: {}, decisao: null, caso: null };
let espera = null;

const $ = (id) => document.getElementById(id);

// Who is in: the session's anti-CSRF value (kept in memory only, never in
// storage) goes with every change the page asks for; the cookie itself is
// HttpOnly and out of the script's reach.
const sessao = { csrf: "", papel: "admin", identificado: false };
const PAPEIS = ["analista", "dono", "admin"];
const pode = (papel) => PAPEIS.indexOf(sessao.papel) >= PAPEIS.indexOf(papel);

async function api(url, opcoes = {}) {
  const cabecalhos = { ...(opcoes.headers || {}) };
  if (opcoes.method && opcoes.method !== "GET") cabecalhos["x-csrf-token"] = sessao.csrf;
  const resposta = await fetch(url, { ...opcoes, headers: cabecalhos, credentials: "same-origin" });
  if (resposta.status === 401) pedirEntrada("A sessão terminou; entre de novo.");
  return resposta;
}
// An answer whose body the page does not need is read to its end anyway:
// API answers are `no-store`, and the browser keeps the request of an
// unread, uncacheable body open (the page would never be idle).
async function descartar(resposta) {
  await resposta.body?.cancel();
}
const texto = (tag, conteudo, classe) => {
  const el = document.createElement(tag);
  if (conteudo !== undefined) el.textContent = conteudo;
  if (classe) el.className = classe;
  return el;
};

function campo(fato) {
  const rotulo = texto("label", undefined, "campo");
  rotulo.append(fato.question || fato.path);
  // The fact's path is for process owners: shown with "detalhes" on.
  rotulo.append(texto("small", fato.path, "caminho"));
  let entrada;
  if (fato.kind === "enum") {
    entrada = menu(fato);
    if (fato.values.length > MUITAS_OPCOES) {
      // The filter comes first inside the label: the list keeps its name.
      entrada.setAttribute("aria-label", fato.question || fato.path);
      rotulo.append(filtro(fato, entrada));
    }
  } else if (fato.kind === "bool") {
    entrada = document.createElement("select");
    for (const [valor, nome] of [["", "—"], ["true", "Sim"], ["false", "Não"]]) entrada.append(new Option(nome, valor));
  } else {
    entrada = document.createElement("input");
    entrada.type = fato.kind === "integer" ? "number" : "text";
    if (fato.kind === "date" || fato.kind === "datetime") {
      entrada.inputMode = "numeric";
      entrada.placeholder = fato.kind === "date" ? "dd/mm/aaaa" : "dd/mm/aaaa hh:mm";
      entrada.pattern = fato.kind === "date" ? "\\d{2}/\\d{2}/\\d{4}" : "\\d{2}/\\d{2}/\\d{4} \\d{2}:\\d{2}";
    }
  }
  entrada.name = fato.path;
  entrada.dataset.tipo = fato.kind;
  const atual = estado.valores[fato.path];
  // Dates and moments are kept as ISO (a moment with its zone) and shown
  // as dd/mm/aaaa [HH:MM].
  if (atual !== undefined) {
    entrada.value = fato.kind === "date" || fato.kind === "datetime" ? textoDe(atual) : String(atual);
  }
  entrada.addEventListener("input", () => mudar(fato, entrada.value, entrada));
  rotulo.append(entrada);
  return rotulo;
}

// Past this many options, a list gets a field that filters it as the
// analyst types ("bal" leaves "Configuração de balança").
const MUITAS_OPCOES = 8;

// An enum's values by display name, in the vocabulary's sections
// ("Equipamentos", "Financeiro"...) when it groups them.
function menu(fato) {
  const seletor = document.createElement("select");
  seletor.append(new Option("—", ""));
  for (const secao of fato.menu) {
    const destino = secao.title ? document.createElement("optgroup") : seletor;
    if (secao.title) {
      destino.label = secao.title;
      seletor.append(destino);
    }
    for (const valor of secao.values) destino.append(new Option(fato.names?.[valor] ?? valor.replaceAll("_", " "), valor));
  }
  return seletor;
}

// Case and accents do not count when filtering: "duvida" finds "Dúvida".
const semAcento = (texto) => texto.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();

function filtro(fato, seletor) {
  const campoFiltro = document.createElement("input");
  campoFiltro.type = "search";
  campoFiltro.className = "filtro";
  campoFiltro.placeholder = "Digite para filtrar";
  campoFiltro.setAttribute("aria-label", `Filtrar: ${fato.question || fato.path}`);
  campoFiltro.addEventListener("input", () => {
    const procurado = semAcento(campoFiltro.value.trim());
    const visiveis = [];
    for (const opcao of seletor.options) {
      if (!opcao.value) continue;
      opcao.hidden = !semAcento(opcao.text).includes(procurado) && !semAcento(opcao.parentElement.label ?? "").includes(procurado);
      if (!opcao.hidden) visiveis.push(opcao);
    }
    for (const grupo of seletor.querySelectorAll("optgroup")) grupo.hidden = ![...grupo.children].some((o) => !o.hidden);
    // One option left is the answer: chosen at once, as if picked.
    if (visiveis.length === 1 && seletor.value !== visiveis[0].value) {
      seletor.value = visiveis[0].value;
      seletor.dispatchEvent(new Event("input"));
    }
  });
  return campoFiltro;
}

function mudar(fato, bruto, entrada) {
  if (fato.kind === "date" || fato.kind === "datetime") {
    // Half-typed dates wait: nothing is decided on them.
    const iso = bruto === "" ? "" : isoDe(bruto, fato.kind === "datetime");
    entrada?.setAttribute("aria-invalid", String(iso === undefined));
    if (iso === undefined) return;
    bruto = fato.kind === "datetime" && iso ? comFuso(iso) : iso;
  }
  if (bruto === "") delete estado.valores[fato.path];
  else if (fato.kind === "bool") estado.valores[fato.path] = bruto === "true";
  else if (fato.kind === "integer") estado.valores[fato.path] = Number(bruto);
  else estado.valores[fato.path] = bruto;
  agendar();
}

function situacao() {
  const raiz = {};
  const now = momento();
  if (now) raiz.now = now;
  for (const [caminho, valor] of Object.entries(estado.valores)) {
    const partes = caminho.split(".");
    let no = raiz;
    for (const parte of partes.slice(0, -1)) no = no[parte] ??= {};
    no[partes.at(-1)] = valor;
  }
  return raiz;
}

function agendar() {
  clearTimeout(espera);
  espera = setTimeout(decidir, 200);
}

// A case open on the page: its ticket, the version last read and the
// values it holds, so only what changed is sent as answers.
function valoresDe(raiz, prefixo = "", saida = {}) {
  for (const [chave, valor] of Object.entries(raiz)) {
    const caminho = prefixo ? `${prefixo}.${chave}` : chave;
    if (valor !== null && typeof valor === "object") valoresDe(valor, caminho, saida);
    else saida[caminho] = valor;
  }
  return saida;
}

function mostrarCaso(corpo) {
  const caso = corpo.case;
  const valores = valoresDe(JSON.parse(caso.situation));
  delete valores.now;
  estado.caso = { ticket: caso.ticket, versao: caso.version, valores };
  estado.valores = { ...valores };
  const situacao = caso.closed_at ? `encerrado (${caso.closed_reason})` : "aberto";
  $("caso-estado").textContent = `Caso do ticket ${caso.ticket} · versão ${caso.version} · ${situacao}`;
  $("erro").hidden = true;
  estado.decisao = corpo.decision;
  $("envio").hidden = false;
  mostrarFormulario();
  mostrarDecisao(corpo.decision, corpo.follow_ups);
}

// Writing the case into its helpdesk ticket: the exact text first, then
// the confirmed push (which names the preview it confirms), then how it
// went, read back from the queue.
let previa = null;

function consultaEnvio(publico) {
  const agora = encodeURIComponent(momento() || "");
  return `?public=${publico}${agora ? `&now=${agora}` : ""}`;
}

async function verEnvio() {
  $("previa-envio").hidden = false;
  $("envio-estado").textContent = "";
  previa = null;
  const resposta = await api(`/v1/cases/${estado.caso.ticket}/push${consultaEnvio($("envio-publico").checked)}`);
  const corpo = await resposta.json();
  if (!resposta.ok) {
    $("previa-texto").textContent = "";
    $("envio-estado").textContent = corpo.error;
    return;
  }
  previa = corpo;
  $("previa-texto").textContent = corpo.text;
}

async function confirmarEnvio() {
  if (!previa) return;
  const resposta = await api(`/v1/cases/${previa.ticket}/push${consultaEnvio(previa.public)}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ marker: previa.marker }),
  });
  const corpo = await resposta.json();
  if (!resposta.ok) {
    $("envio-estado").textContent = corpo.error;
    return;
  }
  $("envio-estado").textContent = "Na fila para o ticket…";
  for (let tentativa = 0; tentativa < 30; tentativa++) {
    const envios = await (await api(`/v1/cases/${corpo.ticket}/pushes`)).json();
    const este = envios.find((envio) => envio.id === corpo.id);
    if (este && este.state === "feito") {
      $("envio-estado").textContent = `Escrito no ticket ${este.ticket}: ação ${este.result}.`;
      return;
    }
    if (este && este.state === "falhou") {
      $("envio-estado").textContent = `Não escrito: ${este.result}`;
      return;
    }
    if (este && este.attempts > 0) $("envio-estado").textContent = `Na fila: ${este.result}`;
    await new Promise((pronto) => setTimeout(pronto, 1000));
  }
}

async function abrirCaso() {
  const ticket = $("ticket").value.trim();
  const agora = encodeURIComponent(momento() || "");
  const consulta = agora ? `?now=${agora}` : "";
  let resposta = await api(`/v1/cases/${encodeURIComponent(ticket)}${consulta}`);
  if (resposta.status === 404) {
    await descartar(resposta);
    const { now, ...inicial } = situacao();
    resposta = await api(`/v1/cases/${encodeURIComponent(ticket)}${consulta}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(inicial),
    });
  }
  const corpo = await resposta.json();
  if (!resposta.ok) return mostrarErro(corpo.error);
  mostrarCaso(corpo);
}

function mostrarErro(mensagem) {
  $("erro").hidden = false;
  $("erro").textContent = mensagem;
}

// In a case, a change is an answer to the case (on the version read);
// nothing changed, the case is read again (time may have moved).
async function decidirCaso(atual) {
  const { ticket, versao, valores } = estado.caso;
  const respostas = Object.fromEntries(
    Object.entries(estado.valores).filter(([fato, valor]) => valores[fato] !== valor),
  );
  const agora = encodeURIComponent(momento() || "");
  const consulta = agora ? `?now=${agora}` : "";
  const resposta = Object.keys(respostas).length === 0
    ? await api(`/v1/cases/${ticket}${consulta}`)
    : await api(`/v1/cases/${ticket}/answers${consulta}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ answers: respostas, version: versao }),
    });
  const corpo = await resposta.json();
  if (!atual()) return;
  if (!resposta.ok) return mostrarErro(corpo.error);
  mostrarCaso(corpo);
}

async function decidir() {
  // Answers arrive in any order on a busy line: only the latest question
  // asked is shown, never an older answer after a newer one.
  const pedido = (estado.pedidos = (estado.pedidos ?? 0) + 1);
  const atual = () => pedido === estado.pedidos;
  if (estado.caso) return decidirCaso(atual);
  const inicio = performance.now();
  const resposta = await api("/v1/decide", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(situacao()),
  });
  const corpo = await resposta.json();
  if (!atual()) return;
  if (!resposta.ok) {
    $("erro").hidden = false;
    $("erro").textContent = corpo.error;
    return;
  }
  $("erro").hidden = true;
  estado.decisao = corpo;
  mostrarFormulario();
  mostrarDecisao(corpo);
  // From asking to the decision on screen, for the browser test to report.
  document.body.dataset.ultimaDecisaoMs = (performance.now() - inicio).toFixed(1);
}

// Whether the analyst answers `fato` here (not a fact the session fills).
const pergunta = (fato) => !(sessao.identificado && fato.from_login);

// Docked, this many open questions show at once: the first script stays
// on screen below them; the rest wait under "Mais N perguntas", folded
// again after each answer so the next ones come to the top.
const PERGUNTAS_A_VISTA = 3;

function mostrarFormulario() {
  // The most decisive first (the one more rules wait for), as `ask` asks.
  const faltando = [...(estado.decisao?.missing || [])]
    .sort((a, b) => b.needed_by.length - a.needed_by.length)
    .map((m) => m.fact)
    .filter((f) => estado.fatos.has(f) && !PRINCIPAIS.includes(f) && pergunta(estado.fatos.get(f)));
  const foco = document.activeElement?.name;
  $("principais").replaceChildren(...PRINCIPAIS.filter((f) => estado.fatos.has(f)).map((f) => campo(estado.fatos.get(f))));
  const campos = faltando.map((f) => campo(estado.fatos.get(f)));
  const aVista = matchMedia("(max-width: 700px)").matches ? PERGUNTAS_A_VISTA : campos.length;
  if (campos.length > aVista) {
    const mais = texto("details", undefined, "mais-perguntas");
    mais.append(texto("summary", `Mais ${campos.length - aVista} pergunta(s)`), ...campos.splice(aVista));
    campos.push(mais);
  }
  $("faltando").replaceChildren(...campos);
  $("faltando").className = "falta";
  $("titulo-falta").hidden = faltando.length === 0;
  const demais = [...estado.fatos.values()].filter(
    (f) => f.path !== "now" && !f.derived && pergunta(f) && !PRINCIPAIS.includes(f.path) && !faltando.includes(f.path),
  );
  $("demais").replaceChildren(...demais.map(campo));
  if (foco) document.querySelector(`[name="${CSS.escape(foco)}"]`)?.focus();
}

function copiar(conteudo, botao) {
  navigator.clipboard?.writeText(conteudo).catch(() => {});
  botao.textContent = "copiado";
  botao.dataset.copiado = conteudo;
  setTimeout(() => (botao.textContent = "copiar"), 1500);
}

function botaoCopiar(conteudo, nome) {
  const botao = texto("button", "copiar");
  botao.type = "button";
  botao.setAttribute("aria-label", `copiar ${nome}`);
  botao.addEventListener("click", () => copiar(conteudo, botao));
  return botao;
}

// Unfilled placeholders print as [label]: highlight them.
function comMarcas(conteudo) {
  const p = document.createElement("p");
  for (const [i, pedaco] of conteudo.split(/(\[[^\]]+\])/).entries()) {
    p.append(i % 2 ? texto("mark", pedaco) : document.createTextNode(pedaco));
  }
  return p;
}

// An output's value as people read it: its display name, sim/não,
// dd/mm/aaaa.
function valorDeSaida(nome, valor) {
  if (valor === true) return "sim";
  if (valor === false) return "não";
  if (/^\d{4}-\d{2}-\d{2}$/.test(String(valor))) return textoDe(valor);
  return SAIDAS.get(nome)?.names?.[valor] ?? String(valor).replaceAll("_", " ");
}

// "Por quê?" of an action in the words of `decide`'s text: the procedure
// by its title and section, what the rule does, its condition in words;
// the rule's id and Rhai only with "detalhes" on.
function porQue(acao, d) {
  const porque = texto("details", undefined, "porque");
  const regra = REGRAS.get(acao.rule);
  const origem = regra
    ? `${regra.document_title}, seção ${regra.section}${regra.title ? `: ${regra.title}` : ""}.`
    : `Documento ${acao.source.document}, seção ${acao.source.section}.`;
  porque.append(texto("summary", "Por quê?"), texto("div", origem));
  if (regra?.condition) porque.append(texto("div", `Porque ${regra.condition}.`, "em-palavras"));
  const rastro = d.trace.find((t) => t.rule === acao.rule);
  porque.append(texto("div", `regra ${acao.rule} · ${acao.source.document}${rastro ? ` · ${rastro.why}` : ""}`, "caminho"));
  return porque;
}

function mostrarDecisao(d, pendencias) {
  // Outputs a rule still waiting for an answer may set, each with the
  // questions that decide it (the engine's `open_outputs`): shown "a
  // decidir", never with the value they hold for now.
  const pendentes = new Map(Object.entries(d.open_outputs ?? {}));
  const nomes = [...new Set([...Object.keys(d.outputs), ...pendentes.keys()])];
  $("saidas").replaceChildren(...nomes.map((nome) => {
    const rotulo = SAIDAS.get(nome)?.label ?? nome;
    const falta = [...(pendentes.get(nome) ?? [])].map((f) => estado.fatos.get(f)?.label ?? f);
    const selo = pendentes.has(nome)
      ? texto("span", `${rotulo}: a decidir${falta.length ? ` (depende de ${falta.join(", ")})` : ""}`, "a-decidir")
      : texto("span", `${rotulo}: ${valorDeSaida(nome, d.outputs[nome])}`);
    selo.dataset.saida = nome;
    return selo;
  }));
  // Before there is anything to do, say what to answer first and why,
  // instead of headings over nothing.
  const vazio = d.actions.length === 0;
  $("comeco").hidden = !vazio;
  for (const id of ["titulo-acoes", "acoes", "titulo-scripts", "scripts"]) $(id).hidden = vazio;
  if (vazio) {
    document.body.classList.add("inicio");
    $("comeco-perguntas").replaceChildren(
      ...PRINCIPAIS.filter((f) => estado.fatos.has(f)).map((f) => texto("li", estado.fatos.get(f).question || f)),
    );
    $("acoes").replaceChildren();
    $("scripts").replaceChildren();
    mostrarPendencias(pendencias ?? d.follow_ups);
    return mostrarAssumidos(d);
  }
  document.body.classList.remove("inicio");
  // Docked, the steps every call repeats (greeting, history, records) are
  // folded under one line at the end: this call's own steps lead.
  const encaixada = matchMedia("(max-width: 700px)").matches;
  const rotina = (acao) => encaixada && ROTINA.includes(acao.phase);
  const item = (acao) => {
      const li = document.createElement("li");
      li.dataset.id = acao.id;
      const marca = document.createElement("input");
      marca.type = "checkbox";
      const rotulo = texto("label");
      rotulo.append(marca, " ", comMarcas(acao.text).textContent);
      li.append(rotulo);
      const meta = texto("div", undefined, "meta");
      if (acao.macro) {
        meta.append("Macro: ", texto("span", acao.macro, "macro"), " ", botaoCopiar(acao.macro, "a macro"));
      }
      if (acao.team) meta.append(` · time: ${acao.team}`);
      li.append(meta);
      li.append(porQue(acao, d));
      return li;
  };
  const repetidos = d.actions.filter(rotina);
  const dobra = [];
  if (repetidos.length) {
    const li = texto("li", undefined, "rotina-bloco");
    const detalhes = texto("details", undefined, "rotina");
    const lista = texto("ol");
    lista.append(...repetidos.map(item));
    detalhes.append(texto("summary", `Passos de todo atendimento (${repetidos.length})`), lista);
    li.append(detalhes);
    dobra.push(li);
  }
  $("acoes").replaceChildren(...d.actions.filter((acao) => !rotina(acao)).map(item), ...dobra);
  $("scripts").replaceChildren(
    ...d.scripts.map((script) => {
      const bloco = texto("div", undefined, "script");
      bloco.dataset.id = script.id;
      bloco.append(comMarcas(script.text), botaoCopiar(script.text, "o script"));
      return bloco;
    }),
  );
  mostrarPendencias(pendencias ?? d.follow_ups);
  mostrarAssumidos(d);
}

// What the procedure waits for, soonest first; overdue ones say so in
// words as well as in red.
function mostrarPendencias(lista) {
  const pendencias = lista || [];
  $("pendencias-bloco").hidden = pendencias.length === 0;
  $("pendencias").replaceChildren(
    ...pendencias.map((p) => {
      const li = texto("li", undefined, p.overdue ? "atrasada" : undefined);
      li.dataset.id = p.id;
      // Undated: a wait with no deadline, or one whose date needs a fact.
      const prazo = p.due_text
        ? (p.overdue ? `Atrasada desde ${p.due_text}` : `Até ${p.due_text}`)
        : (p.needs && p.needs.length ? "Prazo a definir" : "Sem prazo");
      li.append(texto("strong", `${prazo}: `), p.text);
      if (p.until) li.append(texto("div", `encerra quando: ${p.until}`, "meta"));
      return li;
    }),
  );
}

function mostrarAssumidos(d) {
  $("assumidos-bloco").hidden = d.assumed.length === 0;
  $("assumidos").replaceChildren(
    ...d.assumed
      .filter((a) => a.fact !== "now")
      .map((a) => {
        const li = texto("li", `${a.question} — assumido: ${a.value} `);
        const fato = estado.fatos.get(a.fact);
        if (fato?.kind === "bool") {
          const trocar = texto("button", "mudar");
          trocar.type = "button";
          trocar.addEventListener("click", () => {
            estado.valores[a.fact] = a.value !== "sim";
            agendar();
          });
          li.append(trocar);
        }
        return li;
      }),
  );
}

// The bundle and a refused edit are for process owners; an analyst's
// page says only who is in.
async function saude() {
  if (!pode("dono")) return;
  const corpo = await (await api("/healthz")).json();
  const origem = corpo.bundle.release ? `versão ${corpo.bundle.release}` : corpo.bundle.version;
  $("pacote").textContent = `${corpo.bundle.name} ${origem} · ${corpo.bundle.rules} regras`;
  const recusa = corpo.refused_reload;
  $("recusa").hidden = !recusa;
  if (recusa) {
    $("recusa").textContent = "A última edição do pacote foi recusada; o pacote anterior continua valendo.\n" + recusa.problems.map((p) => p.message).join("\n");
  }
}

// The numbers of `roteiro stats`, as bars.
function barras(titulo, linhas) {
  const bloco = texto("section");
  bloco.append(texto("h3", titulo));
  const maior = Math.max(1, ...linhas.map(([, n]) => n));
  for (const [nome, n] of linhas.slice(0, 12)) {
    const linha = texto("div", undefined, "barra");
    const cheia = texto("div", undefined, "cheia");
    cheia.style.width = `${Math.round((100 * n) / maior)}%`;
    linha.append(texto("span", nome), cheia, texto("span", String(n)));
    bloco.append(linha);
  }
  if (linhas.length === 0) bloco.append(texto("p", "nada no período", "muted"));
  return bloco;
}

// Every open follow-up of every open case, soonest first, overdue ones in
// red; a team narrows the list. Clicking a ticket opens its case.
async function pendenciasDosCasos() {
  const time = $("pendencias-time").value;
  const agora = encodeURIComponent(momento() || "");
  const resposta = await api(`/v1/cases?due=true&team=${encodeURIComponent(time)}&now=${agora}`);
  const corpo = await resposta.json();
  if (!resposta.ok) {
    $("pendencias-casos").replaceChildren(texto("li", corpo.error, "muted"));
    return;
  }
  // The teams to filter by are those the open follow-ups name.
  const seletor = $("pendencias-time");
  for (const p of corpo) {
    if (p.team && ![...seletor.options].some((o) => o.value === p.team)) seletor.append(new Option(p.team, p.team));
  }
  if (corpo.length === 0) {
    $("pendencias-casos").replaceChildren(texto("li", "Nenhuma pendência aberta.", "muted"));
    return;
  }
  $("pendencias-casos").replaceChildren(
    ...corpo.map((p) => {
      const li = texto("li", undefined, p.overdue ? "atrasada" : undefined);
      li.dataset.id = `${p.ticket}/${p.id}`;
      const prazo = p.due_text ? (p.overdue ? `Atrasada desde ${p.due_text}` : `Até ${p.due_text}`) : "Sem prazo";
      const abrir = texto("button", `ticket ${p.ticket}`);
      abrir.type = "button";
      abrir.addEventListener("click", () => {
        $("ticket").value = p.ticket;
        abrirCaso();
      });
      li.append(texto("strong", `${prazo}: `), abrir, ` ${p.text}`, p.team ? texto("span", ` · time ${p.team}`, "muted") : "");
      return li;
    }),
  );
}

// A panel its button opens and closes; `carregar` fills it each time it
// opens.
function alternar(painel, botao, carregar) {
  return async () => {
    const abrir = $(painel).hidden;
    $(painel).hidden = !abrir;
    $(botao).setAttribute("aria-expanded", String(abrir));
    if (abrir) await carregar();
  };
}

async function estatisticas() {
  const painel = $("estatisticas");
  const resposta = await api("/v1/stats");
  const corpo = await resposta.json();
  if (!resposta.ok) {
    painel.replaceChildren(texto("p", corpo.error, "muted"));
    return;
  }
  painel.replaceChildren(
    barras(`Por rota (${corpo.decisions} decisões)`, Object.entries(corpo.by_route)),
    barras("Por procedimento", Object.entries(corpo.by_document)),
    barras("Regras que mais disparam", corpo.rules),
    barras("Fatos que mais faltaram", corpo.most_missing),
  );
}

// "Novo atendimento": the next call starts from nothing (no answers, no
// case), with the focus on the first question.
async function novoAtendimento() {
  estado.valores = {};
  estado.caso = null;
  $("ticket").value = "";
  $("caso-estado").textContent = "";
  $("envio").hidden = true;
  $("previa-envio").hidden = true;
  await decidir();
  document.querySelector(`[name="${CSS.escape(PRINCIPAIS[0] ?? "")}"]`)?.focus();
}

// The login form, shown instead of the page until a token is accepted.
function pedirEntrada(aviso) {
  $("app").hidden = true;
  $("entrada").hidden = false;
  $("entrada-aviso").textContent = aviso || "";
  $("token").focus();
}

async function entrar(evento) {
  evento.preventDefault();
  const resposta = await fetch("/v1/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token: $("token").value.trim() }),
  });
  const corpo = await resposta.json();
  if (!resposta.ok) {
    $("entrada-aviso").textContent = corpo.error;
    return;
  }
  $("token").value = "";
  await comecar(corpo);
}

async function sair() {
  await descartar(await api("/v1/logout", { method: "POST" }));
  pedirEntrada("Você saiu.");
}

// Starts the page for who is in (`aberto`: a service with no
// authentication, which only a loopback address allows).
async function comecar(quem) {
  sessao.csrf = quem.csrf || "";
  sessao.papel = quem.open ? "admin" : quem.role;
  // Someone logged in is never asked their own name: the service fills
  // the facts marked `from_login` (analyst.name) from the session.
  sessao.identificado = !quem.open;
  $("quem").textContent = quem.open ? "sem autenticação" : `${quem.name} (${quem.role})`;
  $("sair").hidden = Boolean(quem.open);
  $("ver-estatisticas").hidden = !pode("admin");
  $("ver-versoes").hidden = !pode("dono");
  // Shown once the vocabulary (and the bundle's zone) is in: "agora" is
  // never empty or in the wrong zone on screen.
  if (!estado.iniciado) {
    estado.iniciado = true;
    await iniciar();
  }
  $("entrada").hidden = true;
  $("app").hidden = false;
}

async function abrir() {
  $("form-entrada").addEventListener("submit", entrar);
  $("sair").addEventListener("click", sair);
  const resposta = await fetch("/v1/session", { credentials: "same-origin" });
  if (resposta.ok) await comecar(await resposta.json());
  else {
    await descartar(resposta);
    pedirEntrada();
  }
}

async function iniciar() {
  // The answers are decided as they are typed: Enter submits nothing
  // (no inline handler: the Content-Security-Policy allows none).
  $("form").addEventListener("submit", (evento) => evento.preventDefault());
  $("ver-estatisticas").addEventListener("click", alternar("estatisticas", "ver-estatisticas", estatisticas));
  $("ver-versoes").addEventListener("click", alternar("versoes", "ver-versoes", versoes));
  $("ver-envio").addEventListener("click", verEnvio);
  $("envio-publico").addEventListener("change", verEnvio);
  $("confirmar-envio").addEventListener("click", confirmarEnvio);
  $("abrir-caso").addEventListener("click", abrirCaso);
  $("novo-atendimento").addEventListener("click", novoAtendimento);
  $("ver-pendencias").addEventListener("click", alternar("todas-pendencias", "ver-pendencias", pendenciasDosCasos));
  $("pendencias-time").addEventListener("change", pendenciasDosCasos);

  $("agora").addEventListener("input", fixarRelogio);
  $("seguir-relogio").addEventListener("click", seguirRelogio);
  $("detalhes").checked = localStorage.getItem("roteiro.detalhes") === "sim";
  document.body.classList.toggle("detalhes", $("detalhes").checked);
  $("detalhes").addEventListener("change", () => {
    document.body.classList.toggle("detalhes", $("detalhes").checked);
    localStorage.setItem("roteiro.detalhes", $("detalhes").checked ? "sim" : "não");
  });
  // Both asked at once: the rules in words are for "Por quê?" only.
  const [vocabulario, regras] = await Promise.all(["/v1/vocabulary", "/v1/rules"].map(async (url) => (await api(url)).json()));
  fuso.nome = vocabulario.time_zone;
  $("agora-formato").textContent = `dd/mm/aaaa hh:mm, ${nomeDoFuso()}`;
  andarRelogio();
  mostrarRelogio();
  setInterval(andarRelogio, 15000);
  for (const fato of vocabulario.facts) estado.fatos.set(fato.path, fato);
  PRINCIPAIS = vocabulario.first_questions;
  ROTINA = vocabulario.routine_phases;
  for (const saida of vocabulario.outputs) SAIDAS.set(saida.name, saida);
  for (const regra of regras) REGRAS.set(regra.rule, regra);
  mostrarFormulario();
  await saude();
  setInterval(saude, 3000);
  await decidir();
}

abrir();
