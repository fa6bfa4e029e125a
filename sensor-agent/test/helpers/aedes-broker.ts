/** An in-process MQTT broker (aedes 1.x) on 127.0.0.1, port 0 or a given port, for tests. */
import net from 'node:net';
import { Aedes, type AedesPublishPacket, type Client } from 'aedes';

export interface TestBroker {
  broker: Aedes;
  port: number;
  url: string;
  /** Every PUBLISH the broker received from a client (topic, payload, qos, retain), in order. */
  published: { topic: string; payload: Buffer; qos: number; retain: boolean; clientId: string | null }[];
  close(): Promise<void>;
}

export async function startAedes(port = 0): Promise<TestBroker> {
  const broker = await Aedes.createBroker();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  const published: TestBroker['published'] = [];
  broker.on('publish', (packet: AedesPublishPacket, client: Client | null) => {
    if (client === null) return; // the broker's own ($SYS, wills are published with client null)
    published.push({ topic: packet.topic, payload: Buffer.from(packet.payload as Buffer), qos: packet.qos, retain: packet.retain, clientId: client.id });
  });
  let closed = false;
  return {
    broker,
    port: address.port,
    url: `mqtt://127.0.0.1:${address.port}`,
    published,
    async close() {
      if (closed) return;
      closed = true;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}
