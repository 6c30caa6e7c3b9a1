// The "Versões" view (loaded before app.js, whose helpers it calls once
// running).

// "Versões", for process owners and admins: the published releases, what
// each changed, approving one someone else proposed, going back to an
// earlier one (saying why), and the release every replica serves.
const ESTADOS = { ativa: "ativa", proposta: "proposta, esperando aprovação", publicada: "publicada" };
// A stored moment as the bundle's zone reads it.
const dataHora = (iso) => textoDe(noFuso(Date.parse(iso)));

async function versoes() {
  const resposta = await api("/v1/releases");
  const corpo = await resposta.json();
  if (!resposta.ok) {
    $("versoes-aviso").textContent = corpo.error;
    return;
  }
  const lista = corpo.releases;
  if (lista.length === 0) {
    $("versoes-lista").replaceChildren(texto("li", "Nenhuma versão publicada ainda: publique com roteiro publish.", "muted"));
  } else {
    $("versoes-lista").replaceChildren(...lista.map((v, i) => itemDeVersao(v, lista[i + 1])));
  }
  $("versoes-replicas").replaceChildren(
    ...corpo.replicas.map((r) => {
      const versao = r.release ? `versão ${r.release}` : "pasta ou pacote embutido";
      const li = texto("li", `${r.id} · ${r.live ? "no ar" : "parada"} · ${versao}`);
      if (r.release_problem) li.append(texto("span", ` · ${r.release_problem}`, "aviso"));
      return li;
    }),
  );
  if (corpo.replicas.length === 0) $("versoes-replicas").replaceChildren(texto("li", "Nenhuma réplica registrada neste banco.", "muted"));
}

function itemDeVersao(v, anterior) {
  const li = texto("li", undefined, v.state);
  li.dataset.versao = v.version;
  const aprovada = v.approved_by ? `, aprovada por ${v.approved_by}` : "";
  li.append(
    texto("strong", `${v.version} · ${ESTADOS[v.state] ?? v.state}`),
    texto("div", `por ${v.author} em ${dataHora(v.published_at)}${aprovada} · «${v.note}»`, "muted"),
    texto("div", `Impacto ao publicar: ${v.impact.changed} de ${v.impact.compared} decisões recentes mudariam.`, "muted"),
  );
  const acoes = texto("div", undefined, "acoes-versao");
  if (anterior) acoes.append(botao(`O que mudou desde ${anterior.version}`, () => mudancas(anterior.version, v.version)));
  if (v.state === "proposta") acoes.append(botao("Aprovar", () => mudarVersao(v.version, "approve", "")));
  if (v.state === "publicada") {
    const motivo = texto("input");
    motivo.type = "text";
    motivo.placeholder = "por que voltar a esta versão";
    motivo.setAttribute("aria-label", `Motivo para voltar à versão ${v.version}`);
    acoes.append(motivo, botao("Voltar a esta versão", () => mudarVersao(v.version, "activate", motivo.value)));
  }
  li.append(acoes);
  return li;
}

function botao(rotulo, acao) {
  const b = texto("button", rotulo);
  b.type = "button";
  b.addEventListener("click", acao);
  return b;
}

async function mudancas(de, para) {
  const resposta = await api(`/v1/releases/${encodeURIComponent(de)}/diff/${encodeURIComponent(para)}`);
  const corpo = await resposta.json();
  $("versoes-mudancas").hidden = false;
  $("versoes-mudancas-titulo").textContent = `O que mudou de ${de} para ${para}`;
  const linhas = resposta.ok ? corpo.changes : [corpo.error];
  $("versoes-mudancas-linhas").replaceChildren(...(linhas.length ? linhas : ["Nada mudou."]).map((l) => texto("li", l)));
}

async function mudarVersao(versao, verbo, nota) {
  const resposta = await api(`/v1/releases/${encodeURIComponent(versao)}/${verbo}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ note: nota.trim() }),
  });
  const corpo = await resposta.json();
  $("versoes-aviso").textContent = resposta.ok ? "" : corpo.error;
  await versoes();
  await saude();
}
