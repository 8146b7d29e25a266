// The wave demo page in a real browser: Debian's headless Chromium driven by playwright-core,
// with the microphone faked from a hummed WAV of the demo library.
//
//   node demo.test.mjs --url http://127.0.0.1:PORT/ --out DIR [--chromium /usr/bin/chromium]
//
// Checks, each as a user would:
//   1. record: hum into the (fake) microphone, stop; the hummed video is in the top 3, every
//      result has a thumbnail and per-stage scores, and it plays from the matched moment;
//   2. upload: the same hum as a file through the file picker; its video is in the top 3;
//   3. errors: a silent upload and a too-short recording get their messages; a browser that
//      denies the microphone gets the permission message;
//   4. server down: after "READY_FOR_SERVER_STOP" on stdout the driver stops `wave demo` and
//      answers "stopped" on stdin; a search then gets the server-down message.
// Screenshots go to DIR. Prints "all browser checks passed" at the end; exits 1 on a failure.

import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []),
);
const base = new URL(args.url || fail('--url is required'));
const out = args.out || fail('--out is required');
const executablePath = args.chromium || '/usr/bin/chromium';
const TIMEOUT = 180_000; // a search embeds the query on a shared CI core

function fail(msg) {
  console.error(`FAIL: ${msg}`);
  process.exit(1);
}

function check(cond, msg) {
  if (!cond) throw new Error(msg);
  console.log(`ok - ${msg}`);
}

const BROWSER_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

/** A fresh Chromium profile; `mic` is a WAV played once as the microphone. */
async function openBrowser({ mic, grantMic }) {
  const profile = mkdtempSync(join(tmpdir(), 'wave-demo-chromium-'));
  const flags = [...BROWSER_FLAGS, '--use-fake-device-for-media-stream'];
  if (grantMic) flags.push('--use-fake-ui-for-media-stream');
  if (mic) flags.push(`--use-file-for-fake-audio-capture=${mic}%noloop`);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: flags,
    viewport: { width: 1200, height: 900 },
  });
  context.setDefaultTimeout(TIMEOUT);
  const page = context.pages()[0] || (await context.newPage());
  page.on('console', (m) => { if (m.type() === 'error') console.log(`[page] ${m.text()}`); });
  const close = async () => { await context.close(); rmSync(profile, { recursive: true, force: true }); };
  return { page, close };
}

async function openPage(page) {
  await page.goto(base.href);
  await page.waitForSelector('#status.ok');
}

/** Ids of the listed results, best first. */
async function resultIds(page) {
  return page.$$eval('#results li.result', (lis) => lis.map((li) => li.dataset.id));
}

const searches = (page) => page.evaluate(() => Number(document.body.dataset.searches || 0));

/** Runs `action` and waits for the search it starts to end; returns the error shown, if any. */
async function search(page, action) {
  const before = await searches(page);
  await action();
  await page.waitForFunction((n) => Number(document.body.dataset.searches || 0) > n, before);
  return page.$eval('#message', (m) => (m.hidden ? null : { code: m.dataset.code, text: m.textContent }));
}

/** A 16-bit PCM WAV file of `data` (interleaved samples). */
function pcm16Wav(data, rate, channels) {
  const head = Buffer.alloc(44);
  head.write('RIFF', 0); head.writeUInt32LE(36 + data.length, 4); head.write('WAVEfmt ', 8);
  head.writeUInt32LE(16, 16); head.writeUInt16LE(1, 20); head.writeUInt16LE(channels, 22);
  head.writeUInt32LE(rate, 24); head.writeUInt32LE(rate * 2 * channels, 28);
  head.writeUInt16LE(2 * channels, 32); head.writeUInt16LE(16, 34);
  head.write('data', 36); head.writeUInt32LE(data.length, 40);
  return Buffer.concat([head, data]);
}

