// Differential test of the state tree's batch update: seeded sequences of blocks (inserts,
// updates, deletes, repeated keys, deleted-then-set and set-then-deleted keys, deletes of
// absent keys, blocks that empty the tree) must give the roots and the exact put/remove
// node sets that the first implementation gave. FIXTURE was recorded from that code
// (commit ec76607) before the tree update was rewritten for speed; every key's proof must
// also verify against each new root with the clients' checker (state-proof.ts).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { verifyStateProof } from './state-proof.js';
import { MemoryStateTree, proveStateKey, type StateTreeUpdate, updateStateTree } from './state-tree.js';

type Write = { key: string; value: string | null };

/** mulberry32: a small seeded generator, so a failing sequence is replayed by its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Blocks of random writes over `keySpace` keys. Values come from a small set, so a key is
 * often set to the value it already holds (the replaced leaf is created again, not removed).
 */
function randomBlocks(seed: number, keySpace: number, blocks: number, maxWrites: number): Write[][] {
  const r = rng(seed);
  const out: Write[][] = [];
  for (let b = 0; b < blocks; b++) {
    const n = Math.floor(r() * (maxWrites + 1));
    const writes: Write[] = [];
    for (let i = 0; i < n; i++) {
      const key = `k/${Math.floor(r() * keySpace)}`;
      const roll = r();
      if (roll < 0.25) writes.push({ key, value: null });
      else if (roll < 0.3) writes.push({ key, value: null }, { key, value: `v${Math.floor(r() * 4)}` });
      else if (roll < 0.35) writes.push({ key, value: `v${Math.floor(r() * 4)}` }, { key, value: null });
      else writes.push({ key, value: `v${Math.floor(r() * 4)}` });
    }
    out.push(writes);
  }
  return out;
}

/** Hand-made edge cases: empty blocks, deletes of absent keys, emptying the tree and refilling it. */
function edgeBlocks(): Write[][] {
  const keys = Array.from({ length: 64 }, (_, i) => `edge/${i}`);
  return [
    [],
    [{ key: 'absent', value: null }],
    [{ key: 'a', value: '1' }],
    [{ key: 'a', value: '1' }],
    [
      { key: 'a', value: null },
      { key: 'a', value: '2' },
      { key: 'b', value: null },
    ],
    [{ key: 'a', value: null }],
    keys.map((key, i) => ({ key, value: `${i}` })),
    keys.filter((_, i) => i % 2 === 0).map((key) => ({ key, value: null })),
    [...keys.map((key) => ({ key, value: null })), { key: 'edge/1', value: 'back' }, { key: 'edge/1', value: null }],
    keys.map((key) => ({ key, value: 'same' })),
    [...keys.map((key) => ({ key, value: 'same' })), { key: 'never', value: null }],
    keys.slice(0, 63).map((key) => ({ key, value: null })),
    [
      { key: 'edge/63', value: null },
      { key: 'edge/0', value: 'x' },
    ],
    [{ key: 'edge/0', value: null }],
  ];
}

/**
 * Keys in pairs whose hashes share their first three bytes (found by search: about one pair
 * per 4,000 keys), so a sort that looks only at a prefix of the hash would misorder them.
 */
function sharedPrefixBlocks(): Write[][] {
  const seen = new Map<string, string>();
  const pairs: string[] = [];
  for (let i = 0; pairs.length < 8; i++) {
    const key = `p/${i}`;
    const prefix = createHash('sha256').update(key).digest('hex').slice(0, 6);
    const other = seen.get(prefix);
    if (other === undefined) seen.set(prefix, key);
    else pairs.push(other, key);
  }
  const filler = Array.from({ length: 40 }, (_, i) => `p/${i}`);
  return [
    [...pairs, ...filler].reverse().map((key) => ({ key, value: key })),
    pairs.filter((_, i) => i % 2 === 0).map((key) => ({ key, value: null })),
    [...pairs.map((key) => ({ key, value: 'again' })), ...filler.map((key) => ({ key, value: null }))],
  ];
}

