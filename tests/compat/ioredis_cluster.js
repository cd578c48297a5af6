// ioredis's Cluster client against a Cairn cluster: it reads CLUSTER SLOTS from the node given,
// routes each key to the first node of its slot range, and pipelines per node. Usage:
//   node ioredis_cluster.js PORT
// Exits 0 after every check passed, 1 (printing why) otherwise.
'use strict';

const Redis = require('ioredis');

async function main() {
  const port = Number(process.argv[2]);
  const cluster = new Redis.Cluster([{ host: '127.0.0.1', port }], {
    clusterRetryStrategy: () => null,
    redisOptions: { connectTimeout: 5000 },
  });
  const check = (condition, what) => {
    if (!condition) throw new Error('check failed: ' + what);
  };
  try {
    const nodes = await cluster.cluster('SLOTS');
    check(nodes.length > 0, 'CLUSTER SLOTS has ranges');
    for (let i = 0; i < 200; i++) await cluster.set('io:' + i, String(i));
    for (let i = 0; i < 200; i++) check((await cluster.get('io:' + i)) === String(i), 'GET io:' + i);
    const pipeline = cluster.pipeline();
    for (let i = 0; i < 50; i++) pipeline.incr('{io}counter');
    const results = await pipeline.exec();
    check(results.every(([error]) => error === null), 'pipelined INCRs succeed');
    check((await cluster.get('{io}counter')) === '50', 'the counter is 50');
    await cluster.hset('{io}h', 'a', '1', 'b', '2');
    const hash = await cluster.hgetall('{io}h');
    check(hash.a === '1' && hash.b === '2', 'HGETALL');
    check((await cluster.sadd('{io}s', 'x', 'y')) === 2, 'SADD');
    check((await cluster.smembers('{io}s')).sort().join(',') === 'x,y', 'SMEMBERS');
    check((await cluster.mget('{io}a', '{io}b')).every((v) => v === null), 'MGET in one slot');
    console.log('ok');
  } finally {
    cluster.disconnect();
  }
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : String(error));
  process.exit(1);
});
