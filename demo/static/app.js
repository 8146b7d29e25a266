// wave demo page: record (MediaRecorder) or upload a recording, send it to the gateway
// (POST /api/search), and show the ranked videos with their per-stage scores.
'use strict';

const $ = (id) => document.getElementById(id);

const limits = { min_seconds: 1, max_seconds: 30 };
const rec = { recorder: null, stream: null, chunks: [], started: 0, ticker: null, audio: null };
let busy = false;

// ---- messages -----------------------------------------------------------------------------

function showMessage(kind, text, code) {
  const box = $('message');
  box.hidden = false;
  box.className = `message ${kind}`;
  box.dataset.code = code || '';
  box.textContent = text;
}

function clearMessage() {
  const box = $('message');
  box.hidden = true;
  box.textContent = '';
  box.dataset.code = '';
}

const serverDown = () =>
  `The wave server at ${location.origin} is not reachable: it may have stopped. ` +
  'Start it again with `wave demo`, then retry.';

// ---- server status ------------------------------------------------------------------------

async function loadInfo() {
  try {
    const resp = await fetch('/api/info');
    const data = await resp.json();
    if (!resp.ok) throw new Error(data.error ? data.error.message : resp.statusText);
    Object.assign(limits, data.limits);
    $('status').textContent =
      `${data.videos} videos in the library · ${data.items} items in the store · model ${data.model}`;
    $('status').className = 'status ok';
  } catch (e) {
    $('status').textContent = e instanceof TypeError ? serverDown() : `The search engine is not ready: ${e.message}`;
    $('status').className = 'status down';
  }
}

async function loadSamples() {
  const select = $('sample-select');
  try {
    const data = await (await fetch('/api/samples')).json();
    for (const s of data.samples) {
      const opt = document.createElement('option');
      opt.value = s.id;
      opt.textContent = `${s.melody_name} (${s.duration_s.toFixed(1)} s)`;
      opt.dataset.url = s.url;
      opt.dataset.video = s.video_id;
      select.append(opt);
    }
  } catch (_) {
    // The status line already says the server is down.
  }
  $('sample-button').disabled = select.options.length === 0;
}

// ---- recording ----------------------------------------------------------------------------

function micError(e) {
  switch (e && e.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return ['mic_denied', 'Microphone permission was denied. Allow the microphone for this page ' +
        "(the icon at the left of the address bar), or upload a recording instead."];
    case 'NotFoundError':
    case 'OverconstrainedError':
      return ['no_mic', 'No microphone was found. Plug one in, or upload a recording instead.'];
    case 'NotReadableError':
      return ['mic_busy', 'The microphone is in use by another program or could not be started.'];
    default:
      return ['mic_error', `The microphone could not be opened (${e && e.name}: ${e && e.message}).`];
  }
}

async function startRecording() {
  clearMessage();
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.MediaRecorder) {
    showMessage('error', 'This browser cannot record here: recording needs a secure page (https, or ' +
      'localhost) and a browser with MediaRecorder. Upload a recording instead.', 'no_recorder');
    return;
  }
  let stream;
  try {
    // Raw sound: noise suppression and gain control flatten a hum's pitch and level.
    stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
  } catch (e) {
    const [code, text] = micError(e);
    showMessage('error', text, code);
    return;
  }
  const type = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/webm', 'audio/mp4']
    .find((t) => MediaRecorder.isTypeSupported(t));
  const recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
  rec.recorder = recorder;
  rec.stream = stream;
  rec.chunks = [];
  recorder.ondataavailable = (ev) => { if (ev.data.size > 0) rec.chunks.push(ev.data); };
  recorder.onstop = () => {
    const blob = new Blob(rec.chunks, { type: recorder.mimeType || type || 'audio/webm' });
    stopInputs();
    submit(blob, blob.type, 'the recording');
  };
  recorder.start(250);
  rec.started = performance.now();
  watchLevel(stream);
  setRecording(true);
  rec.ticker = setInterval(() => {
    const s = (performance.now() - rec.started) / 1000;
    $('timer').textContent = `Recording… ${s.toFixed(1)} s (stops at ${limits.max_seconds} s)`;
    if (s >= limits.max_seconds) stopRecording();
  }, 100);
}

