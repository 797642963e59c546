// Exit 0 when the NATS server at argv[2] has JetStream enabled, 1 otherwise.
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

const nc = await connect({ servers: process.argv[2], timeout: 3000 }).catch(() => process.exit(1));
try {
  await (await jetstreamManager(nc)).getAccountInfo();
  await nc.close();
  process.exit(0);
} catch {
  await nc.close();
  process.exit(1);
}
