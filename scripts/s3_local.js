// The local S3-compatible server (npm s3rver, pinned in package.json): objects kept as files under --directory,
// so they survive a restart. Started by scripts/s3_local.py; argv: <directory> <port> <bucket> <access key>.
'use strict';

const S3rver = require('s3rver');
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account');

const [directory, port, bucket, accessKey] = process.argv.slice(2);
// The stack's fake credentials (the same as DynamoDB Local's): s3rver knows only its own key pair otherwise.
DUMMY_ACCOUNT.createKeyPair(accessKey, accessKey);

const server = new S3rver({
  address: '127.0.0.1',
  port: Number(port),
  directory,
  silent: true,
  configureBuckets: [{ name: bucket, configs: [] }],
});
server.run().then(
  (info) => console.log(`s3rver listening on ${JSON.stringify(info)}`),
  (err) => { console.error(err); process.exit(1); },
);
const stop = () => server.close().then(() => process.exit(0), () => process.exit(1));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