function stopRecording() {
  if (rec.recorder && rec.recorder.state !== 'inactive') rec.recorder.stop();
}

function stopInputs() {
  clearInterval(rec.ticker);
  if (rec.stream) rec.stream.getTracks().forEach((t) => t.stop());
  if (rec.audio) rec.audio.close();
  rec.stream = null;
  rec.audio = null;
  $('level').style.width = '0';
  setRecording(false);
}

// A level bar, so the user sees that the microphone hears them.
function watchLevel(stream) {
  try {
    const ctx = new AudioContext();
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 1024;
    ctx.createMediaStreamSource(stream).connect(analyser);
    rec.audio = ctx;
    const buf = new Float32Array(analyser.fftSize);
    const draw = () => {
      if (rec.audio !== ctx) return;
      analyser.getFloatTimeDomainData(buf);
      const rms = Math.sqrt(buf.reduce((a, x) => a + x * x, 0) / buf.length);
      const db = 20 * Math.log10(Math.max(rms, 1e-6));
      $('level').style.width = `${Math.max(0, Math.min(100, (db + 60) * 100 / 60))}%`;
      requestAnimationFrame(draw);
    };
    draw();
  } catch (_) {
    // The meter is a nicety; recording works without it.
  }
}

function setRecording(on) {
  const button = $('record-button');
  button.classList.toggle('on', on);
  button.querySelector('.label').textContent = on ? 'Stop and search' : 'Record';
  button.setAttribute('aria-pressed', on ? 'true' : 'false');
  if (!on) $('timer').textContent = `Hum or whistle a tune for 3–10 seconds (at most ${limits.max_seconds} s), then stop.`;
}

// ---- searching ----------------------------------------------------------------------------

function mode() {
  return document.querySelector('input[name="mode"]:checked').value;
}

function setBusy(on) {
  busy = on;
  // Finished searches, counted for scripts that drive the page.
  if (!on) document.body.dataset.searches = String(Number(document.body.dataset.searches || 0) + 1);
  document.body.classList.toggle('busy', on);
  for (const id of ['sample-button', 'file-input']) $(id).disabled = on;
  $('record-button').disabled = on;
}

async function submit(blob, format, name) {
  if (busy) return;
  setBusy(true);
  showMessage('info', 'Searching…', 'searching');
  const audio = $('query-audio');
  if (audio.src) URL.revokeObjectURL(audio.src);
  audio.src = URL.createObjectURL(blob);
  $('query-name').textContent = name === 'the recording' ? 'Your recording' : name;
  $('query-playback').hidden = false;
  const params = new URLSearchParams({ mode: mode(), format: format || '', name });
  let resp;
  try {
    resp = await fetch(`/api/search?${params}`, {
      method: 'POST',
      body: blob,
      headers: { 'content-type': 'application/octet-stream' },
    });
  } catch (_) {
    setBusy(false);
    showMessage('error', serverDown(), 'server_down');
    $('status').textContent = serverDown();
    $('status').className = 'status down';
    return;
  }
  let data = null;
  try {
    data = await resp.json();
  } catch (_) {
    // Not JSON: a proxy's or the HTTP layer's own answer.
  }
  setBusy(false);
  if (!resp.ok || !data || !data.results) {
    const err = data && data.error;
    showMessage('error', err ? err.message : `The server answered ${resp.status} ${resp.statusText}.`,
      err ? err.code : `http_${resp.status}`);
    return;
  }
  clearMessage();
  render(data);
}

async function submitSample() {
  const opt = $('sample-select').selectedOptions[0];
  if (!opt) return;
  clearMessage();
  try {
    const resp = await fetch(opt.dataset.url);
    if (!resp.ok) throw new Error(`${resp.status} ${resp.statusText}`);
    await submit(await resp.blob(), 'wav', `sample: ${opt.textContent}`);
  } catch (e) {
    showMessage('error', e instanceof TypeError ? serverDown() : `The sample could not be loaded: ${e.message}`,
      e instanceof TypeError ? 'server_down' : 'sample');
  }
}

