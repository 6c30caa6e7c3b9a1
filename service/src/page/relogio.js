// The page's clock and calendar: the bundle's zone, dates typed and shown
// as dd/mm/aaaa HH:MM, and "agora", which follows the real clock unless
// pinned. Loaded before app.js, whose functions it calls once running.

// The bundle's zone (its IANA name, from /v1/vocabulary): every moment is
// typed and shown as its clock reads it, whatever zone the browser is in,
// with the offset the tz database gives that day.
const fuso = { nome: "UTC" };

// `instante` (ms since the epoch) as the zone's clock shows it,
// "AAAA-MM-DDTHH:MM".
function noFuso(instante) {
  const formato = new Intl.DateTimeFormat("en-CA", {
    timeZone: fuso.nome, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
  const partes = Object.fromEntries(formato.formatToParts(new Date(instante)).map((p) => [p.type, p.value]));
  return `${partes.year}-${partes.month}-${partes.day}T${partes.hour}:${partes.minute}`;
}

// The zone's offset at `instante`, in minutes (-180 in Brasília).
function deslocamento(instante) {
  const minuto = Math.floor(instante / 60000) * 60000;
  return (Date.parse(`${noFuso(minuto)}:00Z`) - minuto) / 60000;
}

// A wall time of the zone ("AAAA-MM-DDTHH:MM") in RFC 3339, with the
// zone's offset at that moment ("2026-12-08T10:15:00-03:00").
function comFuso(iso) {
  const parede = Date.parse(`${iso}:00Z`);
  const minutos = deslocamento(parede - deslocamento(parede) * 60000);
  const horas = String(Math.floor(Math.abs(minutos) / 60)).padStart(2, "0");
  return `${iso}:00${minutos < 0 ? "-" : "+"}${horas}:${String(Math.abs(minutos) % 60).padStart(2, "0")}`;
}

// How people call the zone ("Horário Padrão de Brasília").
function nomeDoFuso() {
  const formato = new Intl.DateTimeFormat("pt-BR", { timeZone: fuso.nome, timeZoneName: "long" });
  return formato.formatToParts(new Date()).find((p) => p.type === "timeZoneName")?.value ?? fuso.nome;
}

// Dates and times as people in Brazil read them, dd/mm/aaaa and 24-hour
// HH:MM, typed in text fields: the browser's own date inputs follow its
// locale (an American browser shows 12/08/2026, 10:15 AM).
const DATA = /^(\d{2})\/(\d{2})\/(\d{4})$/;
const DATA_HORA = /^(\d{2})\/(\d{2})\/(\d{4}) (\d{2}):(\d{2})$/;

// "dd/mm/aaaa" or "dd/mm/aaaa HH:MM" as ISO ("AAAA-MM-DD" or
// "AAAA-MM-DDTHH:MM"); undefined for text that is not a real date.
function isoDe(textoDigitado, comHora) {
  const partes = (comHora ? DATA_HORA : DATA).exec(textoDigitado.trim());
  if (!partes) return undefined;
  const [dia, mes, ano, hora = "00", minuto = "00"] = partes.slice(1);
  const data = new Date(Date.UTC(+ano, +mes - 1, +dia, +hora, +minuto));
  const iso = data.toISOString().slice(0, 16);
  if (iso !== `${ano}-${mes}-${dia}T${hora}:${minuto}`) return undefined;
  return comHora ? iso : iso.slice(0, 10);
}

// ISO ("AAAA-MM-DD", or with "THH:MM...") as dd/mm/aaaa [HH:MM].
function textoDe(iso) {
  const [data, hora] = String(iso).split("T");
  const [ano, mes, dia] = data.split("-");
  return hora ? `${dia}/${mes}/${ano} ${hora.slice(0, 5)}` : `${dia}/${mes}/${ano}`;
}

// "Agora" follows the real clock unless the analyst pins a moment.
const relogio = { fixado: false };

function momento() {
  const iso = isoDe($("agora").value, true);
  return iso ? comFuso(iso) : undefined;
}

function mostrarRelogio() {
  $("agora-estado").textContent = relogio.fixado
    ? `Horário fixado em ${$("agora").value}: as regras de tempo não andam sozinhas.`
    : `Seguindo o relógio (${nomeDoFuso()}).`;
  $("seguir-relogio").hidden = !relogio.fixado;
}

// Every 15 s, an unpinned "agora" moves on, and a new minute decides again
// (001's no-show: at 5 minutes the Slack step appears, at 15 the
// cancellation routine, with no one touching the page).
function andarRelogio() {
  if (relogio.fixado) return;
  const agora = textoDe(noFuso(Date.now()));
  if ($("agora").value !== agora) {
    $("agora").value = agora;
    if (estado.iniciado) agendar();
  }
}

function fixarRelogio() {
  const valido = Boolean(isoDe($("agora").value, true));
  $("agora").setAttribute("aria-invalid", String(!valido));
  if (!valido) {
    $("agora-estado").textContent = "Use dd/mm/aaaa hh:mm, por exemplo 08/12/2026 14:30.";
    return;
  }
  relogio.fixado = true;
  mostrarRelogio();
  agendar();
}

function seguirRelogio() {
  relogio.fixado = false;
  $("agora").setAttribute("aria-invalid", "false");
  mostrarRelogio();
  andarRelogio();
  agendar();
}