/** A 16-bit PCM WAV with `seconds` of silence appended. */
function padWithSilence(wav, seconds) {
  let at = 12;
  let fmt = null;
  while (at + 8 <= wav.length) {
    const id = wav.toString('ascii', at, at + 4);
    const size = wav.readUInt32LE(at + 4);
    if (id === 'fmt ') fmt = { channels: wav.readUInt16LE(at + 10), rate: wav.readUInt32LE(at + 12), bits: wav.readUInt16LE(at + 22) };
    if (id === 'data') {
      if (!fmt || fmt.bits !== 16) throw new Error('expected a 16-bit PCM WAV');
      const data = wav.subarray(at + 8, at + 8 + size);
      const pad = Buffer.alloc(2 * fmt.channels * Math.round(fmt.rate * seconds));
      return pcm16Wav(Buffer.concat([data, pad]), fmt.rate, fmt.channels);
    }
    at += 8 + size + (size % 2);
  }
  throw new Error('no data chunk in the WAV');
}

async function waitForLine(want) {
  const rl = createInterface({ input: process.stdin });
  try {
    for await (const line of rl) if (line.trim() === want) return;
  } finally {
    rl.close();
  }
  throw new Error(`stdin closed before "${want}"`);
}

async function main() {
  // Sample hums whose tune only one library video plays: the right answer is unambiguous.
  const { samples } = await (await fetch(new URL('/api/samples', base))).json();
  const perTune = new Map();
  for (const s of samples) perTune.set(s.melody_name, (perTune.get(s.melody_name) || 0) + 1);
  const unique = samples.filter((s) => perTune.get(s.melody_name) === 1);
  check(unique.length >= 1, `the library has hums of ${unique.length} tunes that one video each plays`);
  // The same hum goes in through the microphone and as a file: both paths must reach the
  // engine intact. (How well hum search ranks other tunes is hum-eval's job, not this test's.)
  const micHum = unique[0];
  const uploadHum = micHum;
  const save = async (s, name, padSeconds = 0) => {
    const file = join(out, name);
    const wav = Buffer.from(await (await fetch(new URL(s.url, base))).arrayBuffer());
    writeFileSync(file, padSeconds ? padWithSilence(wav, padSeconds) : wav);
    return file;
  };
  // Chromium's fake microphone plays the file once, then a test tone: trailing silence stands
  // for the moment between the end of the hum and the click on "stop".
  const micFile = await save(micHum, `${micHum.id}.microphone.wav`, 4);
  const uploadFile = await save(uploadHum, `${uploadHum.id}.wav`);

  // A silent WAV (3 s of zeros) for the error path.
  const silentFile = join(out, 'silence.wav');
  writeFileSync(silentFile, pcm16Wav(Buffer.alloc(2 * 16000 * 3), 16000, 1));

  const { page, close } = await openBrowser({ mic: micFile, grantMic: true });
  try {
    await openPage(page);
    check((await page.textContent('#status')).includes('videos in the library'), 'the page shows the library');

    // 1. Record from the fake microphone: the hum plays once, then silence.
    await page.click('#record-button');
    await page.waitForSelector('#record-button.on');
    await page.waitForTimeout(Math.round(micHum.duration_s * 1000) + 800);
    let err = await search(page, () => page.click('#record-button'));
    check(err === null, `the recorded hum is searched (${err && err.text})`);
    const summary = await page.textContent('#summary');
    check(summary.includes('by tune and sound'), `it is a hum search: "${summary}"`);
    let ids = await resultIds(page);
    console.log(`recorded ${micHum.id} (tune "${micHum.melody_name}", video ${micHum.video_id}): top 5 ${ids.slice(0, 5).join(', ')}`);
    await page.screenshot({ path: join(out, 'demo-record.png'), fullPage: true });
    await page.screenshot({ path: join(out, 'demo.png') }); // the first screenful, for the README
    check(ids.slice(0, 3).includes(micHum.video_id), `the hummed video ${micHum.video_id} is in the top 3`);

    const thumbs = await page.$$eval('#results li.result img.thumb', (imgs) => imgs.map((i) => i.complete && i.naturalWidth > 0));
    check(thumbs.length === ids.length && thumbs.every(Boolean), `all ${ids.length} results show a thumbnail`);
    const stages = await page.$$eval('#results li.result:first-child .stages tr', (trs) =>
      Object.fromEntries(trs.slice(1).map((tr) => [tr.className, tr.cells[1].textContent])));
    check(['stage-vector', 'stage-melody', 'stage-fused'].every((k) => k in stages), `per-stage scores are shown: ${JSON.stringify(stages)}`);
    check(stages['stage-melody'] !== '—' && stages['stage-vector'] !== '—', 'the top result has a melody and a sound score');

    // Play the first result from the matched moment.
    const first = page.locator('#results li.result').first();
    await first.locator('button.play').click();
    const video = first.locator('video');
    await video.waitFor();
    const played = await video.evaluate((v) => new Promise((resolve) => {
      const t0 = Number((v.currentSrc.split('#t=')[1] || '0'));
      const done = () => resolve({ t0, t: v.currentTime, error: v.error && v.error.message, src: v.currentSrc });
      if (v.readyState >= 2 && v.currentTime > 0) done();
      else v.addEventListener('timeupdate', done, { once: true });
      v.addEventListener('error', done, { once: true });
    }));
    check(!played.error && played.src.includes('/api/videos/') && played.t >= played.t0,
      `the video plays from the matched moment (#t=${played.t0}, at ${played.t.toFixed(2)} s)`);

    // 2. Upload a hum file.
    err = await search(page, () => page.setInputFiles('#file-input', uploadFile));
    check(err === null, `the uploaded hum is searched (${err && err.text})`);
    ids = await resultIds(page);
    console.log(`uploaded ${uploadHum.id} (tune "${uploadHum.melody_name}", video ${uploadHum.video_id}): top 5 ${ids.slice(0, 5).join(', ')}`);
    check(ids.slice(0, 3).includes(uploadHum.video_id), `the uploaded hum's video ${uploadHum.video_id} is in the top 3`);
    await page.screenshot({ path: join(out, 'demo-upload.png'), fullPage: true });

    // 3. Error paths: silence, and a recording under a second (the fake microphone plays its
    // test tone by now: only the length check can refuse it).
    err = await search(page, () => page.setInputFiles('#file-input', silentFile));
    check(err && err.code === 'silent' && err.text.includes('silence.wav is silent'), `a silent upload is refused: "${err && err.text}"`);
    await page.screenshot({ path: join(out, 'demo-silent.png') });
    await page.click('#record-button');
    await page.waitForSelector('#record-button.on');
    await page.waitForTimeout(300);
    err = await search(page, () => page.click('#record-button'));
    check(err && err.code === 'too_short' && err.text.includes('at least 1 s'), `a 0.3 s recording is refused: "${err && err.text}"`);

    // A browser where the microphone is not allowed.
    const denied = await openBrowser({ mic: micFile, grantMic: false });
    try {
      await openPage(denied.page);
      await denied.page.click('#record-button');
      await denied.page.waitForSelector('#message.error');
      const m = await denied.page.$eval('#message', (e) => ({ code: e.dataset.code, text: e.textContent }));
      check(m.code === 'mic_denied' && m.text.includes('permission was denied'), `a denied microphone is explained: "${m.text}"`);
      await denied.page.screenshot({ path: join(out, 'demo-mic-denied.png') });
    } finally {
      await denied.close();
    }

    // 4. The server goes away while the page is open.
    console.log('READY_FOR_SERVER_STOP');
    await waitForLine('stopped');
    err = await search(page, () => page.setInputFiles('#file-input', uploadFile));
    check(err && err.code === 'server_down' && err.text.includes('not reachable'), `a stopped server is reported: "${err && err.text}"`);
    await page.screenshot({ path: join(out, 'demo-server-down.png') });
  } finally {
    await close();
  }
  console.log('all browser checks passed');
}

main().then(() => process.exit(0), (e) => {
  console.error(`FAIL: ${e.stack || e}`);
  process.exit(1);
});