const SEQUENCES: Record<string, () => Write[][]> = {
  'keys whose hashes share three bytes': sharedPrefixBlocks,
  edges: edgeBlocks,
  'small key space, many blocks (seed 1)': () => randomBlocks(1, 24, 40, 16),
  'small key space, many blocks (seed 2)': () => randomBlocks(2, 60, 30, 40),
  'medium (seed 3)': () => randomBlocks(3, 600, 12, 300),
  'large blocks (seed 4)': () => randomBlocks(4, 5000, 5, 3000),
};

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Digest of an update's node sets, independent of the order the lists come in. */
function digestOf(update: StateTreeUpdate): { put: string; remove: string } {
  const put = update.put.map((n) => `${n.hash}:${hex(n.bytes)}`).sort();
  assert.equal(new Set(put).size, put.length, 'no node is put twice');
  for (const n of update.put) assert.equal(createHash('sha256').update(n.bytes).digest('hex'), n.hash, 'a node is put under its hash');
  const remove = [...update.remove].sort();
  assert.equal(new Set(remove).size, remove.length, 'no node is removed twice');
  return { put: sha(put.join('\n')).slice(0, 16), remove: sha(remove.join('\n')).slice(0, 16) };
}

/** Per sequence and block: the root, the put digest and the remove digest (first 16 hex of each). */
const FIXTURE: Record<string, string[]> = {
  'keys whose hashes share three bytes': [
    'f2700bb7dd356736 128c3d9675181aa3 e3b0c44298fc1c14',
    '0d43535219524d5d e41cba976caa35bf 4115cbcf8bcc80e2',
    '965d05a7d3368341 63c1ca765b3145f8 243a4c7fc079d6b7',
  ],
  edges: [
    '0000000000000000 e3b0c44298fc1c14 e3b0c44298fc1c14',
    '0000000000000000 e3b0c44298fc1c14 e3b0c44298fc1c14',
    '565388d4bc002571 42899e9137718e88 e3b0c44298fc1c14',
    '565388d4bc002571 42899e9137718e88 e3b0c44298fc1c14',
    '9ffb4ff4c7fb63c7 0039dc6c7916f5d4 1b35751f77aa044a',
    '0000000000000000 e3b0c44298fc1c14 cd76e3d5f82956f1',
    'e195dbf6b9e44a93 cca3e23d45c6e8f4 e3b0c44298fc1c14',
    '32c7b1dbeb7ca266 406ebcf059354fd7 7833dcfa6f8aa567',
    '0000000000000000 e3b0c44298fc1c14 0ea4fed573f8fc87',
    '3ba5cad7f2fc3098 6516119673d119ab e3b0c44298fc1c14',
    '3ba5cad7f2fc3098 6516119673d119ab e3b0c44298fc1c14',
    '5fe177f81aa256b9 e3b0c44298fc1c14 e104fc1bf5d75869',
    'fef0ed1cf8181df4 d83607cab3093f10 45876abbf76e42de',
    '0000000000000000 e3b0c44298fc1c14 3a08aec19d893297',
  ],
  'small key space, many blocks (seed 1)': [
    '775d993e59aaf2de bfe047c1fd3fed30 e3b0c44298fc1c14',
    '79303fc8978e4e58 d2ebde96926acd9f c65086b2920913ee',
    'f53b6694ea761a39 c3ad0e7646f39441 55f146e435589dae',
    '8eb1c61f6eef6a67 d24f426b09bf1618 d71eaed10e86eafc',
    '8eb1c61f6eef6a67 38f3bdabbcf0ee74 e3b0c44298fc1c14',
    '493f87342f872470 5c048cd731bf2aad 55170de8c04060b9',
    '941ab3c475e89349 878379da23658e4d b176acfc35820bcd',
    '3d5babe73f89c1e3 014f5759858cd17d ceaec121a3e6f65b',
    'f80f7670ddb60c68 3784129bf04e2bd7 c648a3948e8f3a20',
    '6806b52263f8f6ec 73d70e3275414dee 3c5e48d2e123fce2',
    '6806b52263f8f6ec e3b0c44298fc1c14 e3b0c44298fc1c14',
    '1c1a0b577f3c8fdd ae589254d37e2c72 0836d379a4be3118',
    '1badff56a253960f 125a3708c403d014 eecc5959c1cfe581',
    '6e890e6e834d18ce 852f3f74a3adee68 871735d5569591a0',
    '6c4941134a5dfd20 1ddfbf650a65fe8f e4762874dc64a9a1',
    'fdb84913ee3c9627 af115ddeea599f0a fb94b1cf948d44be',
    'fdb84913ee3c9627 948ec49bfe09809e e3b0c44298fc1c14',
    'fdb84913ee3c9627 e3b0c44298fc1c14 e3b0c44298fc1c14',
    'b39d1394c7ea8c14 237b56a959f9ea84 1483ba4d44c24639',
    '1dd8235d060b3de9 6cd00e1d0ad3acb6 9ca7c7c56a190e8f',
    'cd6ff246de635f6c af2a52e3e06ad582 2fef8557097fcf4e',
    '20c83ecc023a5e92 81d4aa4a7a3fa528 d8a33102f7b204b2',
    'eb32f82330a21598 a39b1af7dd7c877a 04fdd949cbb67dbc',
    '46fa64218c31a453 3863bae082ed7aeb 1e498dfe00cca482',
    '353f9443a5c60b19 0478a3f2ff6e7474 1cd8edb684f09e92',
    'fa0f25aa9e4291ab 050d6e386d9647d1 300df74f3ba21b73',
    'dc5d4f7218e2908e 197e785d00b74189 c3dca6007dbea4be',
    'a0a92db7dc1a6fbb 638eab726068ebd7 1c79c7a29ef29020',
    'c9c1ea68de44efa9 d55a35ed4bf5d739 bcd984c8fa161287',
    '808bf812c7a97cdb 1349cb0260ba584d 70c185fe645d691f',
    '9e22d1ac883d092a a47921bb154c3316 0ea3d5801098d4c5',
    '3683e846418ff095 983efd24a9bbe9f7 03015c4a7475bad1',
    'fe0f54269cf78e5e e74fc7c339c2e822 fdec77e866e59bbd',
    'fe0f54269cf78e5e 84fb30b0c4bee201 e3b0c44298fc1c14',
    'e9ae5a1fa7001e33 a0e89d03508077dd 7de02a809e3ff937',
    'd7e10fd77ca45f25 7a403a253b91760b de0cecb46fa0307d',
    '36b615d5a546b885 7a6870cae323a23d 7c17de87ae4f9be1',
    'c30b8c6d5ecd234e 6a6ace3cd20dd8db 024bc2fdea5e1b64',
    'c7584fc0c5ab1eb3 87c4973bef1c7ead 9d5a5afd14607196',
    'ca701a17ed31f4f0 ec2c06bd4e24f2bc 5df5624963b8d0f6',
  ],
  'small key space, many blocks (seed 2)': [
    '810c48a5a39b9ed2 8465dcd8d59bf1c1 e3b0c44298fc1c14',
    '7117e66899b6c5a0 44f3a0d3e3a9b3d2 71f197b6ab11ad5b',
    'afea647fc1bb74c7 63cdd2fed43213c0 ac4b56e482b772a0',
    'f2fc4926ab958b9d af1e76d69b72dd46 ac4f0ea1849aca7f',
    '6f6d908bd8aed639 ed85ab6c42f50a19 bcea239c89a11d0a',
    '5fe9225d919a07e3 013bed0c2d92be45 84a4ef0c0a9bbc40',
    '9e943c6e0c620443 98e0b1b21399aad5 7cb6a30bb8c767cf',
    '4f8ba2c1f937fda1 7565590c03bfbe44 27a5906ab74ac26f',
    '6a72023a229e8cba 6b7ec93332f64d05 7f8d2140f623d6e5',
    '568d783e4af3c2d6 b8416ecd79f8082f 2cc55e6dfdb80fb2',
    'c0d011ba1d4653e1 99660f3bc214090a 430653e964dfa6d8',
    '5828fdd6839c92dc 09ef9ee5db1eb7b3 d04980ecbf363133',
    'c51248a5e43b0981 89efaa34baba9f9b c36d97508165ac90',
    '82ed7c527346e439 b01b4e3aef49541f 140ac26c5ea108cd',
    'db83f7cbe5e6e231 190873b782af33e5 959309fe539fb678',
    'fd6187c5acc9c4ca f1f8a12914f4142b 41fb6228b9f63b20',
    'e9416c199558637b 405a1ffc1d4f670f 765d1106464408b5',
    'd45ce922e178e4cd d77e6de068229e78 55ec02fd04fe0fb8',
    'e5f7b9d71102ee8e fa38ee5f8d883832 045c7b98325bb561',
    'e69c44c307e44efb 79435e4f32d876b5 66ce2a2cddcc41d0',
    '0e561579aaa0a4ea 3f773ae048f3e513 d5f9ac21f882fffa',
    '89fef62f9838ea4a b5d199b932bf27bc 6d2ad9ee153c55ac',
    '7259ba1724abe864 8f8436f0aef45e81 0b082c43ead980a8',
    '22f197b723d11f7a 7b6859ba8cf0598e c77a9e0da3c9f27d',
    '3f0603fefa351c0e ee4c9610938d3409 1f7c376b4659f8a5',
    '67be6899325a5902 7e48ec381061bf5d fc65215758a4e2ff',
    '664f26c6afd0255a ea7ef7fb8b6bd646 4030ebcaa18db472',
    '01ed5a7c4ce69fa1 2712a9c66355dcb5 c76286aa9ddfaf93',
    '499ba91baf51777f ecd1f8e4a74b4876 4a40519ba8058aef',
    'd57d011e7c1e5bca 115b10f1be3abcbe 06505a4843a5e264',
  ],
  'medium (seed 3)': [
    'eb51f8e84982b27b b1edca1b8421a7d3 e3b0c44298fc1c14',
    'f6527388cf84d4b8 78021103123298be 53633deac91bbda2',
    '64a8cb98555b0879 bcdeb503beed2c27 29d073031403e47e',
    'be989d74738c5e4b 467c2d35bcd20f51 f301ae662d0f1fac',
    'af507d14c6689cfd f6f8d1fcc761da88 e8fe9f22dc90e802',
    '5a0d25f18a5064be 7a9eda6e5862e365 05a99ae945e931dd',
    '2e1b97e146a9293f d073722276ce4a37 3a79e0d05d5a5427',
    '5025d58e0278bdf9 3fd829af269f8fe5 e417170cbc2acfa8',
    'b75f0edb2b83aefd df7ef72d280e4476 cf60cbfce883d625',
    '1209660262e588b2 b4d7a65a46d5ea14 5ad00eb4207eead9',
    'cc3ea606171da16f b12ecaebab196d66 a85972baa247d8cd',
    'c0451ddbd9ff7ce9 d61d0afaf4e564c6 7597c1637f649dfd',
  ],
  'large blocks (seed 4)': [
    '8409b8f750fafa36 daaa0bbd8d537737 e3b0c44298fc1c14',
    'f92244ab3e715286 038f755df5d77313 9b90131de91b5900',
    '6d11a65321392668 b2940a4a904f5635 b40143b323dfbcc7',
    '72602e3ec389d260 b45e53e5264a97f9 24373d7553f1270c',
    'f73d330c3c462285 abc2ce16c2e1e809 96a19ca641af8390',
  ],
};

describe('state tree update, differential', () => {
  for (const [name, blocks] of Object.entries(SEQUENCES)) {
    test(`the same roots and node writes as the recorded implementation: ${name}`, () => {
      const tree = new MemoryStateTree();
      const model = new Map<string, string>();
      const everKey = new Set<string>();
      const got: string[] = [];
      for (const writes of blocks()) {
        const update = updateStateTree(tree, tree.root, writes);
        const { put, remove } = digestOf(update);
        got.push(`${update.root.slice(0, 16)} ${put} ${remove}`);
        tree.apply(update);
        for (const w of writes) {
          everKey.add(w.key);
          if (w.value === null) model.delete(w.key);
          else model.set(w.key, w.value);
        }
        for (const key of everKey) {
          const value = model.get(key) ?? null;
          verifyStateProof(tree.root, key, value, proveStateKey(tree, tree.root, key).proof);
        }
      }
      assert.deepEqual(got, FIXTURE[name], JSON.stringify(got));
    });
  }
});
