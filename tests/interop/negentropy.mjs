// Runs our negentropy (neg_peer, C) against the Negentropy class of the npm
// package @nostr-dev-kit/sync, in both roles, for 0, 1, 100 and 10,000
// differences, and checks that the sets of needed and held ids match exactly.
//
//   node negentropy.mjs PATH/TO/neg_peer
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Negentropy, NegentropyStorage } from '@nostr-dev-kit/sync';

const peerPath = process.argv[2];
if (!peerPath) {
  console.error('usage: node negentropy.mjs PATH/TO/neg_peer');
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'muster-neg-'));

const hex = (b) => Buffer.from(b).toString('hex');
const unhex = (s) => new Uint8Array(Buffer.from(s, 'hex'));

// Item i of the universe; timestamps repeat so bounds need id prefixes.
function item(i) {
  const id = createHash('sha256').update(`item ${i}`).digest();
  return { ts: 1700000000 + Math.floor(i / 3), id: hex(id) };
}

// Two sets over a universe of `base` shared items plus `diff` differences,
// split between the sides (every other difference on each side).
function makeSets(base, diff) {
  const ours = [], theirs = [], onlyOurs = new Set(), onlyTheirs = new Set();
  for (let i = 0; i < base; i++) { const it = item(i); ours.push(it); theirs.push(it); }
  for (let j = 0; j < diff; j++) {
    const it = item(base + j);
    if (j % 2 === 0) { ours.push(it); onlyOurs.add(it.id); } else { theirs.push(it); onlyTheirs.add(it.id); }
  }
  return { ours, theirs, onlyOurs, onlyTheirs };
}

function jsNeg(items, limit) {
  const storage = new NegentropyStorage();
  for (const it of items) storage.insert(it.ts, unhex(it.id));
  storage.seal();
  return new Negentropy(storage, limit);
}

// A line-oriented conversation with the C peer.
function startPeer(role, items, limit) {
  const file = join(dir, `${role}.items`);
  writeFileSync(file, items.map((it) => `${it.ts} ${it.id}`).join('\n') + '\n');
  const child = spawn(peerPath, [role, file, String(limit)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    send: (msg) => child.stdin.write(`msg ${hex(msg)}\n`),
    next: async () => { const r = await lines.next(); if (r.done) throw new Error(`${role} peer exited early`); return r.value; },
    close: () => { child.stdin.end(); return new Promise((res) => child.on('close', res)); },
  };
}

function sameSet(got, want, what) {
  const g = new Set(got);
  if (g.size !== got.length) throw new Error(`${what}: duplicate ids reported`);
  if (g.size !== want.size) throw new Error(`${what}: ${g.size} ids, expected ${want.size}`);
  for (const id of want) if (!g.has(id)) throw new Error(`${what}: missing ${id}`);
}

// C initiates, JS responds: the C side reports have/need.
async function cInitiates(sets, limit) {
  const js = jsNeg(sets.theirs, limit);
  const c = startPeer('initiator', sets.ours, limit);
  const have = [], need = [];
  let rounds = 0;
  let line = await c.next();
  for (;;) {
    if (!line.startsWith('msg ')) throw new Error(`unexpected line ${line}`);
    const reply = await js.reconcile(unhex(line.slice(4)));
    rounds++;
    c.send(reply.nextMessage ?? reply);
    for (;;) {
      line = await c.next();
      if (line.startsWith('have ')) have.push(line.slice(5));
      else if (line.startsWith('need ')) need.push(line.slice(5));
      else break;
    }
    if (line === 'done') break;
  }
  await c.close();
  sameSet(have, sets.onlyOurs, 'C initiator have');
  sameSet(need, sets.onlyTheirs, 'C initiator need');
  return rounds;
}

// JS initiates, C responds: the JS side reports have/need.
async function jsInitiates(sets, limit) {
  const js = jsNeg(sets.ours, limit);
  const c = startPeer('responder', sets.theirs, limit);
  const have = [], need = [];
  let rounds = 0;
  let msg = await js.initiate();
  while (msg) {
    c.send(msg);
    const line = await c.next();
    rounds++;
    const r = await js.reconcile(unhex(line.slice(4)));
    for (const id of r.have) have.push(hex(id));
    for (const id of r.need) need.push(hex(id));
    msg = r.nextMessage;
  }
  await c.close();
  sameSet(have, sets.onlyOurs, 'JS initiator have');
  sameSet(need, sets.onlyTheirs, 'JS initiator need');
  return rounds;
}

let passed = 0, failed = 0;
for (const diff of [0, 1, 100, 10000]) {
  for (const limit of [0, 60000]) {
    const sets = makeSets(20000, diff);
    for (const [name, fn] of [['C initiator', cInitiates], ['JS initiator', jsInitiates]]) {
      try {
        const rounds = await fn(sets, limit);
        console.log(`ok ${name}, ${diff} differences, frame limit ${limit}: ${rounds} round trips`);
        passed++;
      } catch (e) {
        console.log(`FAIL ${name}, ${diff} differences, frame limit ${limit}: ${e.message}`);
        failed++;
      }
    }
  }
}
rmSync(dir, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