// ---- results ------------------------------------------------------------------------------

const fmt = (x) => (x === null || x === undefined ? '—' : x.toFixed(3));
const fmtRank = (x) => (x === null || x === undefined ? '—' : `#${x}`);

function clock(s) {
  const m = Math.floor(s / 60);
  return `${m}:${(s - 60 * m).toFixed(1).padStart(4, '0')}`;
}

function render(data) {
  const list = $('results');
  list.replaceChildren();
  const q = data.query;
  const t = data.timings_ms;
  $('summary').textContent =
    `${data.results.length} videos for ${q.name} (${q.duration_s.toFixed(1)} s, ${data.mode === 'hum' ? 'by tune and sound' : 'by sound'}) · ` +
    `decoded in ${t.decode.toFixed(0)} ms, embedded in ${t.embed.toFixed(0)} ms, searched in ${t.search.toFixed(1)} ms`;
  const template = $('result-template');
  for (const r of data.results) {
    const li = template.content.firstElementChild.cloneNode(true);
    li.dataset.id = r.id;
    li.querySelector('.rank').textContent = r.rank;
    li.querySelector('.title').textContent = r.title || r.id;
    li.querySelector('.caption').textContent = r.caption;
    li.querySelector('.id').textContent = r.id;
    const img = li.querySelector('.thumb');
    const play = li.querySelector('.play');
    if (r.thumb_url) {
      img.src = r.thumb_url;
      img.alt = `frame of ${r.title || r.id}`;
    } else {
      img.remove();
    }
    if (r.video_url) {
      li.querySelector('.at').textContent = clock(r.start);
      play.addEventListener('click', () => playAt(li, r));
    } else {
      play.remove();
    }
    const rows = [
      ['vector (sound)', r.stages.vector, r.stages.vector_rank, 'vector'],
      ['melody (tune)', r.stages.melody, r.stages.melody_rank, 'melody'],
      ['fused', r.stages.fused, r.stages.fused_rank, 'fused'],
    ];
    if (r.stages.bm25 !== null && r.stages.bm25 !== undefined) rows.splice(2, 0, ['bm25', r.stages.bm25, r.stages.bm25_rank, 'bm25']);
    if (r.stages.rerank !== null && r.stages.rerank !== undefined) rows.push(['re-embedded', r.stages.rerank, r.stages.rerank_rank, 'rerank']);
    const body = li.querySelector('.stages tbody');
    for (const [label, score, rank, key] of rows) {
      const tr = document.createElement('tr');
      tr.className = `stage-${key}`;
      for (const text of [label, fmt(score), fmtRank(rank)]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      body.append(tr);
    }
    list.append(li);
  }
  if (data.results.length === 0) $('summary').textContent = 'No videos matched.';
}

// Plays a result in place from the matched moment (the URL's #t=start).
function playAt(li, r) {
  const media = li.querySelector('.media');
  let video = media.querySelector('video');
  if (!video) {
    video = document.createElement('video');
    video.controls = true;
    video.playsInline = true;
    video.src = r.video_url;
    const img = media.querySelector('.thumb');
    if (img) img.replaceWith(video); else media.prepend(video);
  } else {
    video.currentTime = r.start;
  }
  video.play().catch(() => { /* the controls stay for a manual start */ });
}

// ---- wiring -------------------------------------------------------------------------------

$('record-button').addEventListener('click', () => {
  if (rec.recorder && rec.recorder.state === 'recording') stopRecording();
  else startRecording();
});
$('file-input').addEventListener('change', (ev) => {
  const file = ev.target.files[0];
  if (file) submit(file, file.type || file.name, file.name);
  ev.target.value = '';
});
$('sample-button').addEventListener('click', submitSample);
loadInfo();
loadSamples();
